"""``mycopod plan`` and ``mycopod reconcile --once`` with several clusters (issue 17):
``--cluster NAME`` picks the cluster; with several and none named, a usage error lists
them."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.support.clusters import SimProcess, clusters_config
from tests.support.daemon import Repo

from .test_cli import run


def test_plan_and_reconcile_take_the_cluster(tmp_path: Path, database_url: str) -> None:
    repo = Repo(tmp_path)
    for folder in ("site-a", "site-b"):
        (repo.work / folder).mkdir()
    repo.push({"site-a/web.md": "web-1 is a VM with 1 core.\n",
               "site-b/web.md": "web-1 is a VM with 1 core.\n"}, "two sites")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"guests": [{"name": "solo", "cores": 2}]}))
    sims = {name: SimProcess(tmp_path / f"sim-{name}.log") for name in ("a", "b")}
    try:
        for sim in sims.values():
            sim.start()
        config = clusters_config(tmp_path / "mycopod.toml", database_url=database_url,
                                 repo=repo, clusters={n: (s, f"site-{n}/")
                                                      for n, s in sims.items()})
        env = {**os.environ, "MYCOPOD_CONFIG": str(config),
               "MYCOPOD_STATE_DIR": str(tmp_path / "state"), "PYTHONWARNINGS": "ignore"}

        unnamed = run(env, "plan", "--spec", str(spec))
        assert unnamed.returncode == 2 and unnamed.stdout == "", unnamed.stdout
        assert ("several clusters are configured: name one with --cluster NAME (a, b)"
                in unnamed.stderr), unnamed.stderr
        unknown = run(env, "reconcile", "--once", "--cluster", "c", "--spec", str(spec))
        assert unknown.returncode == 2
        assert "--cluster 'c' is not configured; the clusters are: a, b" in unknown.stderr

        applied = run(env, "reconcile", "--once", "--cluster", "b", "--spec", str(spec))
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert "solo" in sims["b"].guests() and "solo" not in sims["a"].guests()
        on_a = run(env, "plan", "--cluster", "a", "--spec", str(spec))
        assert on_a.returncode == 2 and "+ solo" in on_a.stdout, on_a.stdout + on_a.stderr
        on_b = run(env, "plan", "--cluster", "b", "--spec", str(spec))
        assert on_b.returncode == 0 and "No changes" in on_b.stdout, on_b.stdout

        # from the repository: a's folder only
        from_repo = run(env, "reconcile", "--once", "--cluster", "a", "--json")
        assert from_repo.returncode == 0, from_repo.stdout + from_repo.stderr
        assert json.loads(from_repo.stdout)["cluster"] == "a"
        assert "web-1" in sims["a"].guests() and "web-1" not in sims["b"].guests()
    finally:
        for sim in sims.values():
            sim.stop()
