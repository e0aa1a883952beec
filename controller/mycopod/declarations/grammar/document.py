"""One declaration file's text to a ClusterSpec: the grammar's entry points.

:func:`compile_text` finds the declaration blocks (:mod:`.markdown`), reads them sentence
by sentence (:mod:`.sentences`), collecting every problem with its line, then validates
each guest's draft as a :class:`~mycopod.spec.GuestSpec` and the whole as a
:class:`~mycopod.spec.ClusterSpec`. :func:`count_sentences` counts what it would read.
The package docstring (:mod:`mycopod.declarations.grammar`) describes the grammar.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from mycopod import spec as specmod
from mycopod.declarations.errors import (
    CompileError,
    CompileIssue,
    GuestLimitError,
    guest_limit_message,
)
from mycopod.declarations.grammar import (
    chatlines,
    forms,
    greetings,
    headforms,
    leadins,
    linemarks,
    mail,
    markdown,
    notemarks,
    records,
    shellnotes,
    soundness,
    transcripts,
    yamlblocks,
)
from mycopod.declarations.grammar.drafts import guest_data
from mycopod.declarations.grammar.headings import is_title, read_heading
from mycopod.declarations.grammar.idioms import is_preface
from mycopod.declarations.grammar.lexicon import KIND_WORDS
from mycopod.declarations.grammar.openers import strip_courtesy
from mycopod.declarations.grammar.places import Places
from mycopod.declarations.grammar.sentences import MAX_ISSUES, FileState, compile_sentence
from mycopod.declarations.grammar.subjects import Subject
from mycopod.declarations.grammar.tokens import (
    SentenceError,
    Token,
    sentence_text,
    split_sentences,
    tokenize,
)

__all__ = ["compile_text", "count_sentences"]


#: pronouns that open a list item about the guest of the item before
_PRONOUNS = frozenset({"it", "its", "they", "them", "their"})
#: a paragraph that is only a name in bold ("**ha-vm**"): a heading in all but form
_BOLD_RE = re.compile(r"^\s*(?:\*\*|__)([^*_\n]+)(?:\*\*|__):?\s*$")


def _title_line(block: markdown.Block, *, lead_in: bool = False) -> bool:
    """One line without a sentence's end: a plain title (``Database server``), or with
    ``lead_in`` a heading-like lead-in (``Turn these off``)."""
    if (block.kind != "paragraph" or len(block.lines) != 1 or _BOLD_RE.match(block.text)
            or block.text.rstrip().endswith((".", "!", "?", ":", ";", ")", '"'))):
        return False
    if not lead_in:
        return is_title(block.text, block.line)
    try:
        return isinstance(read_heading(block.text, block.line), leadins.LeadIn)
    except SentenceError:
        return False


def _meaning(lead: leadins.LeadIn) -> list[dict[str, object]] | None:
    """What ``lead`` says of a guest, as the spec one probe item under it compiles to."""
    probe = leadins.fill(lead, [Token("probe-x", "probe-x", lead.line)])
    try:
        spec = compile_text(" ".join(t.text for t in probe) + ".\n", filename="probe.md")
    except CompileError:
        return None
    return list(specmod.spec_dict(spec)["guests"])


def _restated(lead: leadins.LeadIn | None, block: markdown.Block) -> bool:
    """``# Decommission`` and then ``Please get rid of these:`` over the list: a paragraph
    that is one lead-in saying exactly what the heading's lead-in says (compared by what
    each makes of a probe item) takes the heading's place; a different one does not."""
    if lead is None or lead.heading is None or lead.used or lead.optional:
        return False
    try:
        sentences = split_sentences(tokenize(block.text, first_line=block.line))
    except SentenceError:
        return False
    said = leadins.lead_in(sentences[0]) if len(sentences) == 1 else None
    if said is None:
        return False
    mine = _meaning(lead)
    return mine is not None and mine == _meaning(said)


def _goes_on(block: markdown.Block, before: markdown.Block | None, prev: Subject | None,
             messages: set[int]) -> bool:
    """Does the list item ``block`` go on with the one guest the item before named? A
    checklist box after a box (``[ ] VM wiki-js`` / ``[ ] 2 cores``: the boxes of one card
    list one guest's parts), a chat message after a message (``the VM x can go`` / ``👍
    delete it``): ``it`` and bare settings there are that guest's, when it is one."""
    if before is None or prev is None or len(prev.names) != 1 or prev.ambiguous:
        return False
    return (block.task and before.task) or (block.line in messages
                                            and before.line in messages)


def count_sentences(text: str) -> int:
    """How many declaration sentences ``text`` holds (for benchmarks and reports)."""
    return sum(len(split_sentences(tokenize(b.text, first_line=b.line)))
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


def _unfilled(state: FileState, lead: leadins.LeadIn | None) -> None:
    """A lead-in whose list never came is an error (its guests would be lost)."""
    if lead is not None and not lead.used and not lead.optional:
        shown = f"the heading \"{lead.text}\"" if lead.heading else f"\"{lead.text}:\""
        state.error(lead.line, f"{shown} announces a list of guests, but no list "
                               "follows; put the guests' names in a Markdown list under it")
    elif lead is not None and lead.count is not None and lead.filled != lead.count:
        state.error(lead.line, f"\"{lead.text}:\" announces {lead.count} guests, but the list "
                               f"under it names {lead.filled}; make the count and the list agree")


def _quoted_declarations(quotes: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """A quote that would declare a guest is an error: someone else's words are not read,
    and dropping a declaration silently could lose a guest."""
    out: list[tuple[int, str]] = []
    for line, said in quotes:
        try:
            names = [g.name for g in compile_text(said, filename="quote.md").guests]
        except CompileError:
            continue
        if names:
            out.append((line, f"the quoted text {said.splitlines()[0]!r} declares "
                              f"{', '.join(names)}, but quoted lines are someone else's words "
                              "and are not read; write it without '>' if it should be true"))
    return out


def compile_text(text: str, *, filename: str = "<text>", max_guests: int | None = None,
                 places: Places | None = None, ignored: list[CompileIssue] | None = None
                 ) -> specmod.ClusterSpec:
    """Compile one declaration file's text; raise CompileError listing every problem.

    ``ignored``: collects what was read and deliberately not used, each with its line
    (``ignored as context: '...'``, quoted e-mail text, form metadata ...).

    ``max_guests``: stop with GuestLimitError as soon as the file names more guests.
    ``places``: the cluster's names, for a bare ``on pve3`` (:mod:`.places`).
    """
    state = FileState(filename, places)
    messages: set[int] = set()  # the lines of chat messages
    text = chatlines.read(text, state.ignored, messages)  # "[21:04] <kmw> ...", "14:02 IC:"
    text = linemarks.read(text, state.ignored)  # "💡 ...", "[sic]", "Card: ...", "== x =="
    text = notemarks.lines(text, state.ignored)  # "[[name]]", "#tags", "**Name:** x"
    text, quotes, problems = mail.read(text, state.ignored)  # "> ...", "From:", "-- Mary"
    for line, message in [*problems, *_quoted_declarations(quotes)]:
        state.error(line, message)
    problems = []
    try:
        found = records.as_sentences(greetings.strip(notemarks.fields(forms.as_sentences(
            yamlblocks.as_sentences(headforms.as_form(markdown.blocks(text, headings=True),
                                                      state.ignored), problems),
            state.ignored), state.ignored), state.ignored))
    except markdown.MarkdownError as exc:
        raise CompileError.single(filename, exc.line, exc.message) from None
    for line, message in problems:  # "foo: bar" in a YAML-style block
        state.error(line, message)
    topic: Subject | None = None  # the guest a heading names, for the prose under it
    lead: leadins.LeadIn | None = None  # "Please get rid of these:", for the list below it
    items_topic: Subject | None = None  # "nas01 is a VM with:", for the list below it
    item_last: Subject | None = None  # the guest the list item before spoke of
    boxed: set[str] = set()  # the guests the checklist so far named (one: boxes go on)
    for index, block in enumerate(found):
        if state.full:
            break
        prev_item, item_last = item_last, None  # only a list item right before counts
        block = shellnotes.as_sentence(found, index)  # "# ct dns-1 1 core" alone
        if block.kind == "heading":
            _unfilled(state, lead)
            lead = None
            topic = items_topic = None
            try:
                meaning = read_heading(block.text, block.line)
            except SentenceError as exc:
                state.error(exc.line, exc.message)
                continue
            if isinstance(meaning, leadins.LeadIn):
                lead = meaning
            elif meaning:
                topic = Subject(meaning, block.line)
            continue
        if block.kind != "item":
            if _restated(lead, block) and lead is not None:
                lead.used = True  # the paragraph's own lead-in applies to the list
            _unfilled(state, lead)
            lead = None
            items_topic = None
            last_block = index + 1 == len(found) or found[index + 1].kind == "heading"
            if _title_line(block):  # "Database server" over a list: a label
                topic = None
                if last_block and not soundness.is_courtesy(block.text):  # labels nothing
                    state.error(block.line, soundness.lone_title(block.text))
                state.dropped.append((block.line, block.text))
                continue
            if _title_line(block, lead_in=True):  # "Turn these off" over a list
                found_lead = read_heading(block.text, block.line)
                if isinstance(found_lead, leadins.LeadIn):
                    if last_block and found_lead.optional:  # else _unfilled says so
                        state.error(block.line, soundness.lone_title(block.text))
                    state.dropped.append((block.line, block.text))
                    lead = found_lead
                    continue
            bold = _BOLD_RE.match(block.text)
            if bold is not None:  # "**ha-vm**" over a list of its attributes
                names = leadins.heading_names(bold.group(1), block.line)
                if names:
                    if last_block:  # a name in bold over nothing: it labels nothing
                        state.error(block.line, soundness.lone_title(block.text))
                    topic = Subject(names, block.line)
                    continue
        try:
            tokens = transcripts.turns(tokenize(block.text, first_line=block.line))
        except SentenceError as exc:
            state.error(exc.line, exc.message)
            continue
        about = items_topic if block.kind == "item" and items_topic is not None else topic
        last: Subject | None = about
        if block.kind == "item" and about is None and tokens and tokens[0].low in _PRONOUNS:
            last = prev_item  # "- web-1 is a VM" / "- it has 2 cores": the item before's guest
        elif about is None and _goes_on(block, found[index - 1] if index else None, prev_item,
                                        messages) and (not block.task or len(boxed) == 1):
            last = prev_item  # "- [ ] VM wiki-js" / "- [ ] 2 cores": the box before's guest
        sentences = split_sentences(tokens)
        for k, sentence in enumerate(sentences):
            if state.full:
                break
            filled = False
            kept: list[Token] | None = None  # strip_courtesy(sentence), once read here
            try:
                if lead is not None and block.kind == "item" and k == 0 and (
                        not lead.optional or leadins.only_names(
                            sentence, kind=lead.after[-1].low in KIND_WORDS)):
                    lead.used = filled = True
                    sentence = leadins.fill(lead, sentence)
                elif k == len(sentences) - 1 and block.kind != "item" and (
                        found_lead := leadins.lead_in(sentence)) is not None:
                    lead = found_lead
                    continue
                elif k == len(sentences) - 1 and block.kind != "item" and is_preface(
                        kept := strip_courtesy(sentence)):
                    state.dropped.append((sentence[0].line, sentence_text(sentence)))
                    continue  # "A few changes for this week:" over a list of sentences
                state.listed = filled
                last = compile_sentence(state, sentence, last, topic=about, kept=kept)
                if (k == len(sentences) - 1 and block.kind != "item" and last is not None
                        and sentence[-1].low == ":" and not sentence[-1].quoted):
                    items_topic = last  # "nas01 is a VM with:" over a list of attributes
            except SentenceError as exc:
                state.error(exc.line, exc.message)
            if max_guests is not None and len(state.drafts) > max_guests:
                raise GuestLimitError.single(filename, sentence[0].line, guest_limit_message(
                    len(state.drafts), max_guests, partial=True) + " (reading stopped here)")
        item_last = last if block.kind == "item" else None
        if block.task and item_last is not None:  # the guests this checklist named
            boxed.update(item_last.names)
        elif not block.task:
            boxed = set()
    _unfilled(state, lead)
    if ignored is not None:
        ignored.extend(CompileIssue(filename, line, text) for line, text in state.ignored)
    if state.full:  # the drafts are incomplete: checking them would report false problems
        state.error(state.issues[-1].line, f"stopped after {MAX_ISSUES} problems; fix "
                                           "these and compile again")
        raise CompileError(state.issues)
    if not state.drafts and not state.issues:  # notes only: none may be lost silently
        for line, message in soundness.nothing_declared(state.dropped):
            state.error(line, message)
    guests: list[specmod.GuestSpec] = []
    for draft in state.drafts.values():
        try:
            data, lines = guest_data(draft)
        except SentenceError as exc:
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
        return specmod.ClusterSpec.of_guests(guests)
    except ValueError as exc:
        raise CompileError.single(filename, 0, str(exc)) from None
