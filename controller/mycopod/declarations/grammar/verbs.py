"""Verbs and idioms of change and place, read as the grammar's own words (:mod:`.idioms`).

Statements of work, minutes and notes by people writing in a second language say what a
guest should be with verbs the grammar's phrases do not hold: ``is to be created with
4 cores``, ``must be provisioned with``, ``should be given eight cores``, ``needs to be
bumped to 12 GB``, ``resized to 50 GB``, ``augment the RAM of x to 16 GB``, ``shall be
placed in pool finance``, ``shall reside on node pve2``, ``should stay that way``, ``the
machine virtual x`` (the French order), ``..., tag it bots``, ``privileged: no``,
``Create please ...``. Each is a fixed sequence of words (:data:`VERB_IDIOMS`, the same
form as :data:`.idioms.IDIOMS`, which registers them) rewritten to what it means:
``has``/``have``, ``set``, ``is``/``be`` or a filler (``,``: dropped), so every dropped
word is on this explicit list. A past participle (``bumped``, ``resized``) states a
value, never a one-off action: ``web-1 resized to 4 cores`` says web-1 has 4 cores. Pure.
"""

from __future__ import annotations

__all__ = ["VERB_IDIOMS", "VERB_WORDS"]

_CREATED = "created|provisioned|built|deployed|set|configured|furnished|equipped|delivered"

VERB_IDIOMS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    # "file-srv is to be created with 4 cores": what it has
    (("is|are", "to", "be", _CREATED, "with"), ("has", ",", ",", ",", ",")),
    (("must|shall|should|will|would", "be", _CREATED, "with"), ("", ",", "have", ",")),
    (("to", "be", _CREATED, "with"), (",", ",", "has", ",")),
    # "Container log-agg exists with 4 cores" (acceptance criteria): what it has
    (("exists", "with"), ("has", ",")),
    # "should be given eight cores", "ought to be given the ID 150"
    (("be", "given"), (",", "have")),
    (("ought", "to"), ("should", ",")),
    # a change stated by its past participle: "needs to be bumped to 12 gigs"
    (("bumped|increased|raised|resized|grown|upgraded|augmented|enlarged|expanded", "to"),
     ("set", "")),
    (("augment|enlarge",), ("set",)),  # not "upgrade"|"expand": node operations, relative
    # where it is: "shall be placed in pool finance", "shall reside on node pve2"
    (("placed|put|pinned", "in|on|into|onto"), (",", "")),
    (("reside|live|stay|remain", "on|in|upon"), ("be", "")),
    (("upon",), ("on",)),
    # "should stay that way": the state already said
    (("should|must|will|shall", "stay|remain", "that|this", "way"), (",", ",", ",", ",")),
    # "(I want) the container x to have 2 GB", "x to be stopped" (.framing)
    (("NAME", "to", "have"), ("", ",", "has")),
    (("NAME", "to", "be"), ("", ",", "is")),
    # a time word after the statement: "..., effective immediately"
    (("effective", "immediately|now|today"), (",", ",")),
    (("asap|immediately",), (",",)),
    # "privileged: no", "unprivileged: yes": the setting written as a record's field
    (("privileged", ":", "no|false"), ("unprivileged", ",", ",")),
    (("privileged|unprivileged", ":", "yes|true"), ("", ",", ",")),
    # "Create please two containers": the courtesy after the verb
    (("create|delete|remove|stop|start|make|give|add", "please"), ("", ",")),
    # "should come up on boot": starts on boot
    (("come|comes", "up", "on|at", "boot"), ("start", ",", "", "")),
    # "it must start at the boot": the article a second language puts there
    (("at|on", "the", "boot"), ("", ",", "")),
    # "each one with 1 core": "one" is a pronoun there
    (("each", "one", "with"), ("", ",", "")),
    # "the machine virtual facturation": the French order of "virtual machine"
    (("machine", "virtual"), ("vm", ",")),
    # "..., tag it bots": the tags of the guest already named
    ((",|and", "tag|label", "it|them"), ("", "tagged", ",")),
)

#: every word of :data:`VERB_IDIOMS` (:mod:`.lexicon` counts them as words of the grammar,
#: so a guest named like one is quoted when rendered)
VERB_WORDS = frozenset(w for words, _ in VERB_IDIOMS for group in words
                       for w in group.split("|") if w.isalpha() and w != "NAME")
