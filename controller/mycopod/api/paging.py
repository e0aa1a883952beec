"""Bounds on one response: pages of lists, windows on embedded lists, clipped texts.

No endpoint answers an unbounded list: a run planned for 100,000 guests once made
``GET /reconcile/{id}`` answer 118 MB, and a User's declaration answered 42 MB. So:

- a list endpoint answers a page (``limit`` at most :data:`MAX_PAGE`, with the total);
- a detail that embeds lists (a run's plan, summary and actions; a declaration's spec
  and files) shows a window of each list, chosen by the query's ``offset`` and ``limit``
  (at most :data:`MAX_WINDOW`), and ``totals`` gives every list's full length, so a
  client pages through them by asking again with a larger ``offset``;
- lists inside the items of a page are cut to :data:`ITEM_WINDOW` entries, and long
  texts (compile errors, declaration content) are clipped with a note of what was left
  out, because a page of 200 items must stay small too.

The functions are pure; the limits are constants of the API, not settings: they bound
what one answer costs the server, whatever the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar, overload

__all__ = ["DEFAULT_WINDOW", "ITEM_TEXT", "ITEM_WINDOW", "MAX_ISSUES", "MAX_PAGE", "MAX_TEXT",
           "MAX_WINDOW", "clip", "truncated", "window", "window_lists"]

T = TypeVar("T")

#: largest page of a list endpoint
MAX_PAGE = 200
#: entries of each embedded list a detail shows by default, and at most
DEFAULT_WINDOW = 100
MAX_WINDOW = 500
#: entries of a list inside an item of a page (a declaration's files, a file's guests)
ITEM_WINDOW = 20
#: characters of a text in a detail (a compile error, a declaration's content)
MAX_TEXT = 256 * 1024
#: characters of a text inside an item of a page
ITEM_TEXT = 4 * 1024
#: compile problems listed in a 422 answer (the message says how many there were)
MAX_ISSUES = 100


def window(items: Sequence[T], offset: int, limit: int) -> list[T]:
    """``items[offset:offset + limit]`` as a list."""
    return list(items[offset:offset + limit])


def window_lists(data: dict[str, Any] | None, *, name: str, offset: int, limit: int,
                 totals: dict[str, int]) -> dict[str, Any] | None:
    """``data`` with every list value cut to the window; each list's full length is
    recorded in ``totals`` as ``"<name>.<key>"``. Other values are kept as they are."""
    if data is None:
        return None
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, list):
            totals[f"{name}.{key}"] = len(value)
            out[key] = window(value, offset, limit)
        else:
            out[key] = value
    return out


def truncated(totals: dict[str, int], offset: int, limit: int) -> bool:
    """Does some list of these lengths hold entries outside the window?"""
    return any(max(0, min(limit, n - offset)) < n for n in totals.values())


@overload
def clip(text: str, limit: int) -> str: ...
@overload
def clip(text: None, limit: int) -> None: ...
def clip(text: str | None, limit: int) -> str | None:
    """``text`` cut to ``limit`` characters, ending with a note of how many were left out."""
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + f"\n… ({len(text) - limit} more characters not shown)"
