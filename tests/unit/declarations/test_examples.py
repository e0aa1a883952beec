"""Every shared example compiles to its JSON exactly, through the library and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mycopod import cli
from mycopod import spec as specmod
from mycopod.declarations import grammar, render

EXAMPLES = sorted((Path(__file__).parent / "examples").glob("*.md"))


def test_there_are_fourteen_examples() -> None:
    assert len(EXAMPLES) == 14


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_compiles_exactly(path: Path) -> None:
    expected = json.loads(path.with_suffix(".json").read_text())
    spec = grammar.compile_text(path.read_text(), filename=path.name)
    assert_contract(json.loads(specmod.canonical_json(spec)), expected)
    assert specmod.parse_spec(expected) == spec


def assert_contract(got: dict[str, Any], expected: dict[str, Any]) -> None:
    """Every field of the example as given; the whole-guest fields added since the example
    was written print as null or [] (the example does not state them)."""
    assert len(got["guests"]) == len(expected["guests"])
    for have, want in zip(got["guests"], expected["guests"], strict=True):
        assert {k: have[k] for k in want} == want
        assert all(have[k] in (None, []) for k in set(have) - set(want)), have


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_render_round_trips(path: Path) -> None:
    spec = grammar.compile_text(path.read_text(), filename=path.name)
    assert grammar.compile_text(render.render(spec)) == spec


def test_cli_json_prints_the_canonical_spec(capsys: pytest.CaptureFixture[str]) -> None:
    path = EXAMPLES[2]
    assert cli.main(["compile", str(path), "--json"]) == 0
    out = capsys.readouterr().out
    assert_contract(json.loads(out), json.loads(path.with_suffix(".json").read_text()))


def test_cli_renders_several_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["compile", str(EXAMPLES[0]), str(EXAMPLES[4])]) == 0
    out = capsys.readouterr().out
    # only what the text states is written back: example 01 states its disk and state
    assert ("web-1 is a VM with 2 cores, 4 GB of RAM and a 32 GB disk on local-lvm. It "
            "should be running.") in out
    assert "build-runner is a VM with 8 cores and 8 GB of RAM. It should be stopped." in out


def test_cli_errors_go_to_stderr_with_exit_1(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text("# Lab\n\nweb-1 is a VM with 2 GPUs.\n")
    assert cli.main(["compile", str(bad), "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{bad}:3: could not understand \"2 GPUs\"" in captured.err


def test_cli_duplicate_across_files_names_both(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.md").write_text("web-1 is a VM.\n")
    (tmp_path / "b.md").write_text("web-1 is a container.\n")
    assert cli.main(["compile", str(tmp_path / "a.md"), str(tmp_path / "b.md")]) == 1
    err = capsys.readouterr().err
    assert f"web-1 is declared twice: in {tmp_path / 'a.md'} and in {tmp_path / 'b.md'}" in err
