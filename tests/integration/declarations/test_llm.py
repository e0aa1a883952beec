"""The LLM compiler, with litellm calling a local OpenAI-compatible server over HTTP.

litellm is imported by mycopod.declarations.llm with LITELLM_LOCAL_MODEL_COST_MAP=True,
so nothing here reaches the internet.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from mycopod import telemetry
from mycopod.config import LlmSettings, load_settings
from mycopod.declarations import compiler, pipeline
from mycopod.declarations import llm as llmmod
from mycopod.declarations.errors import CompileError, GuestLimitError
from mycopod.declarations.facts import ClusterFacts, StorageFact
from mycopod.declarations.llm import LlmError, compile_with_llm
from tests.support.llmserver import Answer, chat_server, spec_json

TEXT = "web-1 should be a beefy machine with 4 cores, please and thank you.\n"
FACTS = ClusterFacts(nodes=["pve1"], storages=[StorageFact(name="local-lvm",
                                                           content=["images", "rootdir"])],
                     bridges=["vmbr0"])


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llmmod, "RETRY_INITIAL_WAIT", 0.01)


def settings(url: str, timeout: float = 10) -> LlmSettings:
    return LlmSettings(model="openai/test-model", api_base=url, api_key="sk-test",
                       timeout=timeout)


def sample(name: str, **labels: str) -> float:
    return telemetry.REGISTRY.get_sample_value(name, labels) or 0.0


async def test_valid_answer() -> None:
    tokens = sample("mycopod_llm_tokens_total", type="prompt")
    async with chat_server([Answer(spec_json(cores=4))]) as server:
        spec = await compile_with_llm(TEXT, filename="w.md", settings=settings(server.url),
                                      facts=FACTS)
    assert spec.guests[0].cores == 4 and spec.guests[0].memory_mib == 1024
    request = server.requests[0]
    assert request["temperature"] == 0
    assert request["response_format"]["type"] in ("json_schema", "json_object")
    system = request["messages"][0]["content"]
    assert '"memory_mib"' in system and '"local-lvm"' in system and '"pve1"' in system
    assert request["messages"][1] == {"role": "user", "content": TEXT}
    assert sample("mycopod_llm_tokens_total", type="prompt") == tokens + 100


async def test_invalid_json_fails_after_two_corrections() -> None:
    async with chat_server([Answer("{not json")] * 3) as server:
        with pytest.raises(LlmError) as info:
            await compile_with_llm(TEXT, filename="w.md", settings=settings(server.url))
    assert len(server.requests) == 3
    assert str(info.value) == ("its answer was still invalid after 2 corrections: the answer "
                               "is not valid JSON (Expecting property name enclosed in double "
                               "quotes at line 1 column 2)")
    assert info.value.permanent


async def test_schema_violation_is_fed_back_then_valid() -> None:
    answers = [Answer(spec_json(cores=-4)), Answer(spec_json(cores=4))]
    async with chat_server(answers) as server:
        spec = await compile_with_llm(TEXT, filename="w.md", settings=settings(server.url))
    assert spec.guests[0].cores == 4
    feedback = server.requests[1]["messages"][-1]["content"]
    assert feedback.startswith("That answer is invalid: the answer does not match the schema: "
                               "guest 'web-1', field cores: Input should be greater than or "
                               "equal to 1")
    assert server.requests[1]["messages"][-2] == {"role": "assistant",
                                                  "content": spec_json(cores=-4)}


async def test_rate_limit_is_retried() -> None:
    async with chat_server([Answer(status=429), Answer(spec_json())]) as server:
        spec = await compile_with_llm(TEXT, filename="w.md", settings=settings(server.url))
    assert len(server.requests) == 2 and spec.guests[0].name == "web-1"


async def test_server_errors_are_retried_then_reported() -> None:
    async with chat_server([Answer(status=503)] * 4) as server:
        with pytest.raises(LlmError) as info:
            await compile_with_llm(TEXT, filename="w.md", settings=settings(server.url))
    assert len(server.requests) == 4
    assert str(info.value).startswith("the LLM request failed: ")
    assert not info.value.permanent


async def test_hang_past_the_timeout() -> None:
    async with chat_server([Answer(spec_json(), delay=5)]) as server:
        with pytest.raises(LlmError) as info:
            await compile_with_llm(TEXT, filename="w.md",
                                   settings=settings(server.url, timeout=0.5))
    assert str(info.value) == "the LLM did not answer within 0.5 s"
    assert not info.value.permanent


async def test_unknown_storage_is_rejected() -> None:
    bad = spec_json(disks=[{"slot": "scsi0", "storage": "nvme-fast", "size_gib": 50}])
    async with chat_server([Answer(bad)] * 3) as server:
        with pytest.raises(LlmError) as info:
            await compile_with_llm(TEXT, filename="w.md", settings=settings(server.url),
                                   facts=FACTS)
    assert str(info.value) == (
        "its answer was still invalid after 2 corrections: the answer names things the "
        "cluster does not have: guest 'web-1': storage 'nvme-fast' does not exist or cannot "
        "hold VM disks (usable: local-lvm)")
    assert "storage 'nvme-fast' does not exist" in server.requests[1]["messages"][-1]["content"]


async def test_a_refusal_is_reported() -> None:
    async with chat_server([Answer('{"error": "GPU passthrough cannot be expressed"}')]) as srv:
        with pytest.raises(LlmError, match="the LLM says it cannot be expressed: GPU"):
            await compile_with_llm(TEXT, filename="w.md", settings=settings(srv.url))


async def test_llm_only_sees_what_the_grammar_rejects() -> None:
    async with chat_server([Answer(spec_json(cores=4))]) as server:
        grammar_ok = await compiler.compile_file("g.md", "web-1 is a VM.\n",
                                                 llm=settings(server.url))
        llm_ok = await compiler.compile_file("w.md", TEXT, llm=settings(server.url))
    assert (grammar_ok.compiler, llm_ok.compiler, llm_ok.model) == (
        "grammar", "llm", "openai/test-model")
    assert len(server.requests) == 1


async def test_too_many_guests_is_not_sent_to_the_llm(db: asyncpg.Pool) -> None:
    """The grammar understood the file, it declares too much: asking the LLM would only
    give it a second chance to declare it."""
    text = "".join(f"Create 100 VMs named g{i}-1 through g{i}-100.\n" for i in range(3))
    async with chat_server([Answer(spec_json(cores=4))] * 3) as server:
        with pytest.raises(GuestLimitError, match="declarations.max_guests"):
            await compiler.compile_file("w.md", text, llm=settings(server.url), max_guests=250)
        small = load_settings(environ={}, overrides={"declarations": {"max_guests": 250}})
        row = await pipeline.compile_commit({"w.md": text}, "a" * 40, pool=db,
                                            llm=settings(server.url), settings=small)
        assert row.compile_status == "error"
        assert (row.compile_error or "").startswith("w.md:3: at least 300 guests declared")
        row = await pipeline.compile_commit({"w.md": text}, "b" * 40, pool=db,
                                            llm=settings(server.url))
        assert row.compile_status == "ok"  # the default limit (2000) lets 300 through
    assert server.requests == []


async def test_when_both_fail_both_reasons_are_given() -> None:
    async with chat_server([Answer("[]")] * 3) as server:
        with pytest.raises(CompileError) as info:
            await compiler.compile_file("w.md", TEXT, llm=settings(server.url))
    message = str(info.value)
    assert message.startswith("w.md:1: the grammar did not understand it (could not "
                              "understand")
    assert "and the LLM (openai/test-model) could not compile it either: its answer" in message


async def test_pipeline_caches_llm_results(db: asyncpg.Pool, tmp_path: Path) -> None:
    async with chat_server([Answer(spec_json(cores=4))]) as server:
        llm = settings(server.url)
        row = await pipeline.compile_commit({"w.md": TEXT}, "d" * 40, pool=db, llm=llm)
        again = await pipeline.compile_commit({"w.md": TEXT}, "e" * 40, pool=db, llm=llm)
    assert len(server.requests) == 1
    assert row.compile_status == "ok" and row.spec is not None
    assert [(f.compiler, f.model, f.cached) for f in row.files] == [
        ("llm", "openai/test-model", False)]
    assert [(f.compiler, f.cached) for f in again.files] == [("llm", True)]
    assert again.spec == row.spec


async def test_pipeline_does_not_cache_a_timeout(db: asyncpg.Pool) -> None:
    answers = [Answer(spec_json(), delay=3), Answer(spec_json(cores=4))]
    async with chat_server(answers) as server:
        llm = settings(server.url, timeout=0.5)
        row = await pipeline.compile_commit({"w.md": TEXT}, "f" * 40, pool=db, llm=llm)
        # the paragraph is reported and left out; nothing else of the file was understood
        assert row.compile_status == "ok" and row.incomplete
        assert row.spec is not None and row.spec.guests == []
        assert (row.files[0].error or "").endswith(
            "could not compile it either: the LLM did not answer within 0.5 s")
        again = await pipeline.compile_commit({"w.md": TEXT}, "f" * 40, pool=db, llm=llm)
    assert again.compile_status == "ok" and not again.incomplete
    assert again.spec is not None and again.spec.guests[0].cores == 4


async def test_schema_capable_models_get_a_json_schema_response_format() -> None:
    async with chat_server([Answer(spec_json())]) as server:
        llm = LlmSettings(model="openai/gpt-4o-mini", api_base=server.url, api_key="sk-test")
        await compile_with_llm(TEXT, filename="w.md", settings=llm)
    response_format = server.requests[0]["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["schema"]["$defs"]["GuestSpec"]["required"] == [
        "name"]


async def test_json_mode_for_models_without_schema_support() -> None:
    async with chat_server([Answer(spec_json())]) as server:
        await compile_with_llm(TEXT, filename="w.md", settings=settings(server.url))
    assert server.requests[0]["response_format"] == {"type": "json_object"}
