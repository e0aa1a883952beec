"""The grammar compiler: controlled English in, a validated ClusterSpec out. Pure, offline.

Interface: :func:`compile_text` ``(text, *, filename, max_guests=None) -> ClusterSpec``,
raising :class:`~mycopod.declarations.errors.CompileError` whose ``issues`` name
``file:line`` (:class:`~mycopod.declarations.errors.GuestLimitError` when the file
declares more than ``max_guests`` guests: reading stops there, so a file of range
sentences never builds more than about ``max_guests`` guests).

Why it is built this way: a misread sentence becomes a deleted or resized VM, so the
compiler must account for every word. A sentence is tokenised (quoted strings, numbers
with glued units, punctuation), its subject is found (a name, a list or range of names,
``it``/``they``, ``the VM old-test``, ``Create three servers named ...``), and the rest
is read as a sequence of attribute phrases in any order (``2 cores``, ``4 GB of RAM``,
``a 32 GB disk on local-lvm``, ``on node pve1``, ``tagged web``, ``stopped`` ...). Between
phrases only a closed list of words that carry no meaning (``and``, ``with``, ``should``,
``be``, articles ...) may appear. Any other word is "unplaced": the sentence is an error
that quotes those words and says what was expected. Negations (``not``, ``no``,
``without``) exist only inside phrases that give them a meaning, never as filler, so a
``not`` can never be dropped. Requests the spec cannot express (passthrough, CPU
topology, schedules, conditions, node operations) and vague amounts are explained.

Phrases understood (any order, joined by commas, ``and``, ``with``):

- kind: ``a VM``, ``virtual machine``, ``QEMU VM``, ``container``, ``LXC (container)``,
  ``CT``; subjects: ``web-1``, ``web-1 and web-2``, ``web-1 through web-3``,
  ``the VM old``, ``Create three web servers named web-1 to web-3``, ``A VM named x``;
- sizes: ``2 cores``/``vCPUs``/``CPUs``, ``4 GB of RAM``/``memory`` (MB, GiB, G,
  gigabytes, gigs, TB; numbers as digits, decimals or words), ``a 32 GB disk on
  local-lvm [as scsi1]``, ``an 8 GB root disk``, ``a 2 TB data disk on tank``,
  ``on storage ceph``, ``no disks``;
- state: ``running``, ``started``, ``powered on``, ``stopped``, ``shut down``,
  ``not running``, ``should not exist``, ``removed``, ``deleted``, ``Remove the VM x``;
  boot: ``starts on boot``, ``start at boot``, ``autostart``, ``not on boot``;
- placement: ``on node pve1``, ``with ID 120``, ``in pool infra``, ``tagged a and b``;
- network (net0, or ``Its network net1 is ...``): ``on bridge vmbr1``, ``connected to
  vmbr1``, ``on VLAN 30``, ``the static IP 10.0.0.5/24``, ``gateway 10.0.0.1``,
  ``DHCP``, ``no IP address``, ``with the firewall enabled``, ``no firewall``,
  ``no network``;
- source: ``cloned from the template ubuntu-24.04``, ``booting from the ISO
  local:iso/x.iso``, ``from the template local:vztmpl/x.tar.zst``;
- text: ``described as "..."``, ``Authorize the SSH key "ssh-ed25519 AAAA... me@host"``
  (quoted, with ``\"`` escapes).

Context: ``it``/``they`` refer to the last subject of the same paragraph or list item.
A guest is declared once per file (``web-1 is a VM``, ``a VM named web-1``); other
sentences may add to it, and two different values for one field are an error naming
both lines. A guest must say what it is (VM or container) unless it should not exist.

How the code is split (each module says why): :mod:`.tokens` (tokenizer, cursor),
:mod:`.lexicon` (the words), :mod:`.quantities` (numbers, sizes), :mod:`.names` (guest
names), :mod:`.drafts` (what the sentences say about each guest), :mod:`.hardware`,
:mod:`.networking` and :mod:`.phrases` (the attribute phrases), :mod:`.subjects` (whom a
sentence is about), :mod:`.sentences` (clauses and unplaced words). This module keeps the
public entry points, and re-exports (``__all__``) the names other code imports from it.
"""

from __future__ import annotations

from pydantic import ValidationError

from mycopod import spec as specmod
from mycopod.declarations.errors import (
    CompileError,
    CompileIssue,
    GuestLimitError,
    guest_limit_message,
)
from mycopod.declarations.grammar import markdown
from mycopod.declarations.grammar.drafts import _guest_data, assign_slots
from mycopod.declarations.grammar.lexicon import VOCABULARY
from mycopod.declarations.grammar.names import is_plain_word, is_subject_name
from mycopod.declarations.grammar.sentences import MAX_ISSUES, _compile_sentence, _FileState
from mycopod.declarations.grammar.subjects import _Subject
from mycopod.declarations.grammar.tokens import _SentenceError, _sentences, tokenize

__all__ = ["VOCABULARY", "CompileError", "CompileIssue", "assign_slots", "compile_text",
           "count_sentences", "is_plain_word", "is_subject_name", "tokenize"]


def count_sentences(text: str) -> int:
    """How many declaration sentences ``text`` holds (for benchmarks and reports)."""
    return sum(len(_sentences(tokenize(b.text, first_line=b.line)))
               for b in markdown.blocks(text))


def _pydantic_message(exc: ValidationError, name: str, lines: dict[str, int], default: int
                      ) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        field_name = loc[0] if loc else ""
        msg = err["msg"].removeprefix("Value error, ")
        where = ".".join(loc)
        text = f"guest {name!r}, field {where}: {msg}" if where else f"guest {name!r}: {msg}"
        out.append((lines.get(field_name, default), text))
    return out


def compile_text(text: str, *, filename: str = "<text>",
                 max_guests: int | None = None) -> specmod.ClusterSpec:
    """Compile one declaration file's text; raise CompileError listing every problem.

    ``max_guests``: stop with GuestLimitError as soon as the file names more guests.
    """
    state = _FileState(filename)
    try:
        found = markdown.blocks(text)
    except markdown.MarkdownError as exc:
        raise CompileError.single(filename, exc.line, exc.message) from None
    for block in found:
        if state.full:
            break
        try:
            tokens = tokenize(block.text, first_line=block.line)
        except _SentenceError as exc:
            state.error(exc.line, exc.message)
            continue
        last: _Subject | None = None
        for sentence in _sentences(tokens):
            if state.full:
                break
            try:
                last = _compile_sentence(state, sentence, last)
            except _SentenceError as exc:
                state.error(exc.line, exc.message)
            if max_guests is not None and len(state.drafts) > max_guests:
                raise GuestLimitError.single(filename, sentence[0].line, guest_limit_message(
                    len(state.drafts), max_guests, partial=True) + " (reading stopped here)")
    if state.full:  # the drafts are incomplete: checking them would report false problems
        state.error(state.issues[-1].line, f"stopped after {MAX_ISSUES} problems; fix "
                                           "these and compile again")
        raise CompileError(state.issues)
    guests: list[specmod.GuestSpec] = []
    for draft in state.drafts.values():
        try:
            data, lines = _guest_data(draft)
        except _SentenceError as exc:
            state.error(exc.line, exc.message)
            continue
        try:
            guests.append(specmod.GuestSpec.model_validate(data))
        except ValidationError as exc:
            for line, message in _pydantic_message(exc, draft.name, lines, draft.line):
                state.error(line, message)
    if state.issues:
        raise CompileError(state.issues)
    try:
        return specmod.ClusterSpec(guests=guests)
    except ValidationError as exc:
        message = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise CompileError.single(filename, 0, message) from None
