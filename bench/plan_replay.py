"""Replay a first full resync's parse-and-plan work in one process, no HTTP; prints JSON.

The first full resync of a new process (what a new leader runs) parses every owned
guest's ``pending`` answer and plans every guest, with nothing cached. This measures
that CPU alone, without the transport: the cluster, spec and inventory are built the
way ``bench/scale.py`` builds them (``bench/reconcile.py``'s ``prepare_state`` and
``bulk_spec``: ``--guests`` VMs with one disk and one NIC, the spec that matches them),
the simulator's answers (``/cluster/resources`` and each guest's ``pending``, as
``pvesim.views`` makes them, through JSON as on the wire) are made once up front, and
then each phase is timed, cold (fresh objects each repetition), as CPU seconds
(``time.process_time``), median of ``--repeat`` (default 5), and the least of them
(``cpu_seconds_min``: a shared machine only adds CPU time):

- ``parse_pending``: :func:`mycopod.proxmox.reads.parse_pending` of every answer (what
  the observer calls on each read it has not parsed before);
- ``observe``: a fresh :class:`mycopod.proxmox.observer.Observer`'s full observation
  against a client that hands back the answers from memory: rows sorted and made into
  guests, every config read and parsed (``parse_pending`` included);
- ``differences``: :func:`mycopod.proxmox.payloads.differences` of every declared guest
  against its observed config (what planning a converged guest compares);
- ``plan``: :func:`mycopod.reconcile.planner.plan` of the whole spec against the
  observation with an empty plan memo (as a new process plans); ``differences``
  included;
- ``observe_and_plan``: ``observe`` then ``plan``, under the GC window the daemon opens
  around them (:func:`mycopod.gcwindow.fewer_collections`).

``plan_sha256`` is a digest of the plan (its JSON): the same before and after a change
to the code means the same plan. ``actions`` must be 0 (the spec matches the cluster).

Usage: ``python bench/plan_replay.py [--guests 10000] [--repeat 5] [--profile FILE]``
(``--profile``: a cProfile of one more cold ``observe_and_plan``, written to FILE; read
it with ``python -m pstats FILE``).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import hashlib
import json
import logging
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import orjson
import structlog

import reconcile as setup  # bench/reconcile.py (the script's folder is on sys.path)
from mycopod import gcwindow
from mycopod.config import PolicySettings
from mycopod.proxmox import payloads
from mycopod.proxmox.model import ObservedCluster
from mycopod.proxmox.observer import Observer
from mycopod.proxmox.reads import parse_pending
from mycopod.pvesim import direct, views
from mycopod.pvesim.resources import ResourceCache
from mycopod.pvesim.state import Cluster
from mycopod.reconcile import planner
from mycopod.reconcile.plan_memo import PlanMemo
from mycopod.spec import ClusterSpec

TAG = "mycopod"


class Limits:
    total = 32


class MemoryClient:
    """What the observer asks of a client, answered from memory (no HTTP)."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.limits = Limits()
        self.request_count = 0

    async def get(self, path: str, **params: Any) -> Any:
        self.request_count += 1
        return self.answers[path]


def build(n: int) -> tuple[ClusterSpec, dict[str, Any], dict[int, str]]:
    """The spec, the answers by path, and the inventory (vmid → name) of ``n`` guests."""
    cluster = Cluster.initial(node_count=3, seed=1)
    direct.add_guests(cluster, n, owned_tag=TAG, storage="tank", disk_gib=8)
    spec = setup.bulk_spec(cluster)
    # as bench/scale.py hands it over: what a declaration states is what it sets
    spec = ClusterSpec.model_validate_json(spec.model_dump_json(exclude_unset=True))
    body = orjson.loads(ResourceCache(0).body(cluster, None).raw)
    answers: dict[str, Any] = {
        "/cluster/resources": body.get("data") if isinstance(body, dict) else body}
    kinds = {"qemu": "qemu", "lxc": "lxc"}
    for g in cluster.guests.values():
        path = f"/nodes/{g.node}/{kinds[g.kind]}/{g.vmid}/pending"
        answers[path] = orjson.loads(orjson.dumps(views.pending_view(g)))
    inventory = {g.vmid: str(g.config.get("name") or g.config.get("hostname"))
                 for g in cluster.guests.values() if g.vmid in _names(spec, cluster)}
    return spec, answers, inventory


def _names(spec: ClusterSpec, cluster: Cluster) -> set[int]:
    declared = {g.name for g in spec.guests}
    return {g.vmid for g in cluster.guests.values()
            if (g.config.get("name") or g.config.get("hostname")) in declared}


def cpu(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    started = time.process_time()
    result = fn()
    return time.process_time() - started, result


def observe(answers: dict[str, Any], inventory: dict[int, str]) -> ObservedCluster:
    observer = Observer(MemoryClient(answers), ownership_tag=TAG,  # type: ignore[arg-type]
                        concurrency=32)
    # one loop for the whole run: asyncio.run() would also, on its way out, put back the
    # SIGINT handler, whose repr (in an enum error message) includes the main task's
    # result: a repr of every observed guest, most of the phase, that the daemon never makes
    return _LOOP.run_until_complete(observer.observe(inventory=inventory, full=True))


_LOOP = asyncio.new_event_loop()


def plan_of(spec: ClusterSpec, observed: ObservedCluster, policy: PolicySettings) -> Any:
    return planner.plan(spec, observed, policy, memo=PlanMemo())


def differences(spec: ClusterSpec, observed: ObservedCluster) -> int:
    by_name = {g.name: g for g in observed.guests}
    found = 0
    for guest in spec.guests:
        seen = by_name[guest.name]
        assert seen.pending is not None or seen.current is not None
        config = seen.pending or seen.current
        assert config is not None
        found += len(payloads.differences(guest, config.raw, ownership_tag=TAG).values)
    return found


def observe_and_plan(spec: ClusterSpec, answers: dict[str, Any], inventory: dict[int, str],
                     policy: PolicySettings) -> Any:
    with gcwindow.fewer_collections():
        return plan_of(spec, observe(answers, inventory), policy)


def run(n: int, repeat: int) -> dict[str, Any]:
    spec, answers, inventory = build(n)
    policy = PolicySettings(max_creates_per_run=100_000, max_creates_per_window=100_000)
    reads = [(path, items) for path, items in answers.items() if path.endswith("/pending")]

    def parse_all() -> int:
        for path, items in reads:
            _, _, node, api, vmid, _ = path.split("/")
            parse_pending("vm" if api == "qemu" else "ct", node, int(vmid), items)
        return len(reads)

    phases: dict[str, list[float]] = {k: [] for k in (
        "parse_pending", "observe", "differences", "plan", "observe_and_plan")}
    digest = ""
    actions = -1
    for _ in range(repeat):
        phases["parse_pending"].append(cpu(parse_all)[0])
        seconds, observed = cpu(lambda: observe(answers, inventory))
        phases["observe"].append(seconds)
        phases["differences"].append(cpu(functools.partial(differences, spec, observed))[0])
        seconds, made = cpu(functools.partial(plan_of, spec, observed, policy))
        phases["plan"].append(seconds)
        phases["observe_and_plan"].append(
            cpu(lambda: observe_and_plan(spec, answers, inventory, policy))[0])
        digest = hashlib.sha256(made.model_dump_json().encode()).hexdigest()
        actions = len(made.actions)
    return {
        "guests": n, "repeat": repeat, "python": sys.version.split()[0],
        "cpu_seconds_median": {k: round(statistics.median(v), 3) for k, v in phases.items()},
        # the least disturbed repetition (a shared machine only ever adds CPU time)
        "cpu_seconds_min": {k: round(min(v), 3) for k, v in phases.items()},
        "cpu_seconds": {k: [round(x, 3) for x in v] for k, v in phases.items()},
        "actions": actions, "plan_sha256": digest,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Phases: parse_pending, observe (rows + reads + parse), differences, plan "
               "(with an empty memo), observe_and_plan (under the GC window). "
               "CPU seconds, median (and least) of --repeat.")
    parser.add_argument("--guests", type=int, default=10_000, help="guests (default 10000)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="repetitions of each phase; medians reported (default 5)")
    parser.add_argument("--profile", metavar="FILE",
                        help="also write a cProfile of one cold observe_and_plan to FILE")
    options = parser.parse_args()
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    result = run(options.guests, options.repeat)
    if options.profile:
        import cProfile
        spec, answers, inventory = build(options.guests)
        policy = PolicySettings(max_creates_per_run=100_000, max_creates_per_window=100_000)
        with cProfile.Profile() as profile:
            observe_and_plan(spec, answers, inventory, policy)
        profile.dump_stats(options.profile)
        result["profile"] = options.profile
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
