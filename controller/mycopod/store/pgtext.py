"""What PostgreSQL can store as text, and where a string breaks that.

PostgreSQL's ``text`` (and every string inside ``jsonb``) cannot hold the character
U+0000: a NUL byte in a declaration file makes every INSERT of it fail with
"invalid byte sequence for encoding UTF8: 0x00". A Python string can also carry lone
surrogates (U+D800..U+DFFF, from a JSON ``"\\ud800"`` escape or a ``surrogateescape``
decode) that have no UTF-8 encoding at all, so the driver cannot even send them.

Everything MycoPod records comes through two doors, so both are handled here once:

- declaration text is *content*: :func:`problem` finds the first offending character
  (with its line), and the pipeline turns it into a compile error naming the file, so
  the commit is recorded and the last good spec stays in force;
- free text around it (commit messages, authors, error messages) is *metadata*:
  :func:`scrub` replaces what cannot be stored with U+FFFD, so it is recorded as
  faithfully as the database allows instead of failing the whole record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["TextProblem", "problem", "scrub", "sha256_bytes"]

#: the characters PostgreSQL text cannot hold, or UTF-8 cannot encode
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


@dataclass(frozen=True)
class TextProblem:
    """The first character of a text that cannot be stored, and where it is."""

    line: int
    column: int
    char: str

    @property
    def what(self) -> str:
        if self.char == "\x00":
            return "a NUL character (byte 0x00)"
        return f"an unpaired surrogate (U+{ord(self.char):04X}), which is not valid Unicode"

    def message(self) -> str:
        """One sentence for a person: what, where, and what to do."""
        return (f"contains {self.what} at column {self.column}, which a declaration "
                "cannot hold; remove it and save the file as plain UTF-8 text")


def problem(text: str) -> TextProblem | None:
    """The first character of ``text`` the database cannot store; None when all can be."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    start = found.start()
    line_start = text.rfind("\n", 0, start) + 1
    return TextProblem(line=text.count("\n", 0, start) + 1, column=start - line_start + 1,
                       char=found.group())


def scrub(text: str) -> str:
    """``text`` with every character the database cannot store replaced by U+FFFD."""
    return _UNSTORABLE.sub(REPLACEMENT, text)


def sha256_bytes(text: str) -> bytes:
    """The bytes a text is hashed as: UTF-8, with lone surrogates passed through (so even
    a text that cannot be stored has a stable digest to be reported under)."""
    return text.encode("utf-8", "surrogatepass")
