"""Second-language grammar, verbs and SMS shorthand, read as the grammar's own words.

Round 8's sentence-level classes, each a fixed sequence of words (the form of
:data:`.idioms.IDIOMS`, which registers :data:`PHRASING_IDIOMS` before
:data:`.verbs.VERB_IDIOMS`) rewritten to what it means; a ``,`` meaning drops the word,
so every dropped word is on this explicit list. Pure.
"""

from __future__ import annotations

from mycopod.declarations.grammar.narrative import NARRATIVE_IDIOMS
from mycopod.declarations.grammar.politeness import MODAL_IDIOMS, TRAILING
from mycopod.declarations.grammar.tokens import Token

__all__ = ["PHRASING_IDIOMS", "PHRASING_WORDS", "restated_numbers"]

#: number words (lexicon's, repeated here: lexicon imports this module)
SMALL_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
TENS = {w: 10 * (i + 2) for i, w in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split())}

_DELETED = "removed|deleted|eliminated|erased|excluded"
_MADE = "made|built|created|derived|based|spun|generated|produced"

PHRASING_IDIOMS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    *MODAL_IDIOMS,
    *NARRATIVE_IDIOMS,  # round 9: past and passive narrative, word order (.narrative)
    # -- second-language grammar and prepositions --
    # a copula before the size, with or without the Romance "of": "the disk is of 200 GB",
    # "its disk should be 500 GB on storage x": the guest's disk of that size
    # ("the disk of 200 GB", "its RAM 16 GB" are read as they stand)
    # ("its disk is on tank" is where it is: kept as written, first)
    (("disk", "is|are", "on|in|stored|placed|located"), ("", "", "")),
    (("disk", "should|must|shall|will", "be", "on|in|stored|placed|located"),
     ("", "", "", "")),
    (("disk", "is|are", "of"), ("", "of", ",")),
    (("disk", "is|are"), ("", "of")),
    (("disk", "should|must|shall|will", "be", "of"), ("", "of", ",", ",")),
    (("disk", "should|must|shall|will", "be"), ("", "of", ",")),
    # "the memory is of 16 GB", "its RAM should be 8 GB": the memory setting
    (("memory|ram", "is|are", "of"), ("", ",", ",")),
    (("memory|ram", "is|are"), ("", ",")),
    (("memory|ram", "should|must|shall|will", "be"), ("", ",", ",")),
    # "in the node pve-sp", "in the storage backup-hdd", "at node x": "on"
    (("in|at", "the", "node|storage|bridge"), ("on", ",", "")),
    (("in|at", "node|storage|bridge"), ("on", "")),
    # "one disk of 1 TB": the article said as the number
    (("one", "disk", "of"), ("a", "", "")),
    # "can be removed of the cluster", "deleted from the server": the deletion
    ((_DELETED, "of|from", "the", "cluster|server|servers|host|system"),
     ("", ",", ",", ",")),
    # a deletion "of|from the cluster" after the participle's rewrite ("can be removed")
    (("of|from", "the", "cluster"), (",", ",", ",")),
    # "shall receive the identifier 700", "gets the ID 150": its ID
    (("receive|receives|obtain|obtains|get|gets", "the", "identifier|id|vmid"),
     ("have", "", "id")),
    (("identifier",), ("id",)),
    # "eight processor cores", "the storage named archive-pool": the noun's own words
    (("processor|cpu", "cores|core"), (",", "")),
    (("storage|datastore|bridge|pool", "named|called"), ("", ",")),
    # "A container, oral-history, is required: two cores, ...": what it has
    (("is|are", "required|needed|requested", ":"), ("has", ",", ",")),
    # "We need two more containers, bot-a and bot-b": more of the kind, counted by name
    (("more", "vm|vms|container|containers|ct|cts|lxc|lxcs"), (",", "")),
    # -- verbs and idioms --
    (("we|i", "require"), ("", "need")),  # "we require a virtual machine, to be called x"
    (("rm|del",), ("delete",)),
    (("prepare",), ("create",)),  # "Please prepare a container named x"
    (("erase",), ("delete",)), (("erased",), ("deleted",)),
    (("allocate",), ("assign",)),  # "allocate 4 cores to the VM x"
    # "needs of 8 GB of RAM": the Romance "of" after the verb
    (("need|needs", "of"), ("", ",")),
    (("cancel", "and", "remove|delete|destroy"), (",", ",", "")),
    # "attach the tags a and b to x", "apply the tag web": add them
    (("attach|apply|assign", "the", "tag|tags|label|labels"), ("add", "", "")),
    (("attach|apply|assign", "tag|tags|label|labels"), ("add", "")),
    # "scale x to 8 cores", "scale up x to 8 cores"
    (("scale|upsize|downsize", "NAME|it|them", "to"), ("set", "", "")),
    (("scale", "up|down", "NAME|it|them", "to"), ("set", ",", "", "")),
    # "made from the template win11-base", "based on the template t": cloned
    # (the participle dropped: "from the template" is read by the source phrase, a VM
    # template or a container's local:vztmpl/... volume)
    ((_MADE, "from|on|off", "the", "template"), (",", "from", "", "")),
    ((_MADE, "from|on|off", "template"), (",", "from", "")),
    # "the machine known as scan-legacy": its name
    (("known|referred", "as"), ("named", ",")),
    # -- SMS and chat shorthand --
    (("n",), ("and",)), (("w/",), ("with",)), (("w/o",), ("without",)),
    (("auto", "start|boot|starts|boots", "ok|yes|on|please|pls"), ("autostart", ",", ",")),
    (("auto", "start|boot|starts|boots"), ("autostart", ",")),
)

#: every word of :data:`PHRASING_IDIOMS` and of the closing softeners of
#: :data:`.politeness.TRAILING` (:mod:`.lexicon` counts them as the grammar's)
PHRASING_WORDS = frozenset(
    w for words, _ in PHRASING_IDIOMS for group in words for w in group.split("|")
    if w.replace("/", "").isalpha() and w != "NAME") | frozenset(
    w for words in TRAILING for w in words)


def restated_numbers(tokens: list[Token]) -> list[Token]:
    """``one (1) VM``, ``four (4) GB``: a number word with its digits restated in brackets
    (contracts, purchase orders) reads as the number once; brackets whose digits differ
    from the word before them are left as written (and refused)."""
    if "(" not in [t.low for t in tokens]:
        return tokens  # the common case
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if (t.low == "(" and out and i + 2 < len(tokens) and tokens[i + 2].low == ")"
                and not t.quoted and tokens[i + 1].low.isdigit()
                and SMALL_NUMBERS.get(out[-1].low, TENS.get(out[-1].low, -1)) == int(
                    tokens[i + 1].low)):
            i += 3
            continue
        out.append(t)
        i += 1
    return out
