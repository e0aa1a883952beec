"""Issue 13's held-out measurement, second to fifth sets (the first is
``test_heldout.py``): notes written by engineers the grammar was never shown to, one
folder per set (``heldout2/`` .. ``heldout5/``, each with ``notes.jsonl`` and
``impossible.jsonl``), compiled offline by the grammar alone. ``pytest -s`` prints the
figures; ``bench/heldout.py --set NAME`` prints them with every refused and wrong note.

Only the two things the issue fixes are asserted: nothing compiles wrong and every
impossible request is refused. The exact rate is printed, not asserted.

**heldout2**: 176 notes in 12 styles (nervous first-time homelabber, terse changelog,
German admin writing English, Reddit post, MSP runbook, Slack message, README inventory,
migration plan, onboarding checklist, ticket comment, sysadmin e-mail, forum help post)
and 24 impossible requests. When written: 29 of 176 exact (16.5 %), 146 refused, 1 wrong
("yo, ci-cache container -> 8 GB RAM please" also declared a container named "yo"; chat
greetings are openers since then). After the third round of grammar work, which used
this set as its development set (so it is no longer held out): 53 of 176 exact (30.1 %),
123 refused, 0 wrong; 24 of 24 refused.

**heldout3**: 152 notes in 12 styles (homelab YouTuber's video notes, school IT
inventory, law firm's outsourced IT ticket thread, Proxmox forum help post, ansible TODO
list, self-hoster's blog changelog, CTO's Slack one-liners, non-native speaker's e-mail,
Markdown table inventory, handover document, teenager's game servers, research lab
notebook) and 24 impossible requests. When written: 26 of 152 exact (17.1 %), 124
refused, 2 wrong: "kill the vm investor-demo, done with it" also deleted a VM named
"done" (never read as a name since then: the note is refused), and "truenas, a VM, 8
cores, 32 GB RAM, running on pve1." states ``state: running`` as well as the node, the
grammar's documented reading after the guest (as the corpus, docs/declarations.md and
the second set's author have it), which the lead accepted: its expectation says so now.
After grammar round 3 (trained on the second set, never on this one): 48 of 152 exact
(31.6 %), 104 refused, 0 wrong; 24 of 24 refused.

**heldout4**: 166 notes in 15 styles (dental practice office manager, Discord server
admin, consultant's statement of work, university lab instructions, home-automation wiki,
nonprofit volunteer, DevOps commit messages, retired engineer's careful prose, sales
engineer's demo checklist, family home-server README, meeting minutes, standup update,
Jira story, French speaker's English, Spanish speaker's English), all styles no earlier
set used, and 28 impossible requests in the same styles. 10 notes name a node without
the word "node" ("on pve-nuc"); they carry ``"facts_needed": true`` and expect the node.
When written (grammar at main b4bda29): 14 of 166 exact (8.4 %), 152 refused, 0 wrong;
28 of 28 refused. None of the 10 facts_needed notes compiled (all refused).

**heldout5**: 167 notes in 14 styles (veterinary clinic receptionist, church volunteer,
e-sports team manager, landlord's smart-building notes, podcast producer, freelance web
designer's client notes, Terraform-minded engineer's prose, Hacker News comment, Mastodon
thread, support chatbot transcript, Kanban card, incident postmortem action items, Italian
speaker's English, teacher's classroom lab plan), all styles no earlier set used, and 28
impossible requests in the same styles. 5 notes name a node without the word "node" ("on
pve-basement"); they carry ``"facts_needed": true`` and expect the node. When written
(grammar at main 44b8677): 36 of 167 exact (21.6 %), 131 refused, 0 wrong; 28 of 28
refused. None of the 5 facts_needed notes compiled (all refused). The refusals by the
grammar's first message: 49 could not find the guest behind a fronted phrase, a chat
speaker ("User:", "Bot:") or a thread number ("5/"); 35 a trailing remark or reason
after the settings ("..., the kids complain about lag"); 25 a lead-in word or label read
as a guest's name ("Dr. Patel ...", "Client: ...", "AI-2: ...", "DONE? ..."); 4 vague
words; 4 verb-first requests it does not take ("Tag X and Y with ..."); 3 number words
outside a measure; 3 time or condition clauses; 3 a bare "on NAME"; 2 a count or
description before the names; 3 others (an IP after "static IP,", a table column "site",
"DOING - loki" read as a range). After grammar round 5: 39 of 167 exact (23.4 %); after
round 6 (which used this set for development, by classes of phrasing): 71 of 167 exact
(42.5 %), 96 refused, 0 wrong; 28 of 28 refused.
"""

from __future__ import annotations

import json

import pytest

from tests.support import heldout


@pytest.fixture(scope="module", params=["heldout2", "heldout3", "heldout4", "heldout5"])
def figures(request: pytest.FixtureRequest) -> heldout.Figures:
    return heldout.measure(heldout.folder(request.param))


def test_the_set_is_measured_and_its_figures_printed(figures: heldout.Figures) -> None:
    details = figures.details()
    print(json.dumps(details, indent=2, ensure_ascii=False))
    summary = details["overall"]
    assert summary["notes"] >= 150
    assert summary["exact"] + summary["refused"] + summary["wrong"] == summary["notes"]
    assert len(details["by_style"]) >= 10
    assert details["impossible"] >= 20
    # every expectation is a valid spec in stored form (judge() parses each one)
    for outcome in figures.outcomes:
        assert outcome.want == {"guests": outcome.note["expect"]}, outcome.note["text"]


def test_no_note_of_the_set_compiles_wrong(figures: heldout.Figures) -> None:
    wrong = [(o.note["text"], o.got, o.want) for o in figures.outcomes if o.verdict == "wrong"]
    assert wrong == []


def test_every_impossible_request_of_the_set_is_refused(figures: heldout.Figures) -> None:
    not_refused = [text for text, error in figures.impossible if error is None]
    assert not_refused == []
    for text, error in figures.impossible:
        assert error and "heldout.md:" in error, (text, error)
