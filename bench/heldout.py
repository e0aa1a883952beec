"""Issue 13's held-out measurement: the grammar alone on notes nobody on its team saw.

Compiles every note of ``tests/unit/declarations/heldout/notes.jsonl`` offline with
``grammar.compile_text`` and prints one JSON object:

- ``overall`` and ``by_style``: notes, exact, refused, wrong and the exact rate;
- ``impossible`` / ``impossible_refused``: requests the spec cannot express, and how many
  of them the grammar refused (the issue asks for all);
- ``refused_notes``: each refused note with the compiler's message;
- ``wrong_notes``: each note that compiled to a spec other than the one it states, with
  what came out (``got``) and what the note states (``want``);
- ``impossible_not_refused``: any impossible request that compiled;
- ``facts_needed``: the notes that say ``on pve2`` without saying what pve2 is, compiled
  again with the cluster's names known (every node, storage, bridge and pool the set's
  notes expect), as a connected ``mycopod compile`` reads them: exact, refused and wrong
  (the main figures stay offline, where such a note can only be refused).

Run: ``.venv/bin/python bench/heldout.py`` (``--summary`` leaves out the lists;
``--set heldout2`` .. ``--set heldout9`` measures the second to ninth set, in
``tests/unit/declarations/heldout2`` .. ``heldout9``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "controller"))
sys.path.insert(0, str(REPO))  # tests.support.heldout: the same measurement the test runs

from tests.support import heldout  # noqa: E402 (after the path it needs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", action="store_true",
                        help="print the figures only, not the refused and wrong notes")
    parser.add_argument("--set", default="heldout", metavar="NAME",
                        help="the held-out set: a folder of tests/unit/declarations "
                             "(heldout, heldout2 .. heldout9); default heldout")
    args = parser.parse_args()
    try:
        where = heldout.folder(args.set)
    except ValueError as exc:
        parser.error(str(exc))
    started = time.perf_counter()
    figures = heldout.measure(where)
    seconds = time.perf_counter() - started
    result = figures.summary() if args.summary else figures.details()
    result["seconds"] = round(seconds, 3)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
