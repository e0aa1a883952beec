"""Context clauses (issue 13, round 7): a clause that explains or comments and declares
nothing is dropped next to a declaration, by one rule (:mod:`.grammar.context`), and
reported as "ignored as context: '...'"; a clause that could state something stays an
error that quotes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mycopod import cli
from tests.support.grammar import error, stated, stated_and_ignored


@pytest.mark.parametrize(("text", "guest", "said"), [
    ("Delete the VM fair-app, the fair is over.", {"fair-app": {"kind": "vm", "state": "absent"}},
     "t.md:1: ignored as context: 'the fair is over'"),
    ("Stop the VM lab-x, we closed that lab in June.",
     {"lab-x": {"kind": "vm", "state": "stopped"}},
     "t.md:1: ignored as context: 'we closed that lab in June'"),
    ("Delete old-pad, nobody is using it these days.", {"old-pad": {"state": "absent"}},
     "t.md:1: ignored as context: 'nobody is using it these days'"),
    ("Stop the VM rep-x - we will start it again in May.",
     {"rep-x": {"kind": "vm", "state": "stopped"}},
     "t.md:1: ignored as context: 'we will start it again in May'"),
    ("kiosk-x is a VM with 2 cores 🎈", {"kiosk-x": {"kind": "vm", "cores": 2}},
     "t.md:1: ignored as context: '🎈'"),
    ("stats-x is a container with 1 core. that's all folks.",
     {"stats-x": {"kind": "ct", "cores": 1}}, "t.md:1: ignored as context: \"that's all folks\""),
    ("art-x is a container with 2 cores because the kids draw on it.",
     {"art-x": {"kind": "ct", "cores": 2}},
     "t.md:1: ignored as context: 'because the kids draw on it'"),
])
def test_a_context_clause_is_dropped_and_reported(text: str, guest: dict[str, Any],
                                                  said: str) -> None:
    guests, ignored = stated_and_ignored(text)
    assert guests == {name: {"name": name, **g} for name, g in guest.items()}
    assert ignored == [said]


@pytest.mark.parametrize(("text", "quoted"), [
    ("Stop the VM a-x, the other one has 2 cores.", "2 cores"),  # a number
    ("Stop the VM a-x, the build runs on b-x.", "b-x"),  # a name
    ("Delete the VM a-x, the disk is broken.", "disk"),  # a word of the grammar
    ("Delete the VM a-x, when the backup is done.", "when"),  # a condition
    ("Stop the VM a-x, next week.", "next week"),  # a time of its own: a schedule
    ("a-x is a VM, we want it stopped.", "want"),  # the wanted state
    ("a-x is a VM, the server was stopped.", "stopped"),  # the guest's state
    ("a-x is a VM, it was stopped yesterday.", "stopped"),  # its subject is the guest
])
def test_a_clause_that_could_state_something_stays_an_error(text: str, quoted: str) -> None:
    message = error(text)
    assert "t.md:1:" in message and quoted in message


def test_a_list_goes_on_after_a_comma() -> None:
    assert stated("web-x is a VM tagged alpha, beta and gamma.")["web-x"]["tags"] == [
        "alpha", "beta", "gamma"]


def test_a_note_that_is_all_context_declares_nothing_and_is_refused() -> None:
    message = error("The season is over, we closed the shop.")
    assert "t.md:1:" in message and "season is over" in message


def test_compile_and_explain_show_what_wasstated_and_ignored(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "shop.md"
    path.write_text("Delete the VM xmas-x, the season is over.\n")
    assert cli.main(["compile", "--offline", str(path)]) == 0
    out = capsys.readouterr()
    assert "xmas-x is a VM. It should not exist." in out.out
    assert f"{path}:1: ignored as context: 'the season is over'" in out.err
    assert cli.main(["explain", "--offline", str(path)]) == 0
    assert capsys.readouterr().out == (
        f"{path}:1-1\n    Delete the VM xmas-x, the season is over.\n"
        "  understood as (grammar):\n    xmas-x is a VM. It should not exist.\n"
        "  ignored as context: 'the season is over'\n\n")


@pytest.mark.parametrize(("text", "guest", "said"), [
    ("Switch off the VM ski-x for now.", {"ski-x": {"kind": "vm", "state": "stopped"}},
     "t.md:1: not scheduled: 'for now' (MycoPod keeps it stopped until the declaration "
     "changes)"),
    ("Turn the VM kiosk-y off for the moment, the shop is closed.",
     {"kiosk-y": {"kind": "vm", "state": "stopped"}},
     "t.md:1: not scheduled: 'for the moment' (MycoPod keeps it stopped until the "
     "declaration changes)"),
    ("lab-y stays powered off between courses.", {"lab-y": {"state": "stopped"}},
     "t.md:1: not scheduled: 'between courses' (MycoPod keeps it stopped until the "
     "declaration changes)"),
    ("Start the VM quiz-y today.", {"quiz-y": {"kind": "vm", "state": "running"}},
     "t.md:1: not scheduled: 'today' (MycoPod keeps it running until the declaration "
     "changes)"),
])
def test_a_time_on_power_is_reported_as_not_scheduled(text: str, guest: dict[str, Any],
                                                      said: str) -> None:
    guests, ignored = stated_and_ignored(text)
    assert guests == {name: {"name": name, **g} for name, g in guest.items()}
    assert ignored[0] == said


@pytest.mark.parametrize(("text", "quoted"), [
    ("Delete the VM audit-y after the audit.", "after the audit"),  # deletion
    ("Remove the VM old-y until the migration is done.", "until the migration is done"),
    ("Create the container fair-y when the fair opens.", "when the fair opens"),  # creation
    ("Keep the VM shop-y running until Christmas.", "until Christmas"),  # then a stop
    ("Stop bar-y until web-y is up.", "until web-y"),  # a condition on another guest
    ("web-y has ballooning turned off until Friday.", "until Friday"),  # not power
    ("Turn off the VM kiosk-z tonight.", "tonight"),  # a schedule
    ("Turn off the VM ski-z till spring.", "till spring"),  # it should run again then
])
def test_a_time_that_is_a_schedule_or_a_condition_stays_an_error(text: str,
                                                                  quoted: str) -> None:
    message = error(text)
    assert "t.md:1:" in message and quoted in message


@pytest.mark.parametrize("text", [
    "Start the VM till-y when the server boots.",
    "Start the VM till-y automatically when the host comes back after a power cut.",
    "The VM till-y should start together with the server after a restart.",
    "Make sure the VM till-y starts by itself if the power goes out.",
    "The VM till-y starts after every reboot.",
])
def test_the_host_coming_back_is_start_on_boot(text: str) -> None:
    assert stated(text) == {"till-y": {"name": "till-y", "kind": "vm", "onboot": True}}


def test_a_start_on_a_condition_that_is_not_the_host_stays_an_error() -> None:
    assert "when the customer arrives" in error("Start the VM demo-y when the customer "
                                                "arrives.")


@pytest.mark.parametrize(("text", "expected"), [
    ("# ct dns-x 1 core 256M\n", {"dns-x": {"name": "dns-x", "kind": "ct", "cores": 1,
                                            "memory_mib": 256}}),
    ("# stop vm bench-x\n# delete vm old-x\n", {
        "bench-x": {"name": "bench-x", "kind": "vm", "state": "stopped"},
        "old-x": {"name": "old-x", "kind": "vm", "state": "absent"}}),
    ("# gitlab-x should come up on boot\n", {"gitlab-x": {"name": "gitlab-x", "onboot": True}}),
])
def test_a_shell_comment_alone_is_read_as_the_sentence_it_is(
        text: str, expected: dict[str, Any]) -> None:
    assert stated(text) == expected


def test_a_heading_over_prose_keeps_its_meaning() -> None:
    assert stated("# db-x\n\nA VM with 4 cores.\n") == {
        "db-x": {"name": "db-x", "kind": "vm", "cores": 4}}
    assert stated("# Web servers\n\nweb-x is a VM.\n# Notes\n") == {
        "web-x": {"name": "web-x", "kind": "vm"}}


def test_a_shell_comment_that_declares_nothing_is_refused_not_dropped() -> None:
    message = error("# copy the host's network config over to the new node pve-x\n")
    assert "t.md:1:" in message and "network config" in message
