"""Every result of the grammar over the team's notes, to prove speed work changes nothing.

``tests/unit/declarations/same_results.jsonl`` holds, one JSON object a line, what the
grammar made of every text of the phrasing corpus (``corpus/*.jsonl``, with the
impossible requests and the texts that declare nothing), of every held-out set
(``heldout*/notes.jsonl`` and ``impossible.jsonl``; the ``facts_needed`` notes once more
with the set's cluster names), of the examples (``examples/*.md``) and of the few files
of :data:`EXTRA`:

- ``spec``: the stored form (:func:`mycopod.spec.spec_dict`) or None when refused;
- ``error``: the :class:`~mycopod.declarations.errors.CompileError` text, or None;
- ``ignored``: what the compile read and did not use (``file:line: note``);
- ``paragraphs``: each paragraph's "understood as" record
  (:func:`mycopod.declarations.hybrid.as_records` of :func:`~.hybrid.understood`, without
  the paragraph's text).

and the 1,000 sentences of ``bench/compile.py`` as two digests (their text and their
spec). ``tests/unit/declarations/test_same_results.py`` compiles the stored texts again
and compares field by field.

The file was written from main's code before the speed work of issue 13 (branch
speed9), with main's package first on the path (this script from the branch):

    PYTHONPATH=/path/to/main/controller .venv/bin/python -m tests.support.sameresults --write

A change meant to change what the grammar reads (a new rule) changes some of these
results: regenerate, read the printed difference, commit it with the change:

    .venv/bin/python -m tests.support.sameresults          # prints what would change
    .venv/bin/python -m tests.support.sameresults --write  # rewrites the file
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mycopod.declarations import grammar, hybrid
from mycopod.declarations.errors import CompileIssue
from mycopod.spec import spec_dict

ROOT = Path(__file__).resolve().parents[2]
DECLARATIONS = ROOT / "tests" / "unit" / "declarations"
FIXTURE = DECLARATIONS / "same_results.jsonl"
#: the filename each collection's own test compiles its texts under
FILENAMES = {"corpus": "corpus.md", "heldout": "heldout.md"}


#: files the collections above lack: the checks across a file's guests
EXTRA = (
    "a-1 is a VM with ID 120.\n\nb-1 is a VM with ID 120.\n",
    "b-1 is a VM with ID 121. a-1 is a container with ID 120. c-1 is a VM.\n",
    "web-1 is a VM with 2 cores.\n\nweb-1 is a VM with 4 GB of RAM.\n",
    "## db-1\n\nA VM with 4 cores.\n\nIt has 8 GB of RAM.\n\nweb-1 is a container.\n",
    "",
)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _places_dict(places: grammar.Places) -> dict[str, list[str]]:
    return {"nodes": sorted(places.nodes), "storages": sorted(places.storages),
            "bridges": sorted(places.bridges), "pools": sorted(places.pools)}


def places_of(data: dict[str, list[str]] | None) -> grammar.Places | None:
    if data is None:
        return None
    return grammar.Places(nodes=frozenset(data["nodes"]),
                          storages=frozenset(data["storages"]),
                          bridges=frozenset(data["bridges"]), pools=frozenset(data["pools"]))


def cases() -> Iterator[dict[str, Any]]:
    """The inputs: source, filename, text, places (None: offline)."""
    from tests.support.heldout import cluster_places

    for path in sorted((DECLARATIONS / "corpus").glob("*.jsonl")):
        for item in _lines(path):
            yield {"source": f"corpus/{path.name}", "filename": FILENAMES["corpus"],
                   "text": item["text"] + "\n", "places": None}
    for folder in sorted(DECLARATIONS.glob("heldout*")):
        for name in ("notes.jsonl", "impossible.jsonl"):
            if not (folder / name).is_file():
                continue
            items = _lines(folder / name)
            places = _places_dict(cluster_places(items)) if name == "notes.jsonl" else None
            for item in items:
                source = f"{folder.name}/{name}"
                yield {"source": source, "filename": FILENAMES["heldout"],
                       "text": item["text"] + "\n", "places": None}
                if item.get("facts_needed"):
                    yield {"source": source, "filename": FILENAMES["heldout"],
                           "text": item["text"] + "\n", "places": places}
    for text in EXTRA:
        yield {"source": "sameresults.EXTRA", "filename": "extra.md", "text": text,
               "places": None}
    for path in sorted((DECLARATIONS / "examples").glob("*.md")):
        yield {"source": f"examples/{path.name}", "filename": path.name,
               "text": path.read_text(encoding="utf-8"), "places": None}


def result(case: dict[str, Any]) -> dict[str, Any]:
    """What the grammar makes of one case (the inputs, plus spec, error, ignored and
    paragraphs)."""
    places = places_of(case["places"])
    found: list[CompileIssue] = []
    out = {**case, "spec": None, "error": None, "ignored": [], "paragraphs": []}
    try:
        spec = grammar.compile_text(case["text"], filename=case["filename"], places=places,
                                    ignored=found)
    except grammar.CompileError as exc:
        out["error"] = str(exc)
        return out
    out["spec"] = spec_dict(spec)
    out["ignored"] = [str(i) for i in found]
    # main's understood() before speed9 compiled each paragraph again, with the places
    known = {"places": places} if "places" in inspect.signature(hybrid.understood).parameters \
        else {}
    records = hybrid.as_records(hybrid.understood(
        case["text"], spec, notes=[(i.line, i.message) for i in found], **known))
    # a paragraph's text is the case's own lines first..last: not stored again
    out["paragraphs"] = [{k: v for k, v in r.items() if k != "text"} for r in records]
    return out


def digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def bench_result() -> dict[str, Any]:
    """The 1,000 sentences of bench/compile.py: digests of the text and of its spec."""
    sys.path.insert(0, str(ROOT / "bench"))
    import compile as benchmod  # bench/compile.py

    text = benchmod.sentences(1000)
    spec = spec_dict(grammar.compile_text(text, filename="bench.md"))
    return {"source": "bench/compile.py", "text_sha256": digest(text),
            "guests": len(spec["guests"]), "spec_sha256": digest(spec)}


def collect() -> list[dict[str, Any]]:
    return [*(result(case) for case in cases()), bench_result()]


def load() -> list[dict[str, Any]]:
    return _lines(FIXTURE)


def differences(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    """What changed, one line per result (matched by source, text and places)."""
    def key(r: dict[str, Any]) -> str:
        return json.dumps([r["source"], r.get("text"), r.get("places")], sort_keys=True)

    before, after = {key(r): r for r in old}, {key(r): r for r in new}
    out = [f"gone: {k}" for k in before if k not in after]
    out += [f"new: {k}" for k in after if k not in before]
    for k in before.keys() & after.keys():
        fields = sorted(f for f in before[k].keys() | after[k].keys()
                        if before[k].get(f) != after[k].get(f))
        if fields:
            out.append(f"changed {', '.join(fields)}: {k}")
    return sorted(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite {FIXTURE.name}")
    args = parser.parse_args()
    new = collect()
    changed = differences(load(), new) if FIXTURE.is_file() else ["(no file yet)"]
    print("\n".join(changed) or "no result changed")
    if args.write:
        FIXTURE.write_text("".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n"
                                   for r in new), encoding="utf-8")
        print(f"wrote {len(new)} results to {FIXTURE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
