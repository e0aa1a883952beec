"""The planner's rule for a guest of ours under another name (reconcile/renamed.py), as
tables: what each shape of the observed guest plans for the declared name."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mycopod.proxmox.model import ObservedGuest
from mycopod.reconcile import planner
from mycopod.reconcile.guest_facts import placeholder, unfinished
from mycopod.spec import ClusterSpec, GuestSpec
from tests.support.plans import cluster, observed_guest, policy


def g(name: str = "web-1", **fields: Any) -> GuestSpec:
    return GuestSpec.model_validate({"name": name, "state": "stopped", **fields})


def ours_as(name: str, *, vmid: int = 105, kind: str = "vm", read: bool = True,
            tagged: bool = True, recorded: str = "web-1") -> ObservedGuest:
    """The guest MycoPod made for ``recorded``, seen under ``name``."""
    made = observed_guest(g(recorded, kind=kind), vmid, owned=tagged)
    return replace(made, name=name, recorded_name=recorded, owned=tagged,
                   current=made.current if read else None)


def plan_of(*observed: ObservedGuest, declared: tuple[GuestSpec, ...] = (g(),),
            **settings: Any) -> planner.Plan:
    return planner.plan(ClusterSpec(guests=list(declared)), cluster(*observed),
                        policy(**settings))


@pytest.mark.parametrize(("name", "kind"), [("VM 105", "vm"), ("CT105", "ct")])
def test_a_placeholder_unread_is_waited_for_not_created(name: str, kind: str) -> None:
    plan = plan_of(ours_as(name, kind=kind, read=False), declared=(g(kind=kind),),
                   prune=True)
    assert plan.actions == []
    assert [(e.guest, e.message) for e in plan.errors] == [(
        "web-1", f"web-1 (vmid 105) is being sampled by Proxmox under its placeholder name "
        f"{name}; waiting to read its config (it is not created again; read again next "
        "run)")]
    assert plan.conflicts == [] and plan.orphans == []
    assert [(r.name, r.status, r.vmid) for r in plan.guests] == [("web-1", "locked", 105)]


@pytest.mark.parametrize(("name", "read", "now"), [
    ("web-old", True, "named web-old in Proxmox now"),
    ("web-old", False, "named web-old in Proxmox now"),  # the row's name, config unread
    ("VM 105", True, "named VM 105 in Proxmox now"),  # read: its name is that
    ("", True, "has no name now"),  # the name removed by hand
])
def test_another_name_is_a_conflict_never_an_action(name: str, read: bool, now: str) -> None:
    plan = plan_of(ours_as(name, read=read), prune=True)
    assert plan.actions == [] and plan.errors == [] and plan.orphans == []
    assert [(c.name, c.vmid) for c in plan.conflicts] == [("web-1", 105)]
    message = plan.conflicts[0].message
    assert f"VMID 105 is MycoPod's web-1 (its inventory row and ownership tag) but is {now}" \
        in message
    assert "rename it back to web-1 in Proxmox" in message
    assert "take the mycopod tag off VMID 105" in message
    assert [(r.name, r.status) for r in plan.guests] == [("web-1", "conflict")]


def test_without_the_rule_the_name_would_be_created() -> None:
    """The same guest not recorded for the declared name: the declared name is created
    (and the guest is an orphan, kept), so the tables above test the rule, not chance."""
    plan = plan_of(ours_as("web-old", recorded="web-old"))
    assert [(a.kind, a.target) for a in plan.actions] == [("create", "web-1")]


def test_an_untagged_guest_recorded_for_the_name_is_someone_elses() -> None:
    plan = plan_of(ours_as("theirs", tagged=False))
    assert [(a.kind, a.target) for a in plan.actions] == [("create", "web-1")]
    assert plan.conflicts == [] and plan.orphans == []
    assert next(a for a in plan.actions).vmid != 105


def test_a_guest_whose_new_name_is_declared_belongs_to_that_declaration() -> None:
    plan = plan_of(ours_as("web-old"), declared=(g(), g("web-old")))
    assert [(a.kind, a.target) for a in plan.actions] == [("create", "web-1")]
    assert plan.conflicts == []
    assert {r.name: r.status for r in plan.guests} == {"web-1": "missing",
                                                        "web-old": "in-sync"}


def test_the_lowest_vmid_answers_for_the_name_and_the_other_stays_a_renamed_orphan() -> None:
    plan = plan_of(ours_as("b", vmid=107), ours_as("a", vmid=106))
    assert plan.actions == []
    assert [(c.name, c.vmid) for c in plan.conflicts] == [("web-1", 106), ("b", 107)]
    assert "was MycoPod's 'web-1' and is now named 'b'" in plan.conflicts[1].message


def test_declared_absent_plans_nothing_and_reports_the_renamed_guest() -> None:
    plan = plan_of(ours_as("web-old"), declared=(g(state="absent"),), prune=True)
    assert plan.actions == []
    assert [(c.name, c.vmid) for c in plan.conflicts] == [("web-old", 105)]


@pytest.mark.parametrize(("name", "expected"), [
    ("VM 105", True), ("CT105", True), ("CT 105", True),  # qemu, pve-container, the sim
    ("VM 1050", False), ("VM 10", False), ("VMware 105", False), ("web-1", False),
    ("", False)])
def test_placeholder_names(name: str, expected: bool) -> None:
    guest = ObservedGuest(vmid=105, kind="ct", name=name, node="pve1", status="stopped",
                          lock="create")
    assert placeholder(guest) is expected
    assert unfinished(guest) == ("lock=create, no name" if expected or not name
                                 else f"lock=create, named {name!r}")
