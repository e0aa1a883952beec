"""The planner's rules as tables, and the properties the issue names (Hypothesis)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mycopod.proxmox.model import ObservedCluster, ObservedGuest
from mycopod.reconcile import planner
from mycopod.reconcile.plan import TagAdoptParams
from mycopod.spec import ClusterSpec, GuestSpec
from tests.support.plans import CT_TEMPLATE, StoredCluster, cluster, observed_guest, policy


def g(name: str = "web-1", **fields: Any) -> GuestSpec:
    return GuestSpec.model_validate({"name": name, **fields})


def spec(*guests: GuestSpec) -> ClusterSpec:
    return ClusterSpec(guests=list(guests))


def kinds(plan: planner.Plan) -> list[tuple[str, str]]:
    return [(a.kind, a.target) for a in plan.actions]


# --- tables ------------------------------------------------------------------------------


def test_in_sync_is_empty() -> None:
    want = g(cores=2, memory_mib=4096)
    plan = planner.plan(spec(want), cluster(observed_guest(want, 101, running=True)), policy())
    assert plan.actions == [] and plan.errors == []
    assert plan.guests[0].status == "in-sync"


@pytest.mark.parametrize(("guest", "expected", "reason_part"), [
    (g(), [("create", "web-1"), ("start", "web-1")], "missing: create VM"),
    (g(state="stopped"), [("create", "web-1")], "missing: create VM"),
    (g(source={"clone": "ubuntu-24.04"}),
     [("clone", "web-1"), ("configure", "web-1"), ("start", "web-1")],
     "missing: create from template ubuntu-24.04"),
    (g(source={"iso": "local:iso/Win11.iso"}, state="stopped"), [("create", "web-1")],
     "booting ISO local:iso/Win11.iso"),
    (g(kind="ct"), [("create", "web-1"), ("start", "web-1")], CT_TEMPLATE),
    (g(kind="ct", source={"ostemplate": "local:vztmpl/alpine-3.20-default_20240908_amd64"
                          ".tar.xz"}),
     [("create", "web-1"), ("start", "web-1")], "alpine"),
    (g(state="absent"), [], None),
])
def test_missing_guest(guest: GuestSpec, expected: list, reason_part: str | None) -> None:
    plan = planner.plan(spec(guest), cluster(), policy())
    assert kinds(plan) == expected
    if reason_part:
        assert reason_part in plan.actions[0].reason
        assert plan.actions[0].vmid == 9001  # above the highest id in use (template 9000)
    for first, second in zip(plan.actions, plan.actions[1:], strict=False):
        assert second.depends_on == (first.id,)


def test_vmid_above_highest_and_unique() -> None:
    existing = observed_guest(g("other"), 9250, owned=False)
    plan = planner.plan(spec(g("a"), g("b"), g("c", vmid=9260)), cluster(existing), policy())
    ids = {a.target: a.vmid for a in plan.actions if a.kind == "create"}
    assert ids == {"a": 9261, "b": 9262, "c": 9260}


def test_vmid_range() -> None:
    plan = planner.plan(spec(g("a"), g("b")), cluster(), policy(vmid_min=500, vmid_max=501))
    assert sorted(a.vmid for a in plan.actions if a.kind == "create") == [500, 501]
    full = planner.plan(spec(g("a"), g("b"), g("c")), cluster(),
                        policy(vmid_min=500, vmid_max=501))
    assert any("no free ID" in e.message for e in full.errors)


def test_declared_vmid_taken_is_error() -> None:
    other = observed_guest(g("other"), 120, owned=False)
    plan = planner.plan(spec(g(vmid=120)), cluster(other), policy())
    assert plan.actions == [] and "already taken by 'other'" in plan.errors[0].message


@pytest.mark.parametrize(("free", "declared", "expected"), [
    ({"pve1": 10, "pve2": 40, "pve3": 20}, None, "pve2"),
    ({"pve1": 30, "pve2": 30, "pve3": 30}, None, "pve1"),  # tie: lower name
    ({"pve1": 10, "pve2": 40, "pve3": 20}, "pve3", "pve3"),
])
def test_placement(free: dict, declared: str | None, expected: str) -> None:
    plan = planner.plan(spec(g(node=declared)), cluster(free_gib=free), policy())
    assert plan.actions[0].node == expected


def test_placement_spreads_by_planned_memory() -> None:
    guests = [g(f"w{i}", memory_mib=8192) for i in range(3)]
    plan = planner.plan(spec(*guests), cluster(free_gib={"pve1": 30, "pve2": 30, "pve3": 30}),
                        policy())
    assert sorted(a.node for a in plan.actions if a.kind == "create") == ["pve1", "pve2",
                                                                           "pve3"]


def test_placement_needs_storage() -> None:
    plan = planner.plan(spec(g(disks=[{"slot": "scsi0", "storage": "nowhere",
                                       "size_gib": 8}])), cluster(), policy())
    assert plan.actions == [] and "no online node has storage nowhere" in \
        plan.errors[0].message


def test_unknown_template_is_error() -> None:
    plan = planner.plan(spec(g(source={"clone": "nope"})), cluster(), policy())
    assert "template 'nope' not found" in plan.errors[0].message


def test_clone_lands_on_template_node() -> None:
    plan = planner.plan(spec(g(source={"clone": "ubuntu-24.04"})),
                        cluster(free_gib={"pve1": 1, "pve2": 50, "pve3": 50}), policy())
    assert plan.actions[0].node == "pve1"


@pytest.mark.parametrize(("change", "expected", "reason"), [
    ({"cores": 4}, [("configure", "web-1")], "cores 2 → 4"),
    ({"memory_mib": 2048}, [("configure", "web-1")], "memory 4096 MiB → 2048 MiB"),
    ({"tags": ["web"]}, [("configure", "web-1")], "tags mycopod → mycopod;web"),
    ({"onboot": True}, [("configure", "web-1")], "onboot false → true"),
    ({"disks": [{"slot": "scsi0", "size_gib": 64}]}, [("resize_disk", "web-1")],
     "scsi0 32 GiB → 64 GiB"),
    ({"state": "stopped"}, [("stop", "web-1")], "state running → stopped"),
    ({"node": "pve2"}, [("migrate", "web-1")], "node pve1 → pve2"),
    ({"networks": [{"bridge": "vmbr1", "vlan": 10}]}, [("configure", "web-1")], "net0"),
])
def test_existing_guest_changes(change: dict, expected: list, reason: str) -> None:
    before = g(cores=2, memory_mib=4096)
    after = g(**{"cores": 2, "memory_mib": 4096, **change})
    observed = cluster(observed_guest(before, 101, running=True))
    plan = planner.plan(spec(after), observed,
                        policy(restart_on_change=False, auto_approve_destructive=True))
    assert kinds(plan) == expected
    assert reason in plan.actions[0].reason


def test_stopped_guest_is_started() -> None:
    want = g()
    plan = planner.plan(spec(want), cluster(observed_guest(want, 101)), policy())
    assert kinds(plan) == [("start", "web-1")]
    assert plan.actions[0].reason == "state stopped → running"


@pytest.mark.parametrize("declared", [g(cores=2), g(kind="vm", cores=2)])
def test_a_guest_of_the_other_kind_is_never_replaced(declared: GuestSpec) -> None:
    """Issue 13: "web-7 has 2 cores" (the kind never said) is a VM by the contract's
    default; an existing container of that name is reported, never deleted or recreated."""
    existing = observed_guest(g(kind="ct", cores=2), 101, running=True)
    plan = planner.plan(spec(declared), cluster(existing), policy())
    assert plan.actions == []
    assert "declared a vm but VMID 101 is a ct" in plan.errors[0].message
    assert plan.guests[0].drift == ["kind differs"]


def test_an_unstated_disk_size_is_never_compared() -> None:
    """"its disk on local-lvm": the size is the creation default, not stated: a bigger
    disk is the owner's (no shrink error, no resize)."""
    before = g(disks=[{"slot": "scsi0", "size_gib": 64}])
    after = g(disks=[{"slot": "scsi0", "storage": "local-lvm"}])
    assert "size_gib" not in after.disks[0].model_fields_set
    plan = planner.plan(spec(after), cluster(observed_guest(before, 101, running=True)),
                        policy())
    assert plan.actions == [] and plan.errors == []


def test_shrink_is_error_not_action() -> None:
    before = g(disks=[{"slot": "scsi0", "size_gib": 64}])
    after = g(disks=[{"slot": "scsi0", "size_gib": 32}])
    plan = planner.plan(spec(after), cluster(observed_guest(before, 101, running=True)),
                        policy())
    assert plan.actions == []
    assert "disks only grow" in plan.errors[0].message


def test_restart_needed_is_reported_unless_restart_on_change() -> None:
    before, after = g(cores=2), g(cores=4)
    observed = cluster(observed_guest(before, 101, running=True))
    plan = planner.plan(spec(after), observed, policy())
    assert kinds(plan) == [("configure", "web-1")]
    assert plan.pending_restart[0].changes == ("cores 2 → 4",)
    plan = planner.plan(spec(after), observed, policy(restart_on_change=True))
    assert kinds(plan) == [("configure", "web-1"), ("stop", "web-1"), ("start", "web-1")]
    # once written, the change sits in pending: reported, nothing more to do
    stored = StoredCluster()
    stored.create(before, 101, running=True)
    stored.apply(planner.plan(spec(after), stored.observe(), policy()), spec(after))
    again = planner.plan(spec(after), stored.observe(), policy())
    assert again.actions == [] and again.pending_restart
    assert again.guests[0].status == "pending-restart"


def test_lost_tag_but_in_inventory_gets_tag_back() -> None:
    want = g()
    seen = observed_guest(want, 101, running=True, tags=())
    seen = seen.__class__(**{**seen.__dict__, "owned": True, "in_inventory": True})
    plan = planner.plan(spec(want), cluster(seen), policy())
    assert kinds(plan) == [("tag_adopt", "web-1")]
    assert plan.actions[0].params == TagAdoptParams(tags="mycopod")


def test_conflict_with_unowned_is_reported_only() -> None:
    other = observed_guest(g("legacy-app"), 100, running=True, owned=False)
    plan = planner.plan(spec(g("legacy-app", cores=8)), cluster(other), policy())
    assert plan.actions == []
    assert plan.conflicts[0].name == "legacy-app"
    assert plan.guests[0].status == "conflict"


def test_adopt_existing() -> None:
    base = g("legacy-app")
    other = observed_guest(base, 100, running=True, owned=False)
    other = other.__class__(**{**other.__dict__, "current": observed_guest(base, 100).current})
    plan = planner.plan(spec(g("legacy-app", cores=4)), cluster(other),
                        policy(adopt_existing=True))
    # one adopt action (tag + inventory), nothing else; what would change is shown
    assert kinds(plan) == [("adopt", "legacy-app")]
    assert "cores" in plan.actions[0].params.would_change  # type: ignore[union-attr]
    assert plan.adoptions_need_approval and plan.approval_reasons


def test_declared_adoption_needs_approval_unless_the_policy_says_not() -> None:
    base = g("legacy-app")
    other = observed_guest(base, 100, running=True, owned=False)
    other = other.__class__(**{**other.__dict__, "current": observed_guest(base, 100).current})
    want = g("legacy-app", adopt=True)
    plan = planner.plan(spec(want), cluster(other), policy())
    assert kinds(plan) == [("adopt", "legacy-app")]
    assert plan.approval_keys() == {("adopt", "legacy-app")}
    free = planner.plan(spec(want), cluster(other), policy(adopt_needs_approval=False))
    assert kinds(free) == [("adopt", "legacy-app")] and not free.approval_reasons


def test_declared_adoption_of_a_guest_that_never_existed_is_an_error() -> None:
    plan = planner.plan(spec(g("ghost", adopt=True, vmid=150)), cluster(), policy())
    assert plan.actions == [] and "already existing" in plan.errors[0].message


def test_templates_are_never_managed() -> None:
    plan = planner.plan(spec(), cluster(), policy(prune=True))
    assert plan.actions == [] and plan.orphans == []


@pytest.mark.parametrize(("prune", "expected"), [
    (False, []),
    (True, [("stop", "old"), ("delete", "old")]),
])
def test_orphans(prune: bool, expected: list) -> None:
    observed = cluster(observed_guest(g("old"), 101, running=True),
                       observed_guest(g("keep"), 102))
    plan = planner.plan(spec(g("keep", state="stopped")), observed, policy(prune=prune))
    assert kinds(plan) == expected
    assert [o.name for o in plan.orphans] == ["old"]
    if prune:
        assert plan.actions[-1].destructive and plan.approval_reasons


def test_absent_deletes_owned_only() -> None:
    observed = cluster(observed_guest(g("old-test"), 101),
                       observed_guest(g("legacy-dns", kind="ct"), 102, owned=False))
    plan = planner.plan(spec(g("old-test", state="absent"),
                             g("legacy-dns", kind="ct", state="absent")), observed, policy())
    assert kinds(plan) == [("delete", "old-test")]
    assert plan.conflicts[0].name == "legacy-dns"


@pytest.mark.parametrize(("policy_fields", "deletions", "needs"), [
    ({}, 1, True),
    ({"auto_approve_destructive": True}, 1, False),
    ({"auto_approve_destructive": True}, 2, True),   # over max_deletions_per_run
    ({"auto_approve_destructive": True, "max_deletions_per_run": 5}, 2, True),  # window: 1
    ({"auto_approve_destructive": True, "max_deletions_per_run": 5,
      "max_deletions_per_window": 5}, 2, False),
])
def test_approval_rules(policy_fields: dict, deletions: int, needs: bool) -> None:
    guests = [observed_guest(g(f"old-{i}"), 101 + i) for i in range(deletions)]
    guests.append(observed_guest(g("keep", state="stopped"), 200))
    plan = planner.plan(spec(*[g(f"old-{i}", state="absent") for i in range(deletions)],
                             g("keep", state="stopped")), cluster(*guests),
                        policy(**policy_fields))
    assert bool(plan.approval_reasons) is needs
    assert planner.approval_needed(plan, None) is needs
    assert not planner.approval_needed(plan, plan.destructive_keys())


@pytest.mark.parametrize(("recent", "limit", "needs"), [
    (0, 1, False),   # the first deletion of the window goes ahead with auto-approve
    (1, 1, True),    # a second one within the window waits, whatever auto-approve says
    (1, 2, False),
    (5, 0, True),
])
def test_deletion_window_budget(recent: int, limit: int, needs: bool) -> None:
    observed = cluster(observed_guest(g("old"), 101), observed_guest(g("keep"), 102))
    plan = planner.plan(spec(g("old", state="absent"), g("keep", state="stopped")), observed,
                        policy(auto_approve_destructive=True, max_deletions_per_window=limit),
                        recent=planner.Recent(deletions=recent))
    assert planner.approval_needed(plan, None) is needs
    if needs:
        assert any("max_deletions_per_window" in r and f"after {recent} executed" in r
                   for r in plan.approval_reasons), plan.approval_reasons
        assert not planner.approval_needed(plan, plan.approval_keys())


def test_creates_over_the_run_limit_need_approval_and_it_covers_them() -> None:
    want = [g(f"n-{i}") for i in range(4)]
    plan = planner.plan(spec(*want), cluster(),
                        policy(auto_approve_destructive=True, max_creates_per_run=3))
    assert plan.creates_need_approval
    assert plan.approval_reasons == ["4 guests to create exceed max_creates_per_run (3)"]
    approved = planner.Plan.from_json(plan.to_json()).approval_keys()
    assert {("create", f"n-{i}") for i in range(4)} <= approved
    assert not planner.approval_needed(plan, approved)
    # a re-plan after the approval that creates a guest the approved plan did not hold
    more = planner.plan(spec(*want, g("n-4")), cluster(), policy(max_creates_per_run=3))
    assert planner.approval_needed(more, approved)
    # within the limit, creates need no one
    few = planner.plan(spec(*want[:3]), cluster(), policy(max_creates_per_run=3))
    assert few.approval_reasons == [] and not few.creates_need_approval


def test_creates_window_budget_counts_recent_creates() -> None:
    want = [g(f"n-{i}") for i in range(3)]
    pol = policy(max_creates_per_window=10)
    assert not planner.plan(spec(*want), cluster(), pol,
                            recent=planner.Recent(creates=7)).approval_reasons
    plan = planner.plan(spec(*want), cluster(), pol, recent=planner.Recent(creates=8))
    assert any("max_creates_per_window (10)" in r for r in plan.approval_reasons)
    assert planner.approval_needed(plan, None) and plan.creates_need_approval


def test_empty_spec_always_needs_approval() -> None:
    observed = cluster(observed_guest(g("a"), 101))
    plan = planner.plan(spec(), observed, policy(prune=True, auto_approve_destructive=True,
                                                 max_deletions_per_run=10))
    assert "the spec is empty while MycoPod owns guests" in plan.approval_reasons


def test_approval_must_cover_new_destructive_steps() -> None:
    observed = cluster(observed_guest(g("a"), 101), observed_guest(g("b"), 102))
    plan = planner.plan(spec(g("a", state="absent"), g("b", state="absent")), observed,
                        policy(max_deletions_per_run=5))
    assert planner.approval_needed(plan, {("delete", "a")})
    assert not planner.approval_needed(plan, {("delete", "a"), ("delete", "b")})


def test_locked_guest_is_skipped() -> None:
    want = g(cores=4)
    seen = observed_guest(g(), 101)
    seen = seen.__class__(**{**seen.__dict__, "lock": "backup"})
    plan = planner.plan(spec(want), cluster(seen), policy())
    assert plan.actions == [] and plan.guests[0].status == "locked"


def test_plan_json_roundtrip() -> None:
    plan = planner.plan(spec(g("a"), g("b", kind="ct")), cluster(), policy())
    again = planner.Plan.from_json(plan.to_json())
    assert again.to_json() == plan.to_json()


# --- properties ---------------------------------------------------------------------------

NAMES = ["a", "b", "c", "d", "legacy"]
guest_specs = st.builds(
    lambda name, kind, state, cores, mem, size, extra, bridge, vlan, ip, tags, onboot, node,
    vmid, clone: GuestSpec.model_validate({
        "name": name, "kind": kind, "state": state, "cores": cores, "memory_mib": mem,
        "disks": [{"slot": "scsi0" if kind == "vm" else "rootfs", "size_gib": size}] + (
            [{"slot": "scsi1" if kind == "vm" else "mp0", "storage": "tank",
              "size_gib": extra}] if extra else []),
        "networks": [{"bridge": bridge, "vlan": vlan, "ip": ip,
                      "gateway": "10.0.0.1" if ip and ip != "dhcp" else None}],
        "tags": tags, "onboot": onboot, "node": node, "vmid": vmid,
        "source": {"clone": "ubuntu-24.04"} if clone and kind == "vm" else None,
    }),
    st.sampled_from(NAMES), st.sampled_from(["vm", "ct"]),
    st.sampled_from(["running", "stopped", "absent"]), st.integers(1, 8),
    st.sampled_from([512, 1024, 4096]), st.sampled_from([8, 32, 64]),
    st.sampled_from([0, 100]), st.sampled_from(["vmbr0", "vmbr1"]),
    st.none() | st.integers(1, 50), st.sampled_from(["dhcp", None, "10.0.0.5/24"]),
    st.lists(st.sampled_from(["web", "prod", "db"]), max_size=2), st.booleans(),
    st.none() | st.sampled_from(["pve1", "pve2"]), st.none() | st.integers(300, 305),
    st.booleans(),
)


@st.composite
def stored_scenarios(draw: st.DrawFn) -> tuple[ClusterSpec, StoredCluster, Any]:
    """A spec, the cluster as Proxmox stores it (guests made by the real create
    parameters of other specs, some running, some not MycoPod's) and a policy."""
    wanted = draw(st.lists(guest_specs, max_size=4, unique_by=lambda s: s.name))
    ids = [s.vmid for s in wanted if s.vmid is not None]
    if len(ids) != len(set(ids)):
        wanted = [s.model_copy(update={"vmid": None}) for s in wanted]
    existing = draw(st.lists(st.tuples(guest_specs, st.booleans(), st.booleans(),
                                       st.sampled_from(["pve1", "pve2", "pve3"])),
                             max_size=4, unique_by=lambda t: t[0].name))
    stored = StoredCluster()
    taken = {seen.name for seen, *_ in existing}
    for i, (seen, owned, running, node) in enumerate(existing):
        if seen.state == "absent":
            continue
        # often an earlier version of a declared guest, so that guests drift
        same_kind = [w.name for w in wanted if w.kind == seen.kind and w.name not in taken]
        if same_kind and draw(st.integers(0, 3)):
            seen = seen.model_copy(update={"name": draw(st.sampled_from(same_kind))})
            taken.add(seen.name)
        stored.create(seen, 101 + i, node=node, running=running, owned=owned)
    pol = policy(
        prune=draw(st.booleans()), auto_approve_destructive=draw(st.booleans()),
        restart_on_change=draw(st.booleans()), max_deletions_per_run=draw(st.integers(0, 2)))
    return ClusterSpec(guests=wanted), stored, pol


def scenarios() -> st.SearchStrategy[tuple[ClusterSpec, ObservedCluster, Any]]:
    return stored_scenarios().map(lambda s: (s[0], s[1].observe(), s[2]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stored_scenarios())
def test_property_idempotent(scenario: tuple[ClusterSpec, StoredCluster, Any]) -> None:
    """Plan, make the plan's calls with the real payloads, read back what Proxmox
    stored with the real parsing, plan again: nothing left to do."""
    desired, stored, pol = scenario
    first = planner.plan(desired, stored.observe(), pol)
    stored.apply(first, desired)
    second = planner.plan(desired, stored.observe(), pol)
    assert second.actions == [], (kinds(first), kinds(second))


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_property_never_touches_unowned(scenario: tuple[ClusterSpec, Any, Any]) -> None:
    desired, observed, pol = scenario
    unowned = {g.vmid for g in observed.guests if not g.owned}
    plan = planner.plan(desired, observed, pol)
    assert all(a.vmid not in unowned for a in plan.actions)


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_property_no_delete_without_policy_or_approval(
        scenario: tuple[ClusterSpec, Any, Any]) -> None:
    desired, observed, pol = scenario
    plan = planner.plan(desired, observed, pol)
    absent = {g.name for g in desired.guests if g.state == "absent"}
    deletes = [a for a in plan.actions if a.kind == "delete"]
    for action in deletes:
        assert action.destructive
        assert action.target in absent or pol.prune
    if deletes:
        auto_ok = (pol.auto_approve_destructive and len(deletes) <= pol.max_deletions_per_run
                   and len(deletes) <= pol.max_deletions_per_window and desired.guests)
        assert bool(plan.approval_reasons) or auto_ok
        assert planner.approval_needed(plan, None) is bool(plan.approval_reasons)


@settings(max_examples=150, deadline=None)
@given(stored_scenarios())
def test_property_unique_vmids(scenario: tuple[ClusterSpec, StoredCluster, Any]) -> None:
    desired, stored, pol = scenario
    observed = stored.observe()
    plan = planner.plan(desired, observed, pol)
    new = [a.vmid for a in plan.actions if a.kind in ("create", "clone")]
    assert len(new) == len(set(new))
    assert not set(new) & observed.used_vmids()
    stored.apply(plan, desired)
    vmids = [g.vmid for g in stored.observe().guests]
    assert len(vmids) == len(set(vmids))


def half_created(vmid: int, *, recorded: str | None, lock: str = "create",
                 name: str | None = None) -> ObservedGuest:
    """What Proxmox shows of a create killed mid-task: locked, no name, no tag."""
    return ObservedGuest(vmid=vmid, kind="vm", name=name or f"VM {vmid}", node="pve2",
                         status="stopped", lock=lock, recorded_name=recorded)


@pytest.mark.parametrize("policy_fields", [{}, {"prune": True, "auto_approve_destructive": True,
                                                "max_deletions_per_run": 10}])
@pytest.mark.parametrize("lock", ["create", "clone"])
def test_half_created_guest_of_a_declared_name_is_a_conflict_not_a_second_create(
        policy_fields: dict, lock: str) -> None:
    observed = cluster(half_created(105, recorded="web-1", lock=lock),
                       observed_guest(g("db-1"), 101))
    plan = planner.plan(spec(g("web-1"), g("db-1", state="stopped")), observed,
                        policy(**policy_fields))
    assert plan.actions == []  # not created again, not deleted
    assert [(c.name, c.vmid) for c in plan.conflicts] == [("web-1", 105)]
    assert f"lock={lock}, no name" in plan.conflicts[0].message
    assert "qm destroy 105" in plan.conflicts[0].message
    assert plan.orphans == []
    report = next(r for r in plan.guests if r.name == "web-1")
    assert (report.status, report.vmid) == ("conflict", 105)


@pytest.mark.parametrize("recorded", [None, "gone-1"])
def test_half_created_guest_nobody_declares_is_an_orphan_never_deleted(
        recorded: str | None) -> None:
    observed = cluster(half_created(107, recorded=recorded))
    plan = planner.plan(spec(g("web-1")), observed,
                        policy(prune=True, auto_approve_destructive=True,
                               max_deletions_per_run=10))
    assert all(a.vmid != 107 for a in plan.actions)
    assert [a.kind for a in plan.actions] == ["create", "start"]
    assert plan.actions[0].vmid != 107  # its id is taken
    assert [(o.name, o.vmid) for o in plan.orphans] == [("VM 107", 107)]
    message = plan.orphans[0].message
    assert "half-created (lock=create, no name)" in message and "never deletes" in message
    if recorded:
        assert f"create of {recorded!r} never finished" in message
    assert next(r for r in plan.guests if r.vmid == 107).status == "orphan"


def test_a_finished_create_is_ours_again() -> None:
    done = observed_guest(g("web-1"), 105, running=True)
    done = done.__class__(**{**done.__dict__, "recorded_name": "web-1", "in_inventory": True})
    plan = planner.plan(spec(g("web-1")), cluster(done), policy())
    assert plan.actions == [] and plan.conflicts == [] and plan.orphans == []
