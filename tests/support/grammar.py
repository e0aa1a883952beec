"""Compiling a note in a grammar test: what it states of each guest, or its refusal."""

from __future__ import annotations

from typing import Any

import pytest

from mycopod.declarations.errors import CompileError, CompileIssue
from mycopod.declarations.grammar import compile_text


def stated(text: str) -> dict[str, dict[str, Any]]:
    """Each guest of the note by name, with only what the text states of it."""
    spec = compile_text(text, filename="t.md")
    return {g.name: g.model_dump(mode="json", exclude_unset=True) for g in spec.guests}


def stated_and_ignored(text: str) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """What :func:`stated` gives, and what the compile reported as read and not used
    (``t.md:LINE: ignored as ...``)."""
    found: list[CompileIssue] = []
    spec = compile_text(text, filename="t.md", ignored=found)
    guests = {g.name: g.model_dump(mode="json", exclude_unset=True) for g in spec.guests}
    return guests, [str(i) for i in found]


def error(text: str) -> str:
    """The text of the note's refusal (the test fails when it compiles)."""
    with pytest.raises(CompileError) as info:
        compile_text(text, filename="t.md")
    return str(info.value)


def ignored(text: str) -> list[str]:
    """What compiling ``text`` reported as read and not used, as ``line: message``."""
    out: list[CompileIssue] = []
    compile_text(text, filename="t.md", ignored=out)
    return [f"{i.line}: {i.message}" for i in out]


def count_compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, every text handed to the real grammar, in order: counted where every
    caller reaches it (``mycopod.declarations.grammar.compile_text``)."""
    from mycopod.declarations import grammar

    texts: list[str] = []
    real = grammar.compile_text

    def counting(text: str, **kwargs: Any) -> Any:
        texts.append(text)
        return real(text, **kwargs)

    monkeypatch.setattr(grammar, "compile_text", counting)
    return texts
