"""What the grammar did not use survives the compile cache (issue 13): a file compiled
whole, the same file from the cache, and a large file compiled paragraph by paragraph
(some paragraphs from their cache) all record the same notes, at the file's lines; a
paragraph the LLM compiled carries none."""

from __future__ import annotations

import asyncpg

from mycopod.config import LlmSettings
from mycopod.declarations import compiler, pipeline
from tests.support.llmserver import Answer, chat_server, spec_json

TEXT = ("> Could we get a web server soon?\n"
        "Since the old box died, web-1 is a VM with 2 cores.\n\ndb-1 is a VM with 1 core.\n")
NOTES = [(1, "ignored as quoted text: '> Could we get a web server soon?'"),
         (2, "ignored as context: 'Since the old box died'")]


async def test_notes_are_recorded_whether_compiled_now_or_cached(db: asyncpg.Pool) -> None:
    cold = await pipeline.compile_files_cached({"web.md": TEXT}, pool=db)
    assert cold.error is None
    [record] = cold.files
    assert (record.cached, sorted(record.ignored)) == (False, NOTES)
    warm = await pipeline.compile_files_cached({"other/web.md": TEXT}, pool=db)
    [again] = warm.files
    assert (again.cached, sorted(again.ignored)) == (True, NOTES)


def many(first: str) -> str:
    return "\n\n".join([first, *(f"g-{i} is a stopped VM with 1 cores." for i in range(1, 20))]
                       ) + "\n"


async def test_a_file_compiled_paragraph_by_paragraph_keeps_its_notes_at_file_lines(
        db: asyncpg.Pool) -> None:
    text = many("g-0 is a stopped VM with 1 cores.").replace(
        "g-7 is", "As discussed, g-7 is")
    cold = await pipeline.compile_files_cached({"fleet.md": text}, pool=db)
    assert cold.error is None and cold.paragraphs_compiled == 20
    [record] = cold.files
    line = text.splitlines().index("As discussed, g-7 is a stopped VM with 1 cores.") + 1
    assert record.ignored == [(line, "ignored as context: 'As discussed'")]
    assert line == 15
    # one paragraph changed: the note of g-7 comes from its paragraph's cache row
    changed = text.replace("g-0 is a stopped VM with 1 cores.", "g-0 is a stopped VM.")
    warm = await pipeline.compile_files_cached({"fleet.md": changed}, pool=db)
    assert (warm.paragraphs_compiled, warm.paragraphs_reused) == (1, 19)
    assert warm.files[0].ignored == [(15, "ignored as context: 'As discussed'")]
    rows = await db.fetch("SELECT ignored FROM compile_cache WHERE compiler = "
                          "'grammar-paragraph' AND ignored <> '[]'::jsonb")
    assert [r["ignored"] for r in rows] == [[[1, "ignored as context: 'As discussed'"]]]


async def test_a_paragraph_the_llm_compiled_carries_no_grammar_notes() -> None:
    """The grammar's notes come from the compile in which the refused paragraph was
    blanked out: the grammar paragraphs keep theirs, the LLM's paragraph has none."""
    refused = "As discussed, web-2 should be a beefy machine with 4 cores, please and thanks."
    text = f"As discussed, web-1 is a VM with 2 cores.\n\n{refused}\n"
    async with chat_server([Answer(spec_json(name="web-2", cores=4))]) as server:
        result = await compiler.compile_file("w.md", text, llm=LlmSettings(
            model="openai/test-model", api_base=server.url, api_key="sk-test", timeout=10))
    assert len(server.requests) == 1
    assert [(p.first, p.by, p.ignored) for p in result.paragraphs] == [
        (1, "grammar", ("ignored as context: 'As discussed'",)),
        (3, "openai/test-model", ())]
    assert result.notes == ((1, "ignored as context: 'As discussed'"),)
