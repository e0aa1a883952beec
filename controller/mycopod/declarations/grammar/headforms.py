"""An issue form: each field a heading, its value the paragraph under it.

GitHub issue forms render their fields as headings with the answer below::

    ### Describe the VM you need
    A VM for the staging API.

    ### Name
    api-staging

    ### Resources
    4 cores, 8 GB RAM, 60 GB disk

:func:`as_form` turns a run of two or more such fields (a heading that is a key of
:mod:`.forms`, or a description heading, each followed by exactly one paragraph), one of
them the guest's name, into one ``Key: value`` paragraph that :mod:`.forms` then reads.
A description field (``Describe the VM you need``, ``Description``, ``What do you need?``)
says the guest's kind when its text names exactly one kind (``A VM for the staging
API``), and is otherwise reported as form metadata; a description with a number or a
guest-like name in it leaves the whole run as it is (it says more than a kind, so it is
read, and refused, as prose). Headings of any other text are left alone. Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.forms import (
    METADATA_KEYS,
    NAME_KEYS,
    SENTENCE_KEYS,
    SETTING_KEYS,
    TYPE_KEYS,
)
from mycopod.declarations.grammar.markdown import Block

__all__ = ["as_form"]

_DESCRIBE_RE = re.compile(r"^(describe\b.*|description|what do you need|what is needed|"
                          r"what (?:vm|container|guest) do you need|summary|details)$")
_KIND_RE = re.compile(r"\b(virtual machine|vm|container|lxc|ct)\b", re.IGNORECASE)
_SAYS_MORE_RE = re.compile(r"\d|\b[a-z][a-z0-9]*-[a-z0-9-]+\b")
_KINDS = {"virtual machine": "VM", "vm": "VM", "container": "container", "lxc": "container",
          "ct": "container"}


def _key(title: str) -> str:
    return " ".join(title.lower().strip().rstrip(":?").split())


def _field(heading: Block, value: Block, ignored: list[tuple[int, str]]
           ) -> tuple[int, str] | None | bool:
    """The ``Key: value`` line of one field; None to drop it; False: no field."""
    key, text = _key(heading.text), " ".join(value.text.split())
    if key in NAME_KEYS or key in TYPE_KEYS or key in SETTING_KEYS or key in METADATA_KEYS \
            or key in SENTENCE_KEYS:
        return (value.line, f"{heading.text.strip().rstrip(':?')}: {text}")
    if _DESCRIBE_RE.match(key):
        kinds = {_KINDS[k.lower()] for k in _KIND_RE.findall(text)}
        if _SAYS_MORE_RE.search(text) or len(kinds) > 1:
            return False
        ignored.append((heading.line, f"ignored as form metadata: {heading.text}: {text!r}"))
        return (value.line, f"type: {kinds.pop()}") if kinds else None
    return False


def as_form(blocks: list[Block], ignored: list[tuple[int, str]]) -> list[Block]:
    """``blocks`` with each issue form (see the module's docstring) as one paragraph."""
    if sum(b.kind == "heading" for b in blocks) < 2:
        return blocks
    out: list[Block] = []
    i = 0
    while i < len(blocks):
        fields: list[tuple[int, str]] = []
        names = 0
        j = i
        dropped: list[tuple[int, str]] = []
        while j + 1 < len(blocks) and blocks[j].kind == "heading" and blocks[
                j + 1].kind == "paragraph" and (j + 2 == len(blocks) or blocks[
                    j + 2].kind == "heading"):
            field = _field(blocks[j], blocks[j + 1], dropped)
            if field is False:
                break
            if isinstance(field, tuple):
                fields.append(field)
                names += _key(blocks[j].text) in NAME_KEYS
            j += 2
        if j - i >= 4 and names == 1:
            ignored.extend(dropped)
            out.append(Block("paragraph", tuple(fields)))
            i = j
        else:
            out.append(blocks[i])
            i += 1
    return out
