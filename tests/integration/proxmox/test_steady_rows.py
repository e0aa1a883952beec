"""The observer's steady tick over 10,000 rows (issue 17), against the simulator over real
HTTPS: an unchanged row is compared, not made into a guest again (the per-row parser,
``rows.guest_of_row``, is counted where the observer calls it), nothing per guest is kept
beyond the last rows, and a single changed row among 10,000 is still found."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from mycopod.config import load_settings
from mycopod.proxmox import rows
from mycopod.proxmox.client import ProxmoxClient
from mycopod.proxmox.model import ObservedCluster, ObservedGuest
from mycopod.proxmox.observer import Observer
from mycopod.pvesim import direct
from mycopod.pvesim.testing import SimHandle, running_simulator

TAG = "mycopod"
BULK = 10_000


class Made(list[int]):
    """The vmid of every row the observer made into a guest (``rows.guest_of_row``)."""


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    with running_simulator(task_seconds=0.01, seed=17) as handle:
        yield handle


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> Made:
    calls = Made()
    parse = rows.guest_of_row

    def counted(item: Any, **kwargs: Any) -> ObservedGuest:
        calls.append(int(item["vmid"]))
        return parse(item, **kwargs)

    monkeypatch.setattr(rows, "guest_of_row", counted)
    return calls


@pytest.fixture
async def client(sim: SimHandle) -> AsyncIterator[tuple[ProxmoxClient, list[str]]]:
    settings = load_settings(environ={}, overrides={"proxmox": {
        "url": sim.url, "user": sim.user, "password": sim.password, "verify_tls": False,
        "timeout": 30}})
    paths: list[str] = []
    client = ProxmoxClient.from_settings(
        settings.proxmox, request_hook=lambda _method, path, _params: paths.append(path),
        retry_initial=0.01, retry_max=0.05, task_poll=0.01)
    await client.get("/version")  # log in: the ticket is not part of an observation
    paths.clear()
    try:
        yield client, paths
    finally:
        await client.aclose()


@pytest.fixture
def bulk(sim: SimHandle) -> tuple[list[int], list[int]]:
    """10,000 guests nobody tagged (their rows are compared, their configs never read),
    and three of ours (tagged: their configs are read)."""
    others = direct.add_guests(sim.cluster, BULK, owned_tag=None, name_prefix="bulk")
    ours = direct.add_guests(sim.cluster, 3, owned_tag=TAG, name_prefix="web")
    return others, ours


def by_vmid(observed: ObservedCluster) -> dict[int, ObservedGuest]:
    return {g.vmid: g for g in observed.guests}


def retained_bytes() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def test_an_unchanged_tick_over_10000_rows_makes_and_keeps_no_guest(
        sim: SimHandle, client: tuple[ProxmoxClient, list[str]], bulk: tuple[list[int], list[int]],
        made: Made) -> None:
    proxmox, paths = client
    others, ours = bulk
    observer = Observer(proxmox, ownership_tag=TAG, resync_seconds=600)
    tracemalloc.start()
    try:
        first = await observer.observe()
        # the first tick makes every row into a guest, and reads our configs
        assert len(first.guests) > BULK
        assert sorted(made) == sorted(g.vmid for g in first.guests)
        assert observer.last_rows_changed == len(first.guests)
        assert sorted(p for p in paths if p.endswith("/pending")) == sorted(
            f"/nodes/{direct.node_of(sim.cluster, v)}/qemu/{v}/pending" for v in ours)
        second = await observer.observe()  # every buffer and pool warm
        before = retained_bytes()
        made.clear()
        paths.clear()
        third = await observer.observe()
        kept = retained_bytes() - before
    finally:
        tracemalloc.stop()
    # one request, no row made into a guest again: the very same guests, the same tuple
    assert paths == ["/cluster/resources"]
    assert made == [] and observer.last_rows_changed == 0
    assert observer.last_config_reads == 0
    assert third.guests is second.guests is first.guests
    # nothing per guest kept beyond the last rows: a tick's rows replace the last ones,
    # so what stays allocated (here, with the simulator in this process: about 40 kB)
    # does not grow by an object per guest (the smallest Python object, 16 bytes, for
    # each of 10,000 guests would be 160 kB; a tuple or a guest is 40 to 100 bytes)
    assert kept < BULK * 16, kept
    seen = by_vmid(third)
    assert {seen[v].owned for v in others} == {False}
    assert all(seen[v].owned and seen[v].current is not None for v in ours)


async def test_one_changed_row_among_10000_is_found_and_only_it_made_again(
        sim: SimHandle, client: tuple[ProxmoxClient, list[str]],
        bulk: tuple[list[int], list[int]], made: Made) -> None:
    proxmox, paths = client
    others, ours = bulk
    observer = Observer(proxmox, ownership_tag=TAG, resync_seconds=600)
    first = by_vmid(await observer.observe())

    # someone starts one of the 10,000 (not ours): its row shows it after pvestatd's round
    victim = others[BULK // 2]
    node = direct.node_of(sim.cluster, victim)
    await proxmox.wait_task(await proxmox.post(f"/nodes/{node}/qemu/{victim}/status/start"))
    sim.stats_round()
    made.clear()
    paths.clear()
    seen = by_vmid(await observer.observe())
    assert made == [victim] and observer.last_rows_changed == 1
    assert paths == ["/cluster/resources"]  # not ours: its config is not read
    assert seen[victim].running and not first[victim].running
    assert all(seen[v] is first[v] for v in first if v != victim)

    # one of ours changes out of band in a way its row shows (cores: maxcpu): that guest
    # alone is made again, and its config read
    target = ours[0]
    node = direct.node_of(sim.cluster, target)
    await proxmox.wait_task(await proxmox.post(f"/nodes/{node}/qemu/{target}/config",
                                               cores=4))
    sim.stats_round()
    made.clear()
    paths.clear()
    again = by_vmid(await observer.observe())
    assert made == [target]
    assert paths == ["/cluster/resources", f"/nodes/{node}/qemu/{target}/pending"]
    current = again[target].current
    assert again[target].maxcpu == 4 and current is not None and current.cores == 4
    assert all(again[v] is seen[v] for v in seen if v != target)

    # the inventory gains a row for one of the 10,000: that guest alone is made again,
    # now ours (the inventory is compared once per tick, then per row only if it changed)
    adopted = others[0]
    name = first[adopted].name
    made.clear()
    paths.clear()
    now = by_vmid(await observer.observe(inventory={adopted: name}))
    assert made == [adopted]
    assert now[adopted].owned and now[adopted].in_inventory
    assert paths == ["/cluster/resources",
                     f"/nodes/{direct.node_of(sim.cluster, adopted)}/qemu/{adopted}/pending"]
    assert all(now[v] is again[v] for v in again if v != adopted)
