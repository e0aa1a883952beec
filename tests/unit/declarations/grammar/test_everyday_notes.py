"""Notes as admins write them (issue 13, second round): what the grammar now reads, and
the refusals that must stay refusals, each quoting the words and saying what was expected.
The corpus (corpus/*.jsonl) measures the classes; these pin the rules behind them."""

from __future__ import annotations

import pytest

from tests.unit.declarations.grammar.test_phrasing import check, error, stated


@pytest.mark.parametrize(("text", "message"), [
    ("Could web-1 be a VM?", "'Could' reads as an English word where a guest's name was "
                             "expected"),
    ("Foo web-1 is a VM.", "'Foo' reads as an English word"),
    ("Rename web-1 to web-2.", "'Rename' reads as an English word"),
])
def test_an_opening_word_in_the_name_slot_is_called_a_word(text: str, message: str) -> None:
    assert message in error(text)


@pytest.mark.parametrize(("text", "quoted"), [
    ("Remove w-1, it is not used since 2022.", '"not used since 2022"'),  # a number
    ("Turn off x-1, I'm done testing web-2.", '"I\'m done testing web-2"'),  # a name
    ("Turn off web-1, the disk is full.", '"disk is full"'),  # a word of the grammar
    ("web-1 is a VM with 4 cores instead of 2 GB.", '"instead of 2 GB"'),  # another measure
])
def test_a_trailing_clause_that_states_something_is_refused(text: str, quoted: str) -> None:
    assert f"could not understand {quoted}" in error(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("Turn off x-1, I'm done testing.", {"x-1": {"state": "stopped"}}),
    ("Please delete y-1, the branch is merged.", {"y-1": {"state": "absent"}}),
    ("Please decommission z-1; it has been replaced by the new one.", {"z-1": {"state": "absent"}}),
    ("x-2 is a VM. Give it 4 cores instead of 2.", {"x-2": {"kind": "vm", "cores": 4}}),
])
def test_a_trailing_reason_is_dropped(text: str, expected: dict[str, dict[str, object]]) -> None:
    check(text, expected)


def test_a_second_bare_size_is_ambiguous() -> None:
    message = error("nas-2: VM, 16 GB, 64 GB\n")
    assert "two sizes without a noun (\"16 GB\" on line 1 and \"64 GB\")" in message
    assert "'a 64 GB disk'" in message


def test_a_bare_size_followed_by_disk_words_is_the_disk() -> None:
    check("nas-2: VM, 4 cores, 16 GB, 64G disk\n",
          {"nas-2": {"memory_mib": 16384, "disks": [{"slot": "scsi0", "size_gib": 64}]}})


@pytest.mark.parametrize(("text", "plain_word"), [
    ("web-1 is a VM with eight potatoes.", "'weight'"),
    ("web-1 is a VM we are testing a lot.", "'nesting'"),  # no comma: no clause of its own
    ("web-1 is a VM on staging.", "'starting'"),
    ("web-1 is a VM mounted at /data.", "'data'"),
    ("web-1 is a VM with 2 cores (fast ones).", "'clones'"),
])
def test_no_suggestion_of_a_keyword_for_plain_english(text: str, plain_word: str) -> None:
    message = error(text)
    assert "could not understand" in message
    assert plain_word not in message


def test_a_typo_of_a_keyword_is_still_suggested() -> None:
    assert "(did you mean 'cores' instead of 'coers'?)" in error("web-1 is a VM with 2 coers.")
    assert "(did you mean 'tagged' instead of 'taged'?)" in error("web-1 is a VM taged web.")


@pytest.mark.parametrize(("text", "expected"), [
    ("Attach vault-2 to vmbr5.", {"vault-2": {"networks": [{"slot": "net0",
                                                           "bridge": "vmbr5"}]}}),
    ("Drop web-1 to 2 cores.", {"web-1": {"cores": 2}}),
    ("Remove rm-9, someone needs it.", {"rm-9": {"state": "absent"}}),
])
def test_words_that_were_misread_before(text: str, expected: dict[str, dict[str, object]]
                                        ) -> None:
    """A range ("vault-2 to vmbr5"), a deletion ("Drop ... to 2 cores"), a guest named
    "someone": each compiled to something else before; now exactly what is stated."""
    got = stated(text)
    assert set(got) == set(expected)
    for name, fields in expected.items():
        assert {k: v for k, v in got[name].items() if k not in ("name", "kind")} == fields


def test_a_subject_alone_shares_the_next_clause_when_the_verb_is_plural() -> None:
    """It compiled to web-1 with nothing stated (the 'stopped' lost) before."""
    check("The VM web-1 and the container db-1 are stopped.\n",
          {"web-1": {"kind": "vm", "state": "stopped"}, "db-1": {"kind": "ct", "state": "stopped"}})
    assert "nothing is said about web-1" in error("web-1 and the container db-1 is stopped.\n")


@pytest.mark.parametrize("text, tags", [
    ("w is a VM tagged c, he and q.", ["c", "he", "q"]),
    ("w is a VM, tagged web, my and ops.", ["my", "ops", "web"]),
])
def test_the_end_of_a_list_is_never_dropped_as_a_trailing_reason(text: str,
                                                                  tags: list[str]) -> None:
    # "he", "my", "it" open a trailing reason ("..., it's for testing"), but after a
    # comma in a list with a last "and" they are items: dropping them lost tags silently
    # (found by the render/compile round trip's property test)
    assert stated(text)["w"]["tags"] == tags
    # "it" stays a pronoun there: refused, not dropped
    assert '"web"' in error("w is a VM tagged prod, it and web.")
