"""Past and passive narrative, and second-language word order, read as the state (round 9).

The passive after ``was`` is read by :func:`.passive.present` first.

**Past and passive narrative** (methods sections, reports, hand-over notes) tells what
was done to a guest; the spec holds the state that resulted, so the auxiliary ``was``/
``were`` of a passive whose participle is one of the grammar's own settings reads as
the present: ``x was provisioned with 16 cores`` (has), ``was assigned VM ID 900``,
``was given the tags a and b`` (has), ``was connected|attached to bridge vmbr3``,
``was placed|located|hosted on node N``, ``was cloned from the template T``, ``was
[subsequently|then|later] stopped|shut down|deleted|removed``. Only these participles
are read: ``x was backed up``, ``x was slow``, ``x was on node pve1`` stay as written
(and are refused), and a sentence that says both the past and a change (``x was
stopped, start it``) holds two values for one field: an error.

**Second-language order and words** (Indian and Korean speakers' English and the
like): ``may be shifted to node N`` (the node it should be on), ``is connect to``
(connected), ``firewall also enable`` / ``protection on`` (the setting, object first),
``tag is shop`` (tagged), ``the VM x id is 5000`` (its ID), ``on boot itself``
(emphasis), ``is not using anymore`` (no longer needed: a deletion), ``plus`` between
two disks (and), ``too`` closing a clause (a filler, like ``also``).

Each is a fixed sequence of words in the form of :data:`.idioms.IDIOMS` (a ``,``
meaning drops the word, so every dropped word is on this explicit list), but the
passive after ``was``, which :func:`.passive.present` reads (it needs the word before
``was``). Pure.
"""

from __future__ import annotations

__all__ = ["NARRATIVE_IDIOMS", "THEN"]

THEN = "subsequently|then|also|finally|eventually|afterwards|immediately"

NARRATIVE_IDIOMS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    # -- past and passive narrative: the rest is :func:`.passive.present`'s --
    (("provisioned|equipped", "with"), (",", "with")),  # "a VM (x) provisioned with"
    # "stopped to conserve resources": the reason of a power-off
    (("to", "conserve", "resources|power|energy"), (",", ",", ",")),
    # -- second-language word order and words --
    (("may", "be", "shifted|moved", "to"),
     ("should", "be", ",", "on")),
    (("is|are", "connect", "to"), ("", "connected", "")),
    (("firewall", "also", "enable|enabled"), ("firewall", ",", "on")),
    (("firewall", "enable"), ("firewall", "on")),
    (("protection", "also", "enable|enabled|on"), ("protection", ",", ",")),
    (("protection", "enable|enabled|on"), ("protection", ",")),
    (("tag|tags", "is|are"), ("tagged", ",")),
    (("id|vmid", "is"), ("id", ",")),
    (("boot|booting|startup", "itself"), ("", ",")),
    # "It is not using anymore": no longer needed (a deletion)
    (("not", "using|used|required|needed", "anymore|now"), ("no", "longer", "needed")),
    (("not", "using|used|required|needed", "any", "more|longer"), ("no", "longer", "needed", ",")),
    # "..., it is not required now" after a deletion: the reason .closings drops
    (("not", "required|using|used"), ("not", "needed")),
    # "The VM x stays, but switch it off": it stays (a guest is kept unless told)
    (("stays|remains", ",", "but"), (",", ",", ",")),
    # "protect it against deletion": from deletion; "... and protect it from deletion"
    # after another imperative: protected
    (("and", "protect", "it|them", "from|against", "deletion|removal"),
     ("", "protected", ",", ",", ",")),
    (("against", "deletion|removal"), ("from", "")),
    # "enable protection" after a colon ("VM keycard: enable protection")
    (("enable|activate", "protection"), (",", "")),
    (("plus",), ("and",)),
)
