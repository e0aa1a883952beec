"""The phrase that adopts a guest which exists already (brownfield). Pure.

``legacy-app already exists; manage it from now on`` (the form ``render`` writes and
``mycopod import`` puts in its files), ``it exists already``, ``manage it from now on``,
``adopt it``, ``it is adopted``, ``it is managed from now on``: the guest is not
created, the planner adopts it (one ``adopt`` action: the ownership tag and the
inventory row, nothing else). ``not adopted`` states the opposite. It is its own module
so the other phrase tables stay as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mycopod.declarations.grammar.drafts import Effect
from mycopod.declarations.grammar.tokens import Cursor


def p_adopt(c: Cursor) -> list[Effect] | None:
    line = c.line
    start = c.i
    value: bool | None = None
    if c.take("already", "exists|exist") or c.take("exists|exist", "already"):
        value = True
    elif c.take("manage", "from", "now", "on") or c.take("managed", "from", "now", "on"):
        value = True
    elif c.opt("adopt", "adopted"):
        value = True
    elif c.take("not", "adopted"):
        value = False
    if value is None:
        c.i = start
        return None
    adopt = value
    return [lambda d: d.set("adopt", adopt, line)]


PHRASES: tuple[Callable[[Cursor], Any], ...] = (p_adopt,)
