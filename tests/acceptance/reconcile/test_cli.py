"""``mycopod plan`` and ``mycopod reconcile --once`` as an owner runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mycopod.pvesim.testing import running_simulator

from .test_crash import environment, make_repo


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mycopod.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_plan_and_reconcile_exit_codes(tmp_path: Path, database_url: str) -> None:
    repo = make_repo(tmp_path / "declarations")
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps({"guests": [{"name": "solo", "cores": 2}]}))
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"guests": []}))
    with running_simulator(task_seconds=0.02, seed=5) as sim:
        env = environment(database_url, sim, tmp_path / "state", repo)

        planned = run(env, "plan", "--spec", str(spec_file))
        assert planned.returncode == 2, planned.stderr
        assert "+ solo" in planned.stdout and "missing: create VM (2 cores" in planned.stdout
        as_json = run(env, "plan", "--spec", str(spec_file), "--json")
        assert as_json.returncode == 2
        assert [a["kind"] for a in json.loads(as_json.stdout)["actions"]] == ["create", "start"]

        applied = run(env, "reconcile", "--once", "--spec", str(spec_file))
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert "Succeeded" in applied.stdout
        nothing = run(env, "plan", "--spec", str(spec_file))
        assert nothing.returncode == 0 and "No changes" in nothing.stdout
        assert "legacy-app" not in nothing.stdout  # unowned, undeclared: not ours to show

        env["MYCOPOD_POLICY__PRUNE"] = "true"
        waiting = run(env, "reconcile", "--once", "--spec", str(empty))
        assert waiting.returncode == 3, waiting.stdout + waiting.stderr
        assert "AwaitingApproval" in waiting.stdout and "[destructive" in waiting.stdout
        assert "the spec is empty while MycoPod owns guests" in waiting.stdout
        approved = run(env, "reconcile", "--once", "--approve", "--spec", str(empty))
        assert approved.returncode == 0, approved.stdout + approved.stderr
        with sim.cluster.lock:
            assert "solo" not in {g.name for g in sim.cluster.guests.values()}

        from_repo = run(env, "reconcile", "--once")  # the repository: 20 VMs
        assert from_repo.returncode == 0, from_repo.stdout + from_repo.stderr
        with sim.cluster.lock:
            assert sum(g.name.startswith("w-") for g in sim.cluster.guests.values()) == 20


def test_errors_are_one_line(tmp_path: Path, database_url: str) -> None:
    repo = make_repo(tmp_path / "declarations")
    bad = tmp_path / "bad.json"
    bad.write_text('{"guests": [{"name": "Bad_Name"}]}')
    with running_simulator(task_seconds=0.02) as sim:
        env = environment(database_url, sim, tmp_path / "state", repo)
        result = run(env, "plan", "--spec", str(bad))
    assert result.returncode == 1
    assert result.stderr.strip().startswith("mycopod:") and "Bad_Name" in result.stderr
    assert "Traceback" not in result.stderr


def test_plan_and_compile_read_on_pve3_through_the_cluster_and_say_how(
        tmp_path: Path, database_url: str) -> None:
    repo = make_repo(tmp_path / "declarations")
    db_md = tmp_path / "db.md"
    db_md.write_text("# Databases\n\ndb-1 is a VM with 2 cores on pve3.\n")
    with running_simulator(task_seconds=0.02, seed=5) as sim:
        env = environment(database_url, sim, tmp_path / "state", repo)
        planned = run(env, "plan", str(db_md))
        assert planned.returncode == 2, planned.stdout + planned.stderr
        assert "+ db-1 (vm" in planned.stdout
        assert f'from {db_md}:3: "db-1 is a VM with 2 cores on pve3."' in planned.stdout
        assert ("understood by grammar as: db-1 is a VM, on node pve3, with 2 cores."
                in planned.stdout)
        as_json = json.loads(run(env, "plan", str(db_md), "--json").stdout)
        assert [(s["guest"], s["line"], s["compiler"]) for s in as_json["sources"]] == [
            ("db-1", 3, "grammar")]

        compiled = run(env, "compile", str(db_md), "--json")
        assert compiled.returncode == 0, compiled.stderr
        assert json.loads(compiled.stdout)["guests"][0]["node"] == "pve3"
        offline = run(env, "compile", str(db_md), "--offline")
        assert offline.returncode == 1 and 'could not understand "on pve3"' in offline.stderr
        explained = run(env, "explain", str(db_md))
        assert explained.returncode == 0 and "understood as (grammar)" in explained.stdout
        db_md.write_text("db-1 is a VM with 2 cores on pve7.\n")
        unknown = run(env, "compile", str(db_md))
        assert unknown.returncode == 1
        assert "no node, storage, bridge or pool named 'pve7' (nodes: pve1, pve2, pve3;" \
            in unknown.stderr


async def test_an_llm_paragraph_in_the_cli_plan_and_reconcile_waits_for_approve(
        tmp_path: Path, database_url: str) -> None:
    import asyncio

    from tests.support.llmserver import Answer, chat_server, spec_json

    repo = make_repo(tmp_path / "declarations")
    notes = tmp_path / "w.md"
    refused = "web-2 should be a beefy machine with 4 cores, please and thank you."
    notes.write_text(f"web-1 is a VM with 2 cores.\n\n{refused}\n")
    with running_simulator(task_seconds=0.02, seed=5) as sim:
        env = environment(database_url, sim, tmp_path / "state", repo)
        async with chat_server([Answer(spec_json(name="web-2", cores=4))] * 3) as server:
            env.update({"MYCOPOD_LLM__MODEL": "openai/test-model",
                        "MYCOPOD_LLM__API_BASE": server.url,
                        "MYCOPOD_LLM__API_KEY": "sk-test"})
            planned = await asyncio.to_thread(run, env, "plan", str(notes))
            assert planned.returncode == 2, planned.stdout + planned.stderr
            assert ("create       missing: create VM (4 cores" in planned.stdout
                    and "[from the LLM (openai/test-model): needs approval]" in planned.stdout)
            assert f'from {notes}:3: "{refused}"' in planned.stdout
            assert "understood by openai/test-model as: web-2 is a VM with 4 cores." \
                in planned.stdout
            assert "(llm_changes_need_approval)" in planned.stdout
            waiting = await asyncio.to_thread(run, env, "reconcile", "--once", str(notes))
            assert waiting.returncode == 3, waiting.stdout + waiting.stderr
            assert "AwaitingApproval" in waiting.stdout
            with sim.cluster.lock:
                assert "web-2" not in {g.name for g in sim.cluster.guests.values()}
            approved = await asyncio.to_thread(run, env, "reconcile", "--once", "--approve",
                                               str(notes))
            assert approved.returncode == 0, approved.stdout + approved.stderr
        assert len(server.requests) == 1  # the paragraph's answer is cached after the first
        with sim.cluster.lock:
            names = {g.name for g in sim.cluster.guests.values()}
        assert {"web-1", "web-2"} <= names
