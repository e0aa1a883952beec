"""``mycopod plan`` shows, under each planned guest's "understood as", what the grammar
read in its paragraph and deliberately did not use (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

from mycopod.pvesim.testing import running_simulator

from .test_cli import run
from .test_crash import environment, make_repo

QUOTE = "> Can we get a database server <b>soon</b>? `x`"


def test_plan_shows_what_was_ignored_under_the_paragraph(tmp_path: Path,
                                                          database_url: str) -> None:
    repo = make_repo(tmp_path / "declarations")
    db_md = tmp_path / "db.md"
    db_md.write_text(f"{QUOTE}\nSince the old box died, db-1 is a VM with 2 cores.\n\n"
                     "db-2 is a VM with 1 core.\n")
    with running_simulator(task_seconds=0.02, seed=5) as sim:
        env = environment(database_url, sim, tmp_path / "state", repo)
        planned = run(env, "plan", str(db_md))
        assert planned.returncode == 2, planned.stdout + planned.stderr
        shown = planned.stdout.split("+ db-1 (vm", 1)[1].split("+ db-2", 1)[0]
        assert shown.endswith(
            "      understood by grammar as: db-1 is a VM with 2 cores.\n"
            f"      ignored as quoted text: {QUOTE!r}\n"
            "      ignored as context: 'Since the old box died'\n\n  ")
        assert "ignored" not in planned.stdout.split("+ db-2", 1)[1]
        as_json = json.loads(run(env, "plan", str(db_md), "--json").stdout)
        assert {s["guest"]: s["ignored"] for s in as_json["sources"]} == {
            "db-1": [f"ignored as quoted text: {QUOTE!r}",
                     "ignored as context: 'Since the old box died'"],
            "db-2": []}
