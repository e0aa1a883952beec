"""The fair-share rule (reconcile/fairshare_rules.py), played over rounds against a lock
table: replicas converge to floor..ceil each, every cluster is led, a new replica gets
its share, a dead replica's clusters move, and nobody gives up more than one per round."""

from __future__ import annotations

import pytest

from mycopod.reconcile import fairshare_rules as rules

CLUSTERS = [f"site-{i}" for i in range(10)]


class Table:
    """Advisory locks and heartbeat counts, as the replicas see them (counts one round
    stale: each replica reports at its beat, before it acts). Replicas play in turn, so
    a later one sees the locks an earlier one took in the same round."""

    def __init__(self) -> None:
        self.owner: dict[str, str] = {}
        self.reported: dict[str, int] = {}
        self.cooling: dict[str, dict[str, int]] = {}
        self.released: list[tuple[int, str]] = []
        self.rounds: dict[str, int] = {}

    def held(self, replica: str) -> set[str]:
        return {c for c, r in self.owner.items() if r == replica}

    def round(self, replicas: list[str], number: int) -> None:
        for me in replicas:
            cooling = self.cooling.setdefault(me, {})
            for c in list(cooling):
                cooling[c] -= 1
                if cooling[c] <= 0:
                    del cooling[c]
            held = self.held(me)
            self.reported[me] = len(held)
            others = {r: self.reported[r] for r in replicas if r != me and r in self.reported}
            d = rules.decide(me=me, clusters=CLUSTERS, held=held, others=others,
                             cooling=cooling)
            self.rounds[me] = self.rounds.get(me, 0) + 1
            if self.rounds[me] == 1:
                continue  # a replica's first round only announces it (as FairShare does)
            if d.release is not None:
                assert d.release in held
                del self.owner[d.release]
                cooling[d.release] = rules.COOL_ROUNDS
                self.released.append((number, me))
                continue
            got = 0
            for c in d.take:
                if got >= d.want:
                    break
                if c not in self.owner:
                    self.owner[c] = me
                    got += 1

    def counts(self, replicas: list[str]) -> list[int]:
        return sorted(len(self.held(r)) for r in replicas)


def settle(table: Table, replicas: list[str], rounds: int = 12) -> int:
    """Play rounds until nothing moves for three rounds; the rounds it took."""
    last, quiet = None, 0
    for n in range(1, rounds + 1):
        table.round(replicas, n)
        now = dict(table.owner)
        quiet = quiet + 1 if now == last else 0
        last = now
        if quiet == 3:
            return n - 3
    pytest.fail(f"no stable assignment after {rounds} rounds: {table.counts(replicas)}")


def test_shares_are_floor_and_ceil() -> None:
    assert rules.shares(10, 3) == (3, 4)
    assert rules.shares(10, 4) == (2, 3)
    assert rules.shares(2, 3) == (0, 1)
    assert rules.shares(10, 0) == (10, 10)


def test_three_replicas_lead_three_or_four_of_ten_each_and_every_cluster_is_led() -> None:
    table = Table()
    replicas = ["a", "b", "c"]
    settle(table, replicas)
    assert table.counts(replicas) == [3, 3, 4]
    assert set(table.owner) == set(CLUSTERS)


def test_a_replica_alone_takes_everything_then_hands_over_one_per_round() -> None:
    table = Table()
    settle(table, ["a"])
    assert table.counts(["a"]) == [10]
    replicas = ["a", "b", "c"]
    settle(table, replicas, rounds=30)
    assert table.counts(replicas) == [3, 3, 4]
    per_round = [n for n, who in table.released if who == "a"]
    assert len(per_round) == len(set(per_round)), "gave up two clusters in one round"


def test_a_fourth_replica_gets_two_or_three() -> None:
    table = Table()
    settle(table, ["a", "b", "c"])
    replicas = ["a", "b", "c", "d"]
    settle(table, replicas, rounds=30)
    assert table.counts(replicas) == [2, 2, 3, 3]
    assert set(table.owner) == set(CLUSTERS)


def test_a_dead_replicas_clusters_are_taken_by_the_others() -> None:
    table = Table()
    settle(table, ["a", "b", "c"])
    dead = max(["a", "b", "c"], key=lambda r: len(table.held(r)))
    table.owner = {c: r for c, r in table.owner.items() if r != dead}  # session gone
    table.reported.pop(dead)
    alive = [r for r in ["a", "b", "c"] if r != dead]
    table.round(alive, 100)
    assert set(table.owner) == set(CLUSTERS), "taken in the very next round"
    assert table.counts(alive) == [5, 5]


def test_more_replicas_than_clusters_each_leads_at_most_one() -> None:
    table = Table()
    replicas = [f"r{i}" for i in range(12)]
    settle(table, replicas)
    assert max(table.counts(replicas)) == 1
    assert set(table.owner) == set(CLUSTERS)


def test_withdrawn_and_cooling_clusters_are_not_tried() -> None:
    d = rules.decide(me="a", clusters=CLUSTERS, held=set(), others={},
                     cooling={"site-1": 2}, withdrawn={"site-2"})
    assert "site-1" not in d.take and "site-2" not in d.take
    assert d.want == 10 and len(d.take) == 8
