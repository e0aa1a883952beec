"""Each file is compiled once, and "understood as" is rendered from that compile: the
grammar never compiles a paragraph again only to show it (issue 13's "understood as";
``hybrid.understood`` used to compile every paragraph a second time, alone)."""

from __future__ import annotations

import asyncio

import pytest

from mycopod.declarations import compiler, grounding
from tests.support import sameresults
from tests.support.grammar import count_compiles

TEXT = ("web-1 is a VM with 2 cores and 4 GB of RAM.\n\n"
        "db-1 is a container with 1 core. It should be stopped.\n\n"
        "## cache-1\n\nA VM with 8 GB of RAM.\n\n"
        "web-1 is tagged frontend.\n")


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the grammar compiles (:func:`tests.support.grammar.count_compiles`)."""
    return count_compiles(monkeypatch)


def test_a_file_of_paragraphs_is_compiled_once_and_each_paragraph_shown(
        compiles: list[str]) -> None:
    result = asyncio.run(compiler.compile_file("web.md", TEXT))
    assert compiles == [TEXT]
    shown = {p.first: (p.understood_as, p.guests) for p in result.paragraphs}
    assert shown == {
        1: ("web-1 is a VM with 2 cores and 4 GB of RAM, tagged frontend.", ("web-1",)),
        3: ("db-1 is a container with 1 cores. It should be stopped.", ("db-1",)),
        7: ("cache-1 is a VM with 8 GB of RAM.", ("cache-1",)),  # named by its heading
        9: ("web-1 is a VM with 2 cores and 4 GB of RAM, tagged frontend.", ("web-1",)),
    }


def test_a_file_of_one_paragraph_shows_its_whole_spec(compiles: list[str]) -> None:
    text = "Create three VMs named app-1 to app-3, each with 2 cores.\n"
    result = asyncio.run(compiler.compile_file("app.md", text))
    assert compiles == [text]
    (only,) = result.paragraphs
    assert only.guests == ("app-1", "app-2", "app-3")  # app-2 is named by the range only
    assert only.understood_as == ("app-1 is a VM with 2 cores.\n\napp-2 is a VM with 2 "
                                  "cores.\n\napp-3 is a VM with 2 cores.")


def test_named_reads_a_text_once_as_names_reads_it_name_by_name() -> None:
    """``grounding.named`` (one pass over a paragraph, for "understood as") answers as
    ``grounding.names`` does guest by guest, on every text of the corpus and held-out
    sets, asked for their own guests and for the next text's."""
    cases = [r for r in sameresults.load() if r.get("spec")]
    asked = 0
    for case, other in zip(cases, [*cases[1:], cases[0]], strict=True):
        guests = {g["name"] for g in case["spec"]["guests"] + other["spec"]["guests"]}
        guests |= {f"{name}.x" for name in guests} | {"a", "web-1", "db-01"}
        want = {name for name in guests if grounding.names(case["text"], name)}
        assert grounding.named(case["text"], guests) == want, case["text"]
        asked += len(guests)
    assert asked > 5000
