"""Common English words that are never offered as typos of a keyword ("did you mean").

A word of plain English that the grammar does not know is not a misspelt keyword:
``eight`` is not ``weight``, ``testing`` is not ``nesting``, ``replaced`` is not
``placed``, ``staging`` is not ``starting``. :func:`.sentences._close_word` offers a
keyword only for a word that is close to it (difflib ratio 0.8 and at most two edits)
and is none of these, and is a plain word (no ``/``, digit or ``@``: ``/data`` is a
path, not ``data``). Pure.
"""

from __future__ import annotations

__all__ = ["COMMON_ENGLISH", "edits"]

COMMON_ENGLISH = frozenset("""
    a about above after again against all almost alone along already also although always
    am among amount an and another answer any anyone anything are area around as ask asked
    at away back bad be became because become been before began begin behind being below
    best better between big bit both box branch bring brought build built but by call came
    can cannot case cause change changed check clean close code come coming could current
    data day days dead did different do does doing done down during each early easy eight
    eighteen eighty either else empty end enough even ever every example except fact far
    fast few fifteen fifty find fine first five fix fixed for forty found four fourteen free
    from full gave get give given go goes going gone good got great group had half hand
    happen has have having he head help her here high him his hold home how however i idea
    if important in inside instead into is it its just keep kept kind knew know known large
    last late later least left less let life like line little live long look lost lot made
    main make many may maybe me mean merged might mine more most move much must my name
    near need needed never new next nine nineteen ninety no none nor not nothing now number
    of off often old on once one ones only open or order other our out over own part past
    people per place placed plan point put quite rather read ready real really reason
    replaced rest right run same saw say second see seem seen seven seventeen seventy
    several shall she should show side since six sixteen sixty small so some something
    soon staging start still stop such sure take taken tell ten test tested testing than
    that the their them then there these they thing things think thirteen thirty this those
    though three through time to today together too took total toward tried true try turn
    twelve twenty two under until up upon us use used using very want was way we week weeks
    weight well went were what when where whether which while who whole why will with
    within without work working would year years yet you your
""".split())


def edits(a: str, b: str) -> int:
    """The Levenshtein distance between two short words."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
