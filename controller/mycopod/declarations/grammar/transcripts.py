"""A chat transcript pasted as a note: the user's turns are read, the bot's acknowledged.

Support chats and bot conversations are pasted as they are, one turn a line, each line
opening with its speaker: ``User: I need a VM called crm-2 with 2 cores.`` / ``Bot:
Sure! Anything else?`` / ``User: No, that's it.`` :func:`turns` reads such a paragraph
and only when each of its lines opens with a speaker of :data:`USERS` or :data:`BOTS`
then ``:``:

- a user's turn is read as a sentence of its own: its speaker label is dropped and the
  turn ends where the next line's speaker begins (a turn that opens with ``and``
  continues the user's previous turn: ``User: the VM x needs 4 cores`` / ``User: and 8
  GB RAM``);
- a bot's turn is dropped only when it is made of the acknowledgements and generic
  questions of :data:`BOT_PHRASES` (``Sure!``, ``Got it.``, ``Understood.``, ``I'll note
  that down.``, ``Anything else?``, ``What is the request?``). Any other bot turn asks or
  states something the user's answer depends on (``Which guest should be removed?`` /
  ``the container old``): it is an error that quotes it, so an answer is never read
  without its question.

A paragraph whose first line has no speaker is left as it is (a ``User:`` there is read
as any other word). Pure.
"""

from __future__ import annotations

from mycopod.declarations.grammar.tokens import SentenceError, Token, sentence_text

__all__ = ["BOTS", "BOT_PHRASES", "USERS", "turns"]

#: speakers whose turns are the request
USERS = frozenset({"user", "customer", "human", "requester", "me"})
#: speakers whose turns only acknowledge or ask
BOTS = frozenset({"bot", "chatbot", "assistant", "agent"})
#: what a bot's turn may be made of to be dropped (each a whole phrase, between
#: punctuation): acknowledgements and questions that carry no guest or setting
BOT_PHRASES: frozenset[tuple[str, ...]] = frozenset({
    ("sure",), ("ok",), ("okay",), ("done",), ("noted",), ("got", "it"), ("understood",),
    ("certainly",), ("of", "course"), ("no", "problem"), ("will", "do"), ("thanks",),
    ("thank", "you"), ("hello",), ("hi",), ("great",), ("perfect",),
    ("i", "will", "note", "that", "down"), ("i", "will", "take", "care", "of", "it"),
    ("i", "will", "take", "care", "of", "that"), ("anything", "else"),
    ("is", "there", "anything", "else"), ("what", "is", "the", "request"),
    ("what", "can", "i", "do", "for", "you"), ("how", "can", "i", "help"),
    ("how", "can", "i", "help", "you"), ("how", "may", "i", "help", "you"),
    ("what", "do", "you", "need")})
_BREAKS = frozenset({".", "?", ",", ";"})


def _speaker(tokens: list[Token], k: int) -> str | None:
    """``user`` / ``bot`` when a speaker label opens the line at ``k``, else None."""
    if k + 1 >= len(tokens) or tokens[k].quoted or tokens[k + 1].low != ":" or (
            k and tokens[k - 1].line == tokens[k].line):
        return None
    w = tokens[k].low
    return "user" if w in USERS else "bot" if w in BOTS else None


def _acknowledges(turn: list[Token]) -> bool:
    """Is a bot's turn only phrases of :data:`BOT_PHRASES`?"""
    phrase: list[str] = []
    for t in [*turn, Token(".", ".", 0)]:
        if t.low in _BREAKS and not t.quoted:
            if phrase and tuple(phrase) not in BOT_PHRASES:
                return False
            phrase = []
        else:
            phrase.append(t.low)
    return True


def turns(tokens: list[Token]) -> list[Token]:
    """A transcript paragraph's tokens as the user's sentences (see the module's
    docstring); any other paragraph comes back as it is."""
    if not tokens or _speaker(tokens, 0) is None:
        return tokens
    starts = [k for k in range(len(tokens)) if k == 0 or tokens[k].line != tokens[k - 1].line]
    if any(_speaker(tokens, k) is None for k in starts):
        return tokens
    out: list[Token] = []
    for n, k in enumerate(starts):
        turn = tokens[k + 2:starts[n + 1] if n + 1 < len(starts) else len(tokens)]
        if _speaker(tokens, k) == "bot":
            if not _acknowledges(turn):
                raise SentenceError(tokens[k].line, (
                    f"the bot's turn \"{sentence_text(turn)}\" is not an acknowledgement "
                    "(like 'Sure!', 'Got it.' or 'Anything else?'), and a user's answer is "
                    "never read without the question it answers: write the whole request "
                    "as the user's own turn, like 'User: delete the container old-1'"))
            continue
        if not turn:
            continue
        if out and out[-1].low != "." and turn[0].low != "and":
            out.append(Token(".", ".", out[-1].line))
        out.extend(turn)
    return out
