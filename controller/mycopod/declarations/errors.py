"""Errors of the declaration compilers.

A :class:`CompileError` carries every problem found in a declaration as a list of
:class:`CompileIssue` (file, line, message), so the CLI can print them all at once, the
API can return them as data and a declaration row can store them as text. ``str()`` is
the readable multi-line form, one ``file:line: message`` per line.
"""

from __future__ import annotations

from dataclasses import dataclass

from mycopod.errors import MycoPodError

__all__ = ["CompileError", "CompileInterrupted", "CompileIssue", "GuestLimitError"]


@dataclass(frozen=True, slots=True)
class CompileIssue:
    """One problem: where it is (``line`` 0 when it concerns a whole file) and what it is."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class CompileError(MycoPodError):
    """A declaration that does not compile; ``issues`` lists every problem found."""

    def __init__(self, issues: list[CompileIssue]) -> None:
        self.issues = sorted(issues, key=lambda i: (i.file, i.line))
        super().__init__("\n".join(str(issue) for issue in self.issues))

    @classmethod
    def single(cls, file: str, line: int, message: str) -> CompileError:
        return cls([CompileIssue(file, line, message)])


class GuestLimitError(CompileError):
    """More guests than the setting ``declarations.max_guests`` allows.

    The text is understood; it declares too much. The verdict depends on a setting, not
    on the text alone, so it is never cached as the file's result, and an LLM is not
    asked to try again.
    """


def guest_limit_message(count: int, limit: int, *, partial: bool = False) -> str:
    """The one wording of the guest limit; ``partial``: counting stopped at ``count``."""
    held = f"at least {count}" if partial else str(count)
    return (f"{held} guests declared, more than the setting declarations.max_guests allows "
            f"({limit}); declare fewer guests, or have an Admin raise declarations.max_guests")


class CompileInterrupted(CompileError):
    """A compile that did not finish: its time budget ran out, or its worker died.

    It says nothing about the text, so it is never cached: another try may finish.
    """
