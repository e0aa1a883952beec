"""Reports of what was done, read as the state they leave: ``Moved immich to pve2``.

Changelogs and tickets say what someone did: ``Added tag prod to api-1``, ``Moved the VM
immich to pve2``, ``Made an LXC named syncthing, 1 core``, ``Decommissioned the container
y``, ``Tagged it sync``, ``I stopped build-7``. The declared state is the result, which is
what the imperative of the same verb states (``Move the VM immich to pve2``), so
:func:`report_to_imperative` replaces a past-tense verb of :data:`PAST_TENSE` at the start
of a sentence (optionally after ``I`` or ``we``) by its imperative and the sentence is read
as a request. Nothing else changes: a condition after it (``I stopped x, don't start it
again until Monday``) is still refused, and so is a relative change (``Added 2 more
cores``, and ``Added 2 cores to x``: two more than before, not two). Only the verbs
listed here, and only first in the sentence. A report in the present (``Spinning up a
container named x``, ``deleting tmp-1``, ``I'm turning off y``) is read the same way
(:data:`GERUNDS`). Pure.
"""

from __future__ import annotations

from dataclasses import replace

from mycopod.declarations.grammar import results
from mycopod.declarations.grammar.lexicon import KIND_WORDS, SUBJECT_VERBS
from mycopod.declarations.grammar.tokens import Token

__all__ = ["GERUNDS", "PAST_TENSE", "report_to_imperative"]

#: past tense -> the imperative whose state it reports
PAST_TENSE = {
    "added": "add", "moved": "move", "created": "create", "made": "make",
    "decommissioned": "decommission", "retired": "retire", "powered": "power",
    "tagged": "tag", "removed": "remove", "deleted": "delete", "destroyed": "destroy",
    "stopped": "stop", "started": "start", "nuked": "nuke", "attached": "attach",
    "connected": "connect", "enabled": "enable", "disabled": "disable", "pinned": "pin",
    "assigned": "assign", "provisioned": "provision", "deployed": "deploy",
    "switched": "switch", "turned": "turn", "bumped": "bump", "increased": "increase",
    "cloned": "clone", "gave": "give", "put": "put", "set": "set", "rebuilt": "create",
    "spun": "spin", "migrated": "move", "re-created": "create", "recreated": "create",
}
#: a report in the present (``Spinning up a container named x``, ``deleting tmp-1``): the
#: same reading as the past tense, first in the sentence only
GERUNDS = {
    "giving": "give", "tagging": "tag", "adding": "add",
    "spinning": "spin", "creating": "create", "deploying": "deploy", "provisioning":
    "provision", "deleting": "delete", "removing": "remove", "stopping": "stop", "turning":
    "turn", "shutting": "shut", "moving": "move", "migrating": "move", "bumping": "bump",
    "powering": "power", "decommissioning": "decommission", "retiring": "retire",
    "switching": "switch", "destroying": "destroy", "nuking": "nuke",
}
_VERBS = {**PAST_TENSE, **GERUNDS}
_WHO = frozenset({"i", "we", "i've", "we've", "i'm", "we're"})


def report_to_imperative(tokens: list[Token]) -> list[Token]:
    """``tokens`` with a leading report verb (see the module's docstring) made imperative,
    and the other report shapes of :mod:`.results` in the grammar's words."""
    tokens = results.rewrite(tokens)
    k = 1 if len(tokens) > 2 and tokens[0].low in _WHO and not tokens[0].quoted else 0
    if len(tokens) < k + 2 or tokens[k].quoted or tokens[k].low not in _VERBS:
        return tokens
    if tokens[k + 1].low in SUBJECT_VERBS | {"sits", "lives"}:
        return tokens  # "Stopped runs in a VM ...": the word is a subject, not a verb
    if tokens[k + 1].low in ("-", "--", "\u2013", "\u2014") or any(
            t.low == ":" for t in tokens[k + 1:k + 3]):
        return tokens  # "Tagged prod: web-63 is a VM", "Decommissioning - ...": a lead-in
    verb = _VERBS[tokens[k].low]
    if verb == "clone" and tokens[k + 1].low in ("the", "a", "an") and tokens[
            k + 2].low in KIND_WORDS and any(t.low == "template" for t in tokens):
        verb = "create"  # "Cloned the VM x from the template t": x is that clone
    if verb == "add" and tokens[k + 1].low[:1].isdigit():
        return tokens  # "Added 2 cores to x" reports a change (2 more), not the count
    if verb == tokens[k].low and not k:
        return tokens  # "Set crm-app to ...": already an imperative
    return results.later_reports(
        [replace(tokens[k], text=verb, low=verb), *tokens[k + 1:]], _VERBS)
