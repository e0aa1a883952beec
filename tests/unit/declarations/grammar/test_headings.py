"""A Markdown heading is a guest's name, a lead-in for the list under it, a title, or an
error: never silently dropped (``## Shut these down`` once compiled to guests with nothing
stated)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.declarations.grammar.test_phrasing import check, error


@pytest.mark.parametrize(("text", "expected"), [
    ("## Shut these down\n\n- build-1\n- build-2\n",
     {"build-1": {"state": "stopped"}, "build-2": {"state": "stopped"}}),
    ("## Delete all of these\n\n- x\n", {"x": {"state": "absent"}}),
    ("# Make them 8 cores\n\n- web-1 is a VM\n- web-2 is a container\n",
     {"web-1": {"kind": "vm", "cores": 8}, "web-2": {"kind": "ct", "cores": 8}}),
    ("### Decommission\n\n1. old-1\n2. old-2\n",
     {"old-1": {"state": "absent"}, "old-2": {"state": "absent"}}),
    ("## Delete all of the following VMs:\n\n- a-1\n", {"a-1": {"kind": "vm", "state": "absent"}}),
    ("Turn these off\n===============\n\n- a-1\n", {"a-1": {"state": "stopped"}}),
    ("## Containers\n\n- pihole\n- unifi\n", {"pihole": {"kind": "ct"}, "unifi": {"kind": "ct"}}),
    # Confluence/Jira wiki markup and Textile headings ("h3." once read as a guest h3)
    ("h3. Containers\n* pihole — 1 core\n* unifi\n",
     {"pihole": {"kind": "ct", "cores": 1}, "unifi": {"kind": "ct"}}),
    ("h1. Shut these down\n\n- build-1\n", {"build-1": {"state": "stopped"}}),
    ("Database server\n\n- name: pg-3\n- cpu: 4\n- ram: 16 GB\n",
     {"pg-3": {"cores": 4, "memory_mib": 16384}}),
])
def test_a_heading_that_leads_in_applies_to_the_list_under_it(
        text: str, expected: dict[str, dict[str, Any]]) -> None:
    check(text, expected)


@pytest.mark.parametrize("heading", ["## Web servers", "# Lab", "### Dev environment",
                                     "## Windows", "## dmz", "## 2. Containers",
                                     "h2. Web servers", "h6. Lab",
                                     "Databases\n---------"])
def test_a_heading_that_is_a_title_is_only_a_label(heading: str) -> None:
    check(f"{heading}\n\nweb-1 is a VM with 2 cores.\n\n- db-1 is a container\n",
          {"web-1": {"kind": "vm", "cores": 2}, "db-1": {"kind": "ct"}})


@pytest.mark.parametrize(("text", "quoted"), [
    ("## Web servers with 4 cores\n\n- web-1 is a VM\n", '"Web servers with 4 cores" states'),
    ("## Stopped for good\n\nweb-1 is a VM.\n", '"Stopped for good" states something ("Stopped")'),
    ("## Give web-1 8 GB\n\nweb-1 is a VM.\n", '"Give web-1 8 GB" states'),
    # over prose (alone, it is a shell comment: read as a sentence, test_context.py)
    ("## Containers: c-30, c-31\n\nweb-1 is a VM.\n",
     '"Containers: c-30, c-31" states something ("c-30")'),
    ("# Make them 8 cores\n\nweb-1 is a VM.\n",
     'the heading "Make them 8 cores" announces a list of guests, but no list follows'),
])
def test_a_heading_that_states_what_it_cannot_apply_is_an_error(text: str, quoted: str) -> None:
    message = error(text)
    assert quoted in message
    assert "t.md:1:" in message


def test_every_opener_and_idiom_word_is_a_word_of_the_grammar() -> None:
    """A guest named like an opener or an idiom ("ok", "drop") is quoted when rendered."""
    from mycopod.declarations.grammar import idioms, lexicon, openers
    words = (set(openers.OPENERS) | set(openers.LABELS)
             | {w for seq in (*openers.QUESTION_OPENERS, *openers.CLOSERS) for w in seq}
             | {w for w in idioms._MATCHED if w != "NAME"})
    assert sorted(w for w in words if not lexicon.is_vocab(w)) == []
