"""A guest introduced by a description before or around its name (grammar/introduced.py):
the guest the structure names, and the ambiguous shapes that stay refused."""

from __future__ import annotations

from tests.support.grammar import error, stated


def test_a_description_then_a_hostname_then_a_verb_is_that_guest() -> None:
    assert stated("The till receipt printer rcpt-2 should be switched off.") == {
        "rcpt-2": {"name": "rcpt-2", "state": "stopped"}}


def test_a_description_a_kind_and_a_colon_then_a_plain_name() -> None:
    assert stated("Seed catalogue VM: seedcat, 2 cores") == {
        "seedcat": {"name": "seedcat", "kind": "vm", "cores": 2}}


def test_a_name_in_parentheses_after_name_colon() -> None:
    assert stated("Greenhouse climate container (name: gh-clim) - give it 1 core.") == {
        "gh-clim": {"name": "gh-clim", "kind": "ct", "cores": 1}}


def test_names_before_their_noun_after_a_verb() -> None:
    assert stated("Tag the till-a and till-b boxes with shop.") == {
        "till-a": {"name": "till-a", "tags": ["shop"]},
        "till-b": {"name": "till-b", "tags": ["shop"]}}
    assert stated("Get rid of the old label-maker container.") == {
        "label-maker": {"name": "label-maker", "kind": "ct", "state": "absent"}}


def test_a_count_of_described_nouns_then_the_names() -> None:
    got = stated("Two scan agents, sa-1 and sa-2, each a container with 1 core.")
    assert sorted(got) == ["sa-1", "sa-2"]
    assert got["sa-1"] == {"name": "sa-1", "kind": "ct", "cores": 1}
    assert "expected the kind of guest" in error(
        "Three scan agents, sa-1 and sa-2, each a container with 1 core.")


def test_the_names_after_a_colon_ending_the_sentence() -> None:
    assert stated("All kiosks should come up on boot: k-1, k-2.") == {
        "k-1": {"name": "k-1", "onboot": True},
        "k-2": {"name": "k-2", "onboot": True}}


def test_ambiguous_descriptions_are_refused() -> None:
    # which word is the name? the structure does not say
    assert "could not find which guest" in error("The scale reader scale should be stopped.")
    # a second hostname-like word
    assert "expected 'it', 'them' or a guest's name" in error("Remove the old-pos pos-2 VM.")
    # a name after "for" is what the thing is for, not the thing
    assert "could not find which guest" in error("The backup for db-1 can be deleted.")
    # a vague size is never a description
    assert "a size word says no size" in error("The small VM web-5 gets 2 cores.")
