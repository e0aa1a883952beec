"""What the grammar deliberately did not use goes with its paragraph (issue 13, "no word is
ever silently ignored"): in the compile result, and printed once by ``mycopod compile`` and
``mycopod explain`` from that result, the file compiled by the grammar once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mycopod import cli
from mycopod.declarations import compiler, paragraphs
from tests.support.grammar import count_compiles

QUOTE = "> Could we get a web server <b>soon</b>? `x`"
TEXT = (f"{QUOTE}\nSince the old box died, web-1 is a VM with 2 cores and 4 GB of RAM.\n\n"
        "db-1 is a container with 1 core.\n")
QUOTED = f"ignored as quoted text: {QUOTE!r}"
CONTEXT = "ignored as context: 'Since the old box died'"


def test_the_compile_result_lists_both_with_their_paragraph() -> None:
    result = asyncio.run(compiler.compile_file("web.md", TEXT))
    first, second = result.paragraphs
    assert (first.first, first.last, first.ignored) == (1, 2, (QUOTED, CONTEXT))
    assert first.understood_as == "web-1 is a VM with 2 cores and 4 GB of RAM."
    assert (second.first, second.ignored) == (4, ())
    assert sorted(result.notes) == [(1, QUOTED), (2, CONTEXT)]


def test_a_note_on_no_paragraph_goes_to_the_next_one_and_none_is_dropped() -> None:
    found = paragraphs.split("# Title\n\nweb-1 is a VM.\n\ndb-1 is a VM.\n")
    assert paragraphs.placed(found, [(5, "b"), (1, "a"), (3, "c"), (9, "d")]) == [
        ("a", "c"), ("b", "d")]
    assert paragraphs.placed([], [(1, "a")]) == []


@pytest.fixture
def whole_compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each whole file's text the real grammar compiled, once per compile
    (:func:`tests.support.grammar.count_compiles`)."""
    return count_compiles(monkeypatch)


def test_explain_prints_each_note_once_under_its_paragraph(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        whole_compiles: list[str]) -> None:
    path = tmp_path / "web.md"
    path.write_text(TEXT)
    assert cli.main(["explain", "--offline", str(path)]) == 0
    out = capsys.readouterr().out
    assert out == (
        f"{path}:1-2\n    {QUOTE}\n"
        "    Since the old box died, web-1 is a VM with 2 cores and 4 GB of RAM.\n"
        "  understood as (grammar):\n    web-1 is a VM with 2 cores and 4 GB of RAM.\n"
        f"  {QUOTED}\n  {CONTEXT}\n\n"
        f"{path}:4-4\n    db-1 is a container with 1 core.\n"
        "  understood as (grammar):\n    db-1 is a container with 1 cores.\n\n")
    assert whole_compiles.count(TEXT) == 1


def test_compile_prints_each_note_once_by_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        whole_compiles: list[str]) -> None:
    path = tmp_path / "web.md"
    path.write_text(TEXT)
    other = tmp_path / "plain.md"
    other.write_text("As discussed, cache-1 is a container.\n")
    assert cli.main(["compile", "--offline", str(path), str(other)]) == 0
    captured = capsys.readouterr()
    assert "web-1 is a VM" in captured.out and QUOTE not in captured.out
    assert captured.err.splitlines() == [
        f"{other}:1: ignored as context: 'As discussed'",
        f"{path}:1: {QUOTED}", f"{path}:2: {CONTEXT}"]
    assert whole_compiles.count(TEXT) == 1
    assert whole_compiles.count(other.read_text()) == 1
