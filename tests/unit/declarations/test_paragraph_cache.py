"""The grammar's results paragraph by paragraph (declarations/paragraph_cache.py).

Two promises: a file compiled paragraph by paragraph gives exactly what the whole-file
compile gives (checked on every file of the corpus, the held-out sets and the examples
this way takes), and a cached paragraph is never used where its reading may differ: a
changed paragraph, a neighbour it leans on, changed cluster names and a new grammar
version all compile again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mycopod import spec as specmod
from mycopod.declarations import grammar, paragraph_cache
from mycopod.declarations.pipeline import grammar_version
from mycopod.store.compile_cache import CacheEntry, CacheKey, CacheRow

HERE = Path(__file__).parent
PLACES = grammar.Places(nodes=frozenset({"pve1", "pve2", "pve3"}), storages=frozenset(),
                        bridges=frozenset(), pools=frozenset())


class Memory:
    """An in-memory compile cache with the store's two calls."""

    def __init__(self) -> None:
        self.entries: dict[CacheKey, CacheEntry] = {}

    async def hit_many(self, keys: Sequence[CacheKey]) -> dict[CacheKey, CacheEntry]:
        return {k: self.entries[k] for k in keys if k in self.entries}

    async def put_many(self, entries: Sequence[CacheRow]) -> None:
        for key, spec, error, *rest in entries:
            self.entries[key] = CacheEntry(
                content_sha256=key.content_sha256, compiler=key.compiler, model=key.model,
                prompt_version=key.prompt_version, spec=spec, error=error,
                created_at=datetime.now(UTC), hits=0,
                ignored=[tuple(n) for n in rest[0]] if rest and rest[0] is not None else None)


async def by_paragraphs(text: str, cache: Memory, *, version: str = "g-test",
                        places: grammar.Places | None = None,
                        max_guests: int | None = None
                        ) -> paragraph_cache.ByParagraphs | None:
    placed = f"{version}:{sorted(places.nodes)}" if places is not None else version
    done = await paragraph_cache.compile_by_paragraphs(
        {"f.md": text}, cache=cache, version=version, placed=placed, places=places,
        max_guests=max_guests, workers=None, budget=None)
    return done.get("f.md")


def guests(count: int, *, cores: int = 1, first_cores: int | None = None) -> str:
    return "\n\n".join(
        f"g-{i} is a stopped VM with {first_cores if i == 0 and first_cores else cores} "
        "cores and 1 GB of RAM." for i in range(count)) + "\n"


@pytest.fixture
def any_length(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short files take the paragraph way too (the corpus' files are short)."""
    monkeypatch.setattr(paragraph_cache, "MIN_PARAGRAPHS", 1)


# -- which files may go paragraph by paragraph -----------------------------------------------


@pytest.mark.parametrize("text", [
    "# Web\n\nweb-1 is a VM.\n",
    "web-1 is a VM.\n\n- web-2 is a VM.\n",
    "Get rid of these:\n\nold-1 is a VM.\n",
    "web-1 is a VM. <!-- a comment\n\nweb-2 is a VM. -->\n",
    "| name | cores |\n| web-1 | 2 |\n",
    "**web-1**\n\nA VM with 2 cores.\n",
    "```\nweb-1 is a VM.\n```\n",
    "    web-1 is a VM.\n",
    "web-1 is a VM\n===\n",
    "> web-1 is a VM.\n",
    # an e-mail header at the top reads the whole file as an e-mail (grammar/mail.py)
    "Re: Case 1 - please create a VM called web-1.\n\nweb-2 is a VM.\n",
])
def test_markdown_structure_keeps_the_whole_file(text: str, any_length: None) -> None:
    assert paragraph_cache.pieces(text) is None


def test_plain_paragraphs_are_pieces_from_a_minimum_count() -> None:
    assert paragraph_cache.pieces(guests(paragraph_cache.MIN_PARAGRAPHS - 1)) is None
    found = paragraph_cache.pieces(guests(paragraph_cache.MIN_PARAGRAPHS))
    assert found is not None and len(found) == paragraph_cache.MIN_PARAGRAPHS


# -- the same spec as the whole file ---------------------------------------------------------


def _texts() -> list[str]:
    """Files to compare: corpus and held-out notes, 20 to a file, and the examples."""
    notes: list[str] = []
    for path in sorted([*HERE.glob("corpus/*.jsonl"), *HERE.glob("heldout*/notes.jsonl")]):
        notes += [json.loads(line)["text"] for line in path.read_text().splitlines()
                  if line.strip()]
    files = ["\n\n".join(notes[i:i + 20]) + "\n" for i in range(0, len(notes), 20)]
    files += ["\n\n".join(notes[i:i + 3]) + "\n" for i in range(0, len(notes), 3)]
    files += [p.read_text() for p in sorted(HERE.glob("examples/*.md"))]
    return files


async def test_paragraph_by_paragraph_equals_the_whole_file(any_length: None) -> None:
    """Whenever a file takes the paragraph way, its spec is the whole-file compile's, and
    so are the notes of what the grammar did not use."""
    taken = noted = 0
    for text in _texts():
        for places in (None, PLACES):
            done = await by_paragraphs(text, Memory(), places=places)
            if done is None:
                continue
            taken += 1
            said: list[Any] = []
            whole = grammar.compile_text(text, filename="f.md", places=places, ignored=said)
            assert specmod.spec_dict(done.spec) == specmod.spec_dict(whole), text
            # and what the grammar did not use, at the same lines of the file
            assert sorted(done.notes) == sorted((i.line, i.message) for i in said), text
            noted += bool(said)
    assert taken >= 100 and noted >= 50  # the comparisons are not empty


async def test_a_file_the_grammar_refuses_is_left_to_the_whole_file(any_length: None) -> None:
    cache = Memory()
    assert await by_paragraphs("web-1 is a VM with 2 GPUs.\n\nweb-2 is a VM.\n", cache) is None
    # declared twice across paragraphs: an error only the whole file sees
    assert await by_paragraphs("web-1 is a VM.\n\nweb-1 is a container.\n", cache) is None
    # each paragraph that compiled alone is kept for next time (web-2 and both web-1), the
    # refused one is not
    assert len(cache.entries) == 3
    # more guests than allowed: the whole file gives the limit's own error, and more
    # paragraphs than that are not even compiled one by one
    assert await by_paragraphs(guests(3), cache, max_guests=2) is None
    assert len(cache.entries) == 3
    assert await by_paragraphs(guests(3) + "\ng-4 and g-5 are VMs.\n", cache,
                               max_guests=4) is None
    assert len(cache.entries) == 7


# -- what compiles again ---------------------------------------------------------------------


async def test_a_changed_paragraph_is_the_only_one_compiled() -> None:
    cache = Memory()
    first = await by_paragraphs(guests(20), cache)
    assert first is not None and (first.compiled, first.reused) == (20, 0)
    again = await by_paragraphs(guests(20), cache)
    assert again is not None and (again.compiled, again.reused) == (0, 20)
    changed = await by_paragraphs(guests(20, first_cores=4), cache)
    assert changed is not None and (changed.compiled, changed.reused) == (1, 19)
    assert changed.spec.guest("g-0").cores == 4  # type: ignore[union-attr]
    assert specmod.spec_dict(changed.spec) == specmod.spec_dict(
        grammar.compile_text(guests(20, first_cores=4)))


async def test_a_paragraph_leaning_on_its_neighbour_is_read_with_it(any_length: None) -> None:
    """``It`` in the next paragraph, or a guest added to in another paragraph: the whole
    file is compiled, so a change to the neighbour is never missed."""
    cache = Memory()
    for text in ("web-1 is a VM.\nIt has 2 cores.\n\nweb-2 is a VM.\n\nIt has 4 cores.\n",
                 "web-1 is a VM.\n\nweb-1 has 4 cores.\n",
                 "web-1 is a container.\n\nweb-1 has 4 cores.\n"):
        assert await by_paragraphs(text, cache) is None
    # the same paragraph after another neighbour: the new neighbour's own reading counts
    one = await by_paragraphs("web-1 is a VM with 2 cores.\n\nweb-2 is a VM.\n", cache)
    two = await by_paragraphs("web-1 is a container with 2 cores.\n\nweb-2 is a VM.\n", cache)
    assert one is not None and two is not None and (two.compiled, two.reused) == (1, 1)
    assert [g.kind for g in two.spec.guests] == ["ct", "vm"]


async def test_changed_cluster_names_compile_a_paragraph_saying_on_again() -> None:
    text = guests(19) + "\nweb-1 is a VM on pve3.\n"
    cache = Memory()
    first = await by_paragraphs(text, cache, places=PLACES)
    assert first is not None and first.spec.guest("web-1").node == "pve3"  # type: ignore[union-attr]
    other = grammar.Places(nodes=frozenset({"pve3", "pve4"}), storages=frozenset(),
                           bridges=frozenset(), pools=frozenset())
    # other names: the paragraph saying "on" is read again, the other nineteen reused
    moved = await by_paragraphs(text, cache, places=other)
    assert moved is not None and (moved.compiled, moved.reused) == (1, 19)
    fewer = grammar.Places(nodes=frozenset({"pve1"}), storages=frozenset(),
                           bridges=frozenset(), pools=frozenset())
    # pve3 is no longer a node: read again, refused, so the whole file reports it
    assert await by_paragraphs(text, cache, places=fewer) is None
    again = await by_paragraphs(text, cache, places=PLACES)
    assert again is not None and (again.compiled, again.reused) == (0, 20)


async def test_a_new_grammar_version_compiles_every_paragraph_again() -> None:
    cache = Memory()
    await by_paragraphs(guests(20), cache, version="g-old")
    done = await by_paragraphs(guests(20), cache, version="g-new")
    assert done is not None and (done.compiled, done.reused) == (20, 0)


def test_the_key_holds_the_text_and_the_grammar_version() -> None:
    version = grammar_version()
    key = paragraph_cache.paragraph_key("web-1 is a VM.", version, version + ":x")
    assert key.prompt_version == version and key.compiler == "grammar-paragraph"
    assert key != paragraph_cache.paragraph_key("web-1 is a VM. ", version, version + ":x")
    said = paragraph_cache.paragraph_key("web-1 is a VM on pve3.", version, version + ":x")
    assert said.prompt_version == version + ":x"
    # "to" may place a guest too (after a verb of running, through the cluster's names):
    # its paragraph is keyed with them, never reused across new names
    moved = paragraph_cache.paragraph_key("Move web-1 to pve3.", version, version + ":x")
    assert moved.prompt_version == version + ":x"
