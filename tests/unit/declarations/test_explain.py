"""``mycopod explain FILE``: paragraph -> understood as -> compiler."""

from __future__ import annotations

from pathlib import Path

import pytest

from mycopod import cli


def test_explain_prints_each_paragraph_with_its_reading(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "web.md"
    path.write_text("# Web\n\nWe also need a database server: db-1, a VM with 4 vCPUs.\n\n"
                    "## cache\nA container with 2 cores.\n")
    assert cli.main(["explain", str(path)]) == 0
    out = capsys.readouterr().out
    assert out == (
        f"{path}:3-3\n    We also need a database server: db-1, a VM with 4 vCPUs.\n"
        "  understood as (grammar):\n    db-1 is a VM with 4 cores.\n"
        "  ignored as context: 'We also need a database server'\n\n"
        f"{path}:5-6\n    ## cache\n    A container with 2 cores.\n"
        "  understood as (grammar):\n    cache is a container with 2 cores.\n\n")
