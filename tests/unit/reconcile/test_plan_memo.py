"""The plan memo: replaying last pass's per-guest results gives the plan a fresh pass gives."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mycopod.reconcile import planner
from mycopod.reconcile.plan_memo import PlanMemo
from mycopod.spec import ClusterSpec, GuestSpec
from tests.support.plans import GIB, cluster, observed_guest, policy


def g(name: str, **fields: Any) -> GuestSpec:
    return GuestSpec.model_validate({"name": name, **fields})


def test_unchanged_guests_are_replayed_changed_ones_planned() -> None:
    declared = [g("a", cores=2), g("b", cores=2), g("c", cores=2, state="stopped")]
    seen = [observed_guest(g("a", cores=2), 101, running=True),
            observed_guest(g("b", cores=1), 102, running=True),
            observed_guest(g("c", cores=2), 103, running=True)]
    spec, observed, memo = ClusterSpec(guests=declared), cluster(*seen), PlanMemo()
    first = planner.plan(spec, observed, policy(), memo=memo)
    assert (memo.hits, memo.misses) == (0, 3)
    again = planner.plan(spec, observed, policy(), memo=memo)
    assert (memo.hits, memo.misses) == (3, 0)
    assert again.to_json() == first.to_json() == planner.plan(spec, observed,
                                                              policy()).to_json()
    # a's row changed (now stopped): a alone is planned again, and the plan is a fresh one's
    moved = cluster(replace(seen[0], status="stopped"), seen[1], seen[2])
    third = planner.plan(spec, moved, policy(), memo=memo)
    assert (memo.hits, memo.misses) == (2, 1)
    assert third.to_json() == planner.plan(spec, moved, policy()).to_json()
    # a declaration changed (b's cores): b alone is planned again
    edited = ClusterSpec(guests=[declared[0], g("b", cores=1), declared[2]])
    fourth = planner.plan(edited, moved, policy(), memo=memo)
    assert (memo.hits, memo.misses) == (2, 1)
    assert fourth.to_json() == planner.plan(edited, moved, policy()).to_json()
    # the policy a result depends on changed: everything is planned again
    planner.plan(edited, moved, policy(ownership_tag="other"), memo=memo)
    assert memo.hits == 0


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4), st.booleans(),
                          st.booleans()), min_size=1, max_size=6),
       st.lists(st.integers(0, 5), max_size=4))
def test_memo_never_changes_a_plan(rows: list[tuple[int, int, bool, bool]],
                                   changed: list[int]) -> None:
    declared = [g(f"g{i}", cores=want) for i, (want, _, _, _) in enumerate(rows)]
    seen = [observed_guest(g(f"g{i}", cores=have), 100 + i, running=running)
            for i, (_, have, running, _) in enumerate(rows) if rows[i][3] or i % 2 == 0]
    spec, memo = ClusterSpec(guests=declared), PlanMemo()
    planner.plan(spec, cluster(*seen), policy(), memo=memo)
    for i in changed:
        if i < len(seen):
            seen[i] = replace(seen[i], status="stopped" if seen[i].running else "running")
    observed = cluster(*seen)
    assert (planner.plan(spec, observed, policy(), memo=memo).to_json()
            == planner.plan(spec, observed, policy()).to_json())


# --- the whole last plan, when nothing changed -----------------------------------------------


def _steady() -> tuple[ClusterSpec, Any, PlanMemo]:
    declared = [g("a", cores=2), g("b", cores=2)]
    seen = [observed_guest(g("a", cores=2), 101, running=True),
            observed_guest(g("b", cores=2), 102, running=True)]
    return ClusterSpec(guests=declared), cluster(*seen), PlanMemo()


def test_nothing_changed_gives_the_last_plan_again_as_a_copy_of_its_own() -> None:
    spec, observed, memo = _steady()
    first = planner.plan(spec, observed, policy(), memo=memo)
    assert not memo.reused
    first.user_changes.append("filled in by the engine")  # type: ignore[arg-type]
    first.guests.clear()
    again = planner.plan(spec, observed, policy(), memo=memo)
    assert memo.reused and (memo.hits, memo.misses) == (2, 0)
    # what the engine did to the first plan did not leak into the one handed back
    assert again.to_json() == planner.plan(spec, observed, policy()).to_json()
    assert [r.name for r in again.guests] == ["a", "b"] and again.user_changes == []
    assert again is not first and again.guests is not first.guests


def test_a_changed_row_is_planned_not_replayed() -> None:
    spec, observed, memo = _steady()
    planner.plan(spec, observed, policy(), memo=memo)
    a, b = (x for x in observed.guests if not x.template)
    # b was stopped by hand: a new observation (a new guests tuple, b a new object)
    moved = replace(observed, guests=(*observed.guests[:-1], replace(b, status="stopped")))
    plan = planner.plan(spec, moved, policy(), memo=memo)
    assert not memo.reused and (memo.hits, memo.misses) == (1, 1)
    assert [(x.kind, x.target) for x in plan.actions] == [("start", "b")]
    assert plan.to_json() == planner.plan(spec, moved, policy()).to_json()


def test_a_changed_declaration_is_planned_not_replayed() -> None:
    spec, observed, memo = _steady()
    planner.plan(spec, observed, policy(), memo=memo)
    # the same declarations in a new spec object: equal guests are replayed one by one
    same = ClusterSpec(guests=list(spec.guests))
    planner.plan(same, observed, policy(), memo=memo)
    assert not memo.reused and (memo.hits, memo.misses) == (2, 0)
    edited = ClusterSpec(guests=[spec.guests[0], g("b", cores=4)])
    plan = planner.plan(edited, observed, policy(), memo=memo)
    assert not memo.reused and (memo.hits, memo.misses) == (1, 1)
    assert {x.target for x in plan.actions} == {"b"}
    assert any("cores" in line for r in plan.guests if r.name == "b" for line in r.drift)
    assert plan.to_json() == planner.plan(edited, observed, policy()).to_json()


def test_policy_recent_and_reservations_are_part_of_what_did_not_change() -> None:
    spec, observed, memo = _steady()
    planner.plan(spec, observed, policy(), memo=memo)
    planner.plan(spec, observed, policy(restart_on_change=True), memo=memo)
    assert not memo.reused
    recent = planner.Recent(deletions=3)
    planner.plan(spec, observed, policy(restart_on_change=True), recent=recent, memo=memo)
    assert not memo.reused
    planner.plan(spec, observed, policy(restart_on_change=True), recent=recent, memo=memo)
    assert memo.reused
    reserved = replace(observed, reserved_vmids=frozenset({150}),
                       reserved_names={150: "gone"})
    planner.plan(spec, reserved, policy(restart_on_change=True), recent=recent, memo=memo)
    assert not memo.reused
    planner.plan(spec, reserved, policy(restart_on_change=True), recent=recent,
                 llm_guests={"a": "some-model"}, memo=memo)
    assert not memo.reused


def test_node_state_counts_only_when_the_plan_places_a_new_guest() -> None:
    spec, observed, memo = _steady()
    planner.plan(spec, observed, policy(), memo=memo)
    busier = replace(observed, nodes=tuple(replace(n, mem=n.mem + GIB)
                                           for n in observed.nodes))
    planner.plan(spec, busier, policy(), memo=memo)
    assert memo.reused  # no create: free memory on the nodes cannot change this plan
    # a missing guest is placed on the node with the most free memory
    grown = ClusterSpec(guests=[*spec.guests, g("c", memory_mib=1024, state="stopped")])
    placed = planner.plan(grown, observed, policy(), memo=memo)
    assert [(x.kind, x.node) for x in placed.actions if x.target == "c"] == [
        ("create", "pve1")]
    pve1_full = replace(observed, nodes=tuple(
        replace(n, mem=n.maxmem - GIB) if n.name == "pve1" else n for n in observed.nodes))
    moved = planner.plan(grown, pve1_full, policy(), memo=memo)
    assert not memo.reused
    assert [(x.kind, x.node) for x in moved.actions if x.target == "c"] == [
        ("create", "pve2")]
