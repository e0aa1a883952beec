"""A ``# ...`` line with nothing under it that is a whole declaration: a shell comment.

People keep notes as shell comments (``# ct dns-cache 1 core 256M``, ``# old-jenkins:
delete this vm``). In Markdown each is a heading, and a heading is a title, a guest's name
or a lead-in for what follows it. A heading with no body under it (the next block is a
heading, or the file ends) labels nothing, so it is read as the sentence it is when

- it states something a heading cannot (:func:`.headings.read_heading` refuses it), or
- it is read as a title but holds a number or a name-like word (``# copy the host's
  network config over to the new node pve-c``): read as a sentence, it is a declaration
  or an error, never a title whose words are dropped.

A heading that names a guest (``# web-1``), a lead-in, and a plain title (``# Web
servers``) keep their meaning. Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.headings import read_heading
from mycopod.declarations.grammar.markdown import Block
from mycopod.declarations.grammar.tokens import SentenceError

__all__ = ["as_sentence"]

#: a word with a digit, or a hyphen inside it
_MARKED_RE = re.compile(r"\d|[a-z]-[a-z0-9]", re.IGNORECASE)


def as_sentence(found: list[Block], index: int) -> Block:
    """``found[index]``, or the paragraph it is when it is a heading that is a whole
    declaration (module doc)."""
    block = found[index]
    if block.kind != "heading" or (index + 1 < len(found)
                                   and found[index + 1].kind != "heading"):
        return block
    try:
        meaning = read_heading(block.text, block.line)
    except SentenceError:
        meaning = None
    else:
        if meaning or not _MARKED_RE.search(block.text):
            return block
    text = block.text.rstrip()
    if not text.endswith((".", "!", "?", ":")):
        text += "."  # a sentence, not a title line
    return Block("paragraph", ((block.line, text),))
