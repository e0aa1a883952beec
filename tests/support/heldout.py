"""The held-out measurement of issue 13: notes nobody on the grammar's team wrote or saw.

``tests/unit/declarations/heldout/notes.jsonl`` holds notes about machines written the way
homelab and small-business admins jot them down, one JSON object a line: the ``text``,
the guests it states (``expect``, in the stored form of :func:`mycopod.spec.spec_dict`:
only what the text states) and the ``style`` (who wrote it). ``impossible.jsonl`` holds
requests the spec cannot express. A second set, written by someone else, sits in
``heldout2/`` in the same format: :func:`measure` takes the folder, :func:`folder` finds a
set by name. Each note is compiled offline by the grammar alone
(:func:`mycopod.declarations.grammar.compile_text`) and counted as

- *exact*: it compiles to exactly the expected spec;
- *refused*: the grammar raised :class:`~mycopod.declarations.grammar.CompileError`;
- *wrong*: it compiled (or crashed with another exception), but not to the expected spec.

A note marked ``"facts_needed": true`` says ``on pve2`` without saying what pve2 is: offline
it can only be refused. Such notes are also compiled as a connected ``mycopod compile``
would, with the cluster's names known (:func:`cluster_places`: every node, storage, bridge
and pool the set's notes expect), and counted apart (``facts_needed`` in the summary); the
main figures stay offline.

Used by ``tests/unit/declarations/test_heldout.py`` and ``bench/heldout.py``. The tests
ask :func:`measured`: one measurement of a set per test session, which
``test_heldout_sets.py`` and ``test_heldout_facts.py`` share.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mycopod.declarations import grammar
from mycopod.spec import parse_spec, spec_dict

HELDOUT = Path(__file__).resolve().parents[1] / "unit" / "declarations" / "heldout"
NOTES = HELDOUT / "notes.jsonl"
IMPOSSIBLE = HELDOUT / "impossible.jsonl"
FILENAME = "heldout.md"


def load(path: Path) -> list[dict[str, Any]]:
    """One JSON object a line; a malformed line names the file and the line."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path.name} line {number}: not JSON ({exc})") from None
    return items


def expected(note: dict[str, Any]) -> dict[str, Any]:
    """The note's expected spec in stored form (validated by the spec model)."""
    return spec_dict(parse_spec({"guests": note["expect"]}))


def cluster_places(notes: list[dict[str, Any]]) -> grammar.Places:
    """The names a cluster running the set's notes would have: every node, storage, bridge
    and pool any note expects (what ``mycopod compile`` reads from Proxmox when online)."""
    found: dict[str, set[str]] = {"node": set(), "storage": set(), "bridge": set(),
                                  "pool": set()}
    for note in notes:
        for guest in expected(note)["guests"]:
            for key in ("node", "pool"):
                if guest.get(key):
                    found[key].add(guest[key])
            found["storage"].update(d["storage"] for d in guest.get("disks", ())
                                    if d.get("storage"))
            found["bridge"].update(n["bridge"] for n in guest.get("networks", ())
                                   if n.get("bridge"))
    return grammar.Places(nodes=frozenset(found["node"]), storages=frozenset(found["storage"]),
                          bridges=frozenset(found["bridge"]), pools=frozenset(found["pool"]))


@dataclass
class Outcome:
    note: dict[str, Any]
    verdict: str  # exact, refused or wrong
    error: str | None = None
    got: Any = None
    want: Any = None


@dataclass
class Figures:
    outcomes: list[Outcome] = field(default_factory=list)
    impossible: list[tuple[str, str | None]] = field(default_factory=list)
    #: the ``facts_needed`` notes compiled with the cluster's names known
    with_facts: list[Outcome] = field(default_factory=list)

    def counts(self, style: str | None = None) -> dict[str, Any]:
        chosen = [o for o in self.outcomes if style is None or o.note["style"] == style]
        tally = Counter(o.verdict for o in chosen)
        total = len(chosen)
        return {"notes": total, "exact": tally["exact"], "refused": tally["refused"],
                "wrong": tally["wrong"],
                "exact_rate": round(tally["exact"] / total, 3) if total else None}

    def summary(self) -> dict[str, Any]:
        styles = sorted({o.note["style"] for o in self.outcomes})
        refused = [error for _, error in self.impossible if error is not None]
        return {
            "overall": self.counts(),
            "by_style": {style: self.counts(style) for style in styles},
            "impossible": len(self.impossible),
            "impossible_refused": len(refused),
            "facts_needed": self.facts_counts(),
        }

    def facts_counts(self) -> dict[str, int]:
        tally = Counter(o.verdict for o in self.with_facts)
        return {"notes": len(self.with_facts), "exact_with_facts": tally["exact"],
                "refused_with_facts": tally["refused"], "wrong_with_facts": tally["wrong"]}

    def details(self) -> dict[str, Any]:
        """The summary plus every refused and wrong note (and any impossible request that
        was not refused), with the compiler's message or what came out."""
        return {
            **self.summary(),
            "refused_notes": [{"style": o.note["style"], "text": o.note["text"],
                               "error": o.error}
                              for o in self.outcomes if o.verdict == "refused"],
            "wrong_notes": [{"style": o.note["style"], "text": o.note["text"],
                             "got": o.got, "want": o.want}
                            for o in self.outcomes if o.verdict == "wrong"],
            "impossible_not_refused": [text for text, error in self.impossible
                                       if error is None],
        }


def compile_note(text: str, places: grammar.Places | None = None) -> dict[str, Any]:
    """The stored form of what the grammar makes of ``text`` (raises CompileError),
    offline unless the cluster's ``places`` are given."""
    return spec_dict(grammar.compile_text(text + "\n", filename=FILENAME, places=places))


def judge(note: dict[str, Any], places: grammar.Places | None = None) -> Outcome:
    want = expected(note)
    try:
        got = compile_note(note["text"], places)
    except grammar.CompileError as exc:
        return Outcome(note, "refused", error=str(exc), want=want)
    except Exception as exc:  # a crash is not a refusal: counted as wrong
        return Outcome(note, "wrong", got=f"crash: {type(exc).__name__}: {exc}", want=want)
    return Outcome(note, "exact" if got == want else "wrong", got=got, want=want)


def refusal(text: str) -> str | None:
    """The grammar's message refusing ``text``, or None when it compiled (or crashed)."""
    try:
        compile_note(text)
    except grammar.CompileError as exc:
        return str(exc)
    except Exception:  # a crash is not a clear refusal
        return None
    return None


def folder(name: str) -> Path:
    """The folder of a held-out set by its name (``heldout``, ``heldout2``, ...)."""
    path = HELDOUT.parent / name
    if not (path / "notes.jsonl").is_file() or not (path / "impossible.jsonl").is_file():
        sets = sorted(p.name for p in HELDOUT.parent.glob("heldout*")
                      if (p / "notes.jsonl").is_file())
        raise ValueError(f"no held-out set {name!r}: it needs {path}/notes.jsonl and "
                         f"impossible.jsonl; the sets are {', '.join(sets)}")
    return path


def measure(where: Path = HELDOUT) -> Figures:
    """Measure the set in ``where`` (the first set unless told)."""
    figures = Figures()
    notes = load(where / NOTES.name)
    figures.outcomes = [judge(note) for note in notes]
    places = cluster_places(notes)
    figures.with_facts = [judge(note, places) for note in notes if note.get("facts_needed")]
    figures.impossible = [(item["text"], refusal(item["text"]))
                          for item in load(where / IMPOSSIBLE.name)]
    return figures


@functools.cache
def measured(name: str = HELDOUT.name) -> Figures:
    """The figures of the set ``name``, measured once per process (the tests of several
    modules read the same set; they only read the figures, never change them)."""
    return measure(folder(name))
