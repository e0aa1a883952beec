"""The plan memo: replaying last pass's per-guest results gives the plan a fresh pass gives."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mycopod.reconcile import planner
from mycopod.reconcile.plan_memo import PlanMemo
from mycopod.spec import ClusterSpec, GuestSpec
from tests.support.plans import cluster, observed_guest, policy


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
