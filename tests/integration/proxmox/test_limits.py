"""Requests in flight: ``[proxmox] max_workers`` at once overall and the per-node limit
on each node, as the simulator counts them (``/_sim/stats``), and a full resync that
reaches those limits without passing them."""

from __future__ import annotations

import asyncio
import json
import ssl
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from mycopod.config import load_settings
from mycopod.proxmox.client import ProxmoxClient
from mycopod.proxmox.errors import ProxmoxError
from mycopod.proxmox.limits import RequestLimits, node_of
from mycopod.proxmox.observer import Observer
from mycopod.pvesim import direct
from mycopod.pvesim.testing import SimHandle, running_simulator

NODES = ("pve1", "pve2", "pve3")


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    # 30 ms per answer: requests overlap, so a limit that does not hold shows
    with running_simulator(task_seconds=0.01, seed=5, latency_ms=30) as handle:
        yield handle


def sim_stats(sim: SimHandle, *, reset: bool = False) -> dict[str, Any]:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    request = urllib.request.Request(  # noqa: S310 - our own simulator URL
        f"{sim.url}/_sim/stats", method="POST" if reset else "GET")
    with urllib.request.urlopen(request, context=context, timeout=10) as answer:  # noqa: S310
        return dict(json.loads(answer.read()))


def make_client(sim: SimHandle, max_workers: int, **options: Any) -> ProxmoxClient:
    settings = load_settings(environ={}, overrides={"proxmox": {
        "url": sim.url, "user": sim.user, "password": sim.password, "verify_tls": False,
        "timeout": 10, "max_workers": max_workers}})
    return ProxmoxClient.from_settings(settings.proxmox, **options)


async def test_requests_in_flight_stay_within_the_overall_and_per_node_limits(
        sim: SimHandle) -> None:
    client = make_client(sim, max_workers=4)
    assert client.limits.per_node == 2  # half of max_workers by default
    try:
        await client.get("/version")
        sim_stats(sim, reset=True)
        paths = [f"/nodes/{n}/status" for n in NODES for _ in range(6)]
        paths += ["/cluster/resources"] * 6
        await asyncio.gather(*(client.get(p) for p in paths))
        seen = sim_stats(sim)
        assert seen["requests"] == len(paths)
        # the limits were reached (the requests did overlap) and never passed
        assert seen["peak"] == client.limits.max_in_flight == 4
        assert seen["peak_per_node"] == {n: 2 for n in NODES}
        assert client.limits.max_in_flight_per_node == {n: 2 for n in NODES}
        # all on one node: the node's limit is the bound, not max_workers
        sim_stats(sim, reset=True)
        await asyncio.gather(*(client.get("/nodes/pve2/status") for _ in range(8)))
        assert sim_stats(sim)["peak"] == 2
    finally:
        await client.aclose()


async def test_a_full_resync_reads_within_the_limits_and_goes_round_the_nodes(
        sim: SimHandle) -> None:
    direct.add_guests(sim.cluster, 30, owned_tag="mycopod", name_prefix="bulk")
    client = make_client(sim, max_workers=6, per_node=2)
    try:
        await client.get("/version")
        sim_stats(sim, reset=True)
        observed = await Observer(client, ownership_tag="mycopod").observe(full=True)
        seen = sim_stats(sim)
        owned = [g for g in observed.guests if g.owned]
        assert len(owned) == 30 and all(g.current is not None for g in owned)
        assert seen["requests"] == 31  # /cluster/resources and one read per guest
        # every node's reads overlapped up to its limit, and all three nodes at once
        assert seen["peak_per_node"] == {n: 2 for n in NODES}
        assert seen["peak"] == 6
    finally:
        await client.aclose()


async def test_reads_reuse_their_connections(sim: SimHandle) -> None:
    """Hundreds of reads travel on at most ``max_workers`` TLS connections (kept
    alive), not one handshake per request; a path that must be encoded still works."""
    direct.add_guests(sim.cluster, 60, owned_tag="mycopod", name_prefix="bulk")
    client = make_client(sim, max_workers=4)
    try:
        await client.get("/version")
        sim_stats(sim, reset=True)
        observer = Observer(client, ownership_tag="mycopod")
        for _ in range(3):
            observer.invalidate()
            await observer.observe()
        seen = sim_stats(sim)
        assert seen["requests"] == 3 * 61
        assert 1 <= seen["connections"] <= 4
        # a path with a space is sent encoded (the simulator serves no snapshots: 501)
        with pytest.raises(ProxmoxError, match="snapshot/no%20such%20snapshot/config"):
            await client.get("/nodes/pve1/qemu/100/snapshot/no such snapshot/config")
    finally:
        await client.aclose()


def test_limits_and_the_node_of_a_path() -> None:
    assert node_of("/nodes/pve1/qemu/101/config") == "pve1"
    assert node_of("/nodes/pve1") == "pve1"
    assert node_of("/cluster/resources") is None
    assert RequestLimits(16).per_node == 8 and RequestLimits(5).per_node == 3
    assert RequestLimits(1).per_node == 1 and RequestLimits(4, per_node=9).per_node == 4
    with pytest.raises(ValueError, match="at least 1"):
        RequestLimits(0)
