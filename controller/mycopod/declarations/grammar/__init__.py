"""The grammar compiler: controlled English in, a validated ClusterSpec out. Pure, offline.

:mod:`.document` holds the entry points; this ``__init__`` re-exports them, so callers
write ``from mycopod.declarations import grammar; grammar.compile_text(...)``.
"""

from __future__ import annotations

from mycopod.declarations.grammar.document import (
    VOCABULARY,
    CompileError,
    CompileIssue,
    assign_slots,
    compile_text,
    count_sentences,
    is_plain_word,
    is_subject_name,
    tokenize,
)
from mycopod.declarations.grammar.names import MAX_NAMES
from mycopod.declarations.grammar.sentences import MAX_ISSUES

__all__ = ["MAX_ISSUES", "MAX_NAMES", "VOCABULARY", "CompileError", "CompileIssue",
           "assign_slots", "compile_text", "count_sentences", "is_plain_word",
           "is_subject_name", "tokenize"]
