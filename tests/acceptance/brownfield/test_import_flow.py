"""Brownfield as a user runs it, in subprocesses: ``mycopod import --out DIR`` on a varied
cluster, ``mycopod compile`` of each file, a commit, ``mycopod reconcile --once
--approve`` (every guest adopted, no config key changed but the tags), then ``mycopod
plan`` with nothing left to do."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mycopod.pvesim import direct
from mycopod.pvesim.testing import running_simulator
from tests.acceptance.reconcile.test_crash import environment, git
from tests.support import brownfield

IMPORTED = {"win-desk", "ci-web", "db-big", "files", "dns", "ci-clone", "legacy-app"}


def mycopod(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mycopod.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_import_commit_adopt_plan(tmp_path: Path, database_url: str) -> None:
    repo = tmp_path / "declarations"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "owner@example.org")
    git(repo, "config", "user.name", "Owner")
    with running_simulator(task_seconds=0.02, seed=7) as sim:
        brownfield.build(sim)
        env = environment(database_url, sim, tmp_path / "state", repo)
        names = {g.name for g in sim.cluster.guests.values()}
        before = {n: direct.config(sim.cluster, n, current=True) for n in names}

        imported = mycopod(env, "import", "--out", str(repo))
        assert imported.returncode == 0, imported.stderr
        files = sorted(Path(p).name for p in imported.stdout.split())
        assert files == ["no-pool.md", "office.md", "web.md"]
        assert "7 guest(s) in 3 file(s)" in imported.stderr
        for name in files:  # each compiles offline, with the built-in grammar
            compiled = mycopod(env, "compile", str(repo / name), "--json")
            assert compiled.returncode == 0, compiled.stdout + compiled.stderr
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "import the cluster")

        adopted = mycopod(env, "reconcile", "--once", "--approve", "--json")
        assert adopted.returncode == 0, adopted.stdout + adopted.stderr
        run = json.loads(adopted.stdout)
        assert run["status"] == "Succeeded", run
        actions = run["plan"]["actions"]
        assert sorted(a["target"] for a in actions) == sorted(IMPORTED), actions
        assert {a["kind"] for a in actions} == {"adopt"}
        for name in names:
            after = direct.config(sim.cluster, name, current=True)
            tags = set(after.get("tags", "").split(";")) - {""}
            if name in IMPORTED:
                assert "mycopod" in tags, name
            else:  # the templates: untouched, tags and all
                assert after == before[name], name
            untagged = {k: v for k, v in after.items() if k not in ("tags", "digest")}
            assert untagged == {k: v for k, v in before[name].items()
                                if k not in ("tags", "digest")}, name
            assert tags - {"mycopod"} == set(before[name].get("tags", "").split(";")) - {""}

        planned = mycopod(env, "plan")
        assert planned.returncode == 0, planned.stdout + planned.stderr
        assert "No changes" in planned.stdout
