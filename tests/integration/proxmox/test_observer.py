"""The observer against the simulator over real HTTPS: what it sees, and what it costs.

A steady poll of an unchanged cluster must cost one ``GET /cluster/resources``; configs
are read on a full resync, for a guest whose summary changed, and never for guests that
are not MycoPod's. Requests are counted with the client's ``request_hook``, which sees
every call the client makes (the login is done before counting starts).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from mycopod.config import load_settings
from mycopod.proxmox.client import ProxmoxClient
from mycopod.proxmox.model import ObservedCluster, ObservedGuest
from mycopod.proxmox.observer import Observer
from mycopod.pvesim import direct
from mycopod.pvesim.testing import SimHandle, running_simulator

GIB = 1024**3
TAG = "mycopod"
#: what a fresh simulator holds: two templates and one running guest nobody tagged
TEMPLATES = {9000: "ubuntu-24.04", 9001: "debian-12"}
LEGACY = 100


class Requests(list[tuple[str, str]]):
    """(method, path) of every request the client made since the last ``clear()``."""

    def record(self, method: str, path: str, params: dict[str, Any]) -> None:
        self.append((method, path))

    def config_reads(self) -> list[str]:
        return sorted(path for method, path in self if path.endswith("/pending"))


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    with running_simulator(task_seconds=0.01, seed=11) as handle:
        yield handle


@pytest.fixture
def requests() -> Requests:
    return Requests()


@pytest.fixture
async def client(sim: SimHandle, requests: Requests) -> AsyncIterator[ProxmoxClient]:
    settings = load_settings(environ={}, overrides={"proxmox": {
        "url": sim.url, "user": sim.user, "password": sim.password, "verify_tls": False,
        "timeout": 10}})
    client = ProxmoxClient.from_settings(settings.proxmox, request_hook=requests.record,
                                         retry_initial=0.01, retry_max=0.05, task_poll=0.01)
    await client.get("/version")  # log in: the ticket is not part of an observation
    requests.clear()
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def owned(sim: SimHandle) -> list[int]:
    """Three guests with the ownership tag: two VMs on pve1 and pve2, a container."""
    vms = direct.add_guests(sim.cluster, 2, owned_tag=TAG, name_prefix="web")
    cts = direct.add_guests(sim.cluster, 1, owned_tag=TAG, kind="lxc", name_prefix="dns")
    return vms + cts


def pending_path(sim: SimHandle, vmid: int) -> str:
    g = direct.guest(sim.cluster, vmid)
    assert g is not None
    return f"/nodes/{g.node}/{g.kind}/{vmid}/pending"


def by_vmid(observed: ObservedCluster) -> dict[int, ObservedGuest]:
    return {g.vmid: g for g in observed.guests}


async def set_config(client: ProxmoxClient, sim: SimHandle, vmid: int, **params: Any) -> None:
    """A change made in Proxmox by someone else (the web UI, ``qm set``)."""
    g = direct.guest(sim.cluster, vmid)
    assert g is not None
    method = "POST" if g.kind == "qemu" else "PUT"
    result = await client.request(method, f"/nodes/{g.node}/{g.kind}/{vmid}/config", params)
    await client.wait_task(result)


async def test_first_cycle_reads_owned_configs_then_a_steady_cycle_is_one_request(
        sim: SimHandle, client: ProxmoxClient, requests: Requests, owned: list[int]) -> None:
    observer = Observer(client, ownership_tag=TAG, resync_seconds=600)
    first = await observer.observe()
    assert requests[0] == ("GET", "/cluster/resources")
    assert requests.config_reads() == sorted(pending_path(sim, v) for v in owned)
    assert len(requests) == 1 + len(owned)
    assert observer.last_config_reads == len(owned)

    for _ in range(3):
        requests.clear()
        again = await observer.observe()
        assert requests == [("GET", "/cluster/resources")]
        assert observer.last_config_reads == 0
        # the cached configs are still there, unchanged
        assert again.guests == first.guests


async def test_full_resync_reads_every_owned_config_again(
        sim: SimHandle, client: ProxmoxClient, requests: Requests, owned: list[int]) -> None:
    observer = Observer(client, ownership_tag=TAG, resync_seconds=600)
    await observer.observe()
    requests.clear()
    await observer.observe(full=True)
    assert requests.config_reads() == sorted(pending_path(sim, v) for v in owned)
    # forgetting the cache (what the executor does after acting) also means a full read
    observer.invalidate()
    requests.clear()
    await observer.observe()
    assert len(requests.config_reads()) == len(owned)
    # forgetting one guest re-reads that guest only
    observer.invalidate(owned[0])
    requests.clear()
    await observer.observe()
    assert requests.config_reads() == [pending_path(sim, owned[0])]


async def test_resync_interval_elapsed_means_a_full_read(
        client: ProxmoxClient, requests: Requests, owned: list[int]) -> None:
    observer = Observer(client, ownership_tag=TAG, resync_seconds=0)
    await observer.observe()
    requests.clear()
    await observer.observe()
    assert len(requests.config_reads()) == len(owned)


async def test_a_changed_summary_rereads_that_guest_only(
        sim: SimHandle, client: ProxmoxClient, requests: Requests, owned: list[int]) -> None:
    observer = Observer(client, ownership_tag=TAG, resync_seconds=600)
    await observer.observe()
    changed = owned[0]
    await set_config(client, sim, changed, cores=4)  # shows in the summary (maxcpu)
    sim.stats_round()  # once pvestatd has sampled it (about 10 s in PVE)
    requests.clear()
    seen = by_vmid(await observer.observe())
    assert requests.config_reads() == [pending_path(sim, changed)]
    current = seen[changed].current
    assert current is not None and current.cores == 4
    assert seen[changed].maxcpu == 4


async def test_a_change_the_summary_does_not_show_waits_for_the_resync(
        sim: SimHandle, client: ProxmoxClient, requests: Requests, owned: list[int]) -> None:
    observer = Observer(client, ownership_tag=TAG, resync_seconds=600)
    await observer.observe()
    await set_config(client, sim, owned[0], description="edited in the web UI")
    requests.clear()
    stale = by_vmid(await observer.observe())[owned[0]].current
    assert requests == [("GET", "/cluster/resources")]
    assert stale is not None and stale.description is None
    fresh = by_vmid(await observer.observe(full=True))[owned[0]].current
    assert fresh is not None and fresh.description == "edited in the web UI"


async def test_pending_changes_of_a_running_vm(
        sim: SimHandle, client: ProxmoxClient, owned: list[int]) -> None:
    vmid = owned[0]
    result = await client.post(
        f"/nodes/{direct.node_of(sim.cluster, vmid)}/qemu/{vmid}/status/start")
    await client.wait_task(result)
    await set_config(client, sim, vmid, cores=3)  # cpu is not hot-pluggable by default
    sim.stats_round()  # /cluster/resources says "running" once pvestatd has seen it
    guest = by_vmid(await Observer(client, ownership_tag=TAG).observe())[vmid]
    assert guest.running
    assert guest.current is not None and guest.current.cores == 1
    assert guest.pending is not None and guest.pending.cores == 3
    assert guest.effective == guest.pending


async def test_templates_owned_and_unowned_guests(
        sim: SimHandle, client: ProxmoxClient, requests: Requests, owned: list[int]) -> None:
    observed = await Observer(client, ownership_tag=TAG).observe()
    seen = by_vmid(observed)
    assert set(seen) == {*TEMPLATES, LEGACY, *owned}
    # templates: never owned, configs not read, found by name for clones
    for vmid in TEMPLATES:
        assert seen[vmid].template and not seen[vmid].owned and seen[vmid].current is None
    assert {n: g.vmid for n, g in observed.templates().items()} == {
        name: vmid for vmid, name in TEMPLATES.items()}
    # someone else's guest: seen (its name is taken), never read
    legacy = seen[LEGACY]
    assert (legacy.name, legacy.running, legacy.owned, legacy.current) == (
        "legacy-app", True, False, None)
    # ours: the config read back in canonical form
    vm, ct = seen[owned[0]], seen[owned[2]]
    assert vm.owned and vm.kind == "vm" and vm.tags == (TAG,)
    assert vm.current is not None and vm.current.cores == 1
    assert vm.current.memory_mib == 1024
    assert [(d.slot, d.storage, d.size_bytes) for d in vm.current.disks] == [
        ("scsi0", "tank", 8 * GIB)]
    assert [(n.slot, n.bridge) for n in vm.current.networks] == [("net0", "vmbr0")]
    assert ct.owned and ct.kind == "ct" and ct.current is not None
    assert [d.slot for d in ct.current.disks] == ["rootfs"]
    assert ct.current.networks[0].ip == "dhcp"
    assert len(requests.config_reads()) == len(owned)  # only ours were read


async def test_ownership_by_inventory_and_adoption_candidates(
        sim: SimHandle, client: ProxmoxClient, requests: Requests) -> None:
    untagged = direct.add_guests(sim.cluster, 2, owned_tag=None, name_prefix="app")
    recorded, reused = untagged
    inventory = {
        recorded: f"app-{recorded}",     # ours: the inventory has it with this name
        reused: "a-guest-we-deleted",     # its vmid was freed and reused by someone else
        4242: "being-created",            # recorded, not visible (yet)
    }
    observer = Observer(client, ownership_tag=TAG)
    observed = await observer.observe(inventory=inventory, adopt_names=["legacy-app"])
    seen = by_vmid(observed)
    assert seen[recorded].owned and seen[recorded].in_inventory
    assert seen[recorded].current is not None
    assert not seen[reused].owned and seen[reused].current is None
    assert seen[reused].recorded_name == "a-guest-we-deleted"
    assert observed.reserved_vmids == {4242}
    assert 4242 in observed.used_vmids()
    # a declared name that adopt_existing may take over: read, still not ours
    assert not seen[LEGACY].owned and seen[LEGACY].current is not None
    assert seen[LEGACY].current.memory_mib == 4096
    assert requests.config_reads() == sorted(
        pending_path(sim, v) for v in (recorded, LEGACY))


async def test_a_locked_guest_is_reported_locked_and_reread_when_unlocked(
        sim: SimHandle, client: ProxmoxClient, requests: Requests, owned: list[int]) -> None:
    vmid = owned[1]
    observer = Observer(client, ownership_tag=TAG)
    await observer.observe()
    g = direct.guest(sim.cluster, vmid)
    assert g is not None
    with sim.cluster.lock:  # a backup job takes the guest
        g.config["lock"] = "backup"
        sim.cluster.touch(g)
    requests.clear()
    assert by_vmid(await observer.observe())[vmid].lock == "backup"
    assert requests.config_reads() == [pending_path(sim, vmid)]
    with sim.cluster.lock:
        del g.config["lock"]
        sim.cluster.touch(g)
    requests.clear()
    assert by_vmid(await observer.observe())[vmid].lock is None
    assert requests.config_reads() == [pending_path(sim, vmid)]


async def test_nodes_and_storages(client: ProxmoxClient, requests: Requests) -> None:
    observed = await Observer(client, ownership_tag=TAG).observe()
    assert requests == [("GET", "/cluster/resources")]  # nothing of ours to read
    assert [n.name for n in observed.nodes] == ["pve1", "pve2", "pve3"]
    for node in observed.nodes:
        assert node.online and node.maxmem == 64 * GIB and node.maxcpu == 16
        assert 0 < node.mem < node.maxmem
    by_node = {n.name: n for n in observed.nodes}
    # legacy-app (4 GiB) runs on pve1
    assert by_node["pve1"].free_mem < by_node["pve2"].free_mem
    storages = {(s.node, s.storage): s for s in observed.storages}
    assert {s for _, s in storages} == {"local", "local-lvm", "local-zfs", "lvm-thick",
                                         "ceph-pool", "tank"}
    for node in ("pve1", "pve2", "pve3"):
        tank, lvm = storages[(node, "tank")], storages[(node, "local-lvm")]
        assert tank.shared and not lvm.shared
        assert tank.active and tank.maxdisk == 8 * 1024 * GIB
        assert lvm.content == ("images", "rootdir")
        assert "vztmpl" in storages[(node, "local")].content
    # the templates' 4 GiB base disks sit on pve1's local-lvm
    assert storages[("pve1", "local-lvm")].disk > storages[("pve2", "local-lvm")].disk


async def test_container_templates_are_listed_per_storage(
        client: ProxmoxClient, requests: Requests) -> None:
    observer = Observer(client, ownership_tag=TAG)
    observed = await observer.observe()
    requests.clear()
    with_templates = await observer.observe_ct_templates(observed)
    assert with_templates.ct_templates == (
        "local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz",
        "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst")
    # only the storages holding vztmpl content are asked, once per node (not shared)
    assert sorted(path for _, path in requests) == [
        f"/nodes/{n}/storage/local/content" for n in ("pve1", "pve2", "pve3")]


async def test_a_guest_deleted_between_the_two_requests_is_kept_without_config(
        sim: SimHandle, client: ProxmoxClient, owned: list[int]) -> None:
    vmid = owned[0]
    original = client.get

    async def get(path: str, **params: Any) -> Any:
        answer = await original(path, **params)
        if path == "/cluster/resources":  # gone right after the summary was taken
            with sim.cluster.lock:
                del sim.cluster.guests[vmid]
                sim.cluster.touch()
        return answer

    client.get = get  # type: ignore[method-assign]
    seen = by_vmid(await Observer(client, ownership_tag=TAG).observe())
    assert seen[vmid].owned and seen[vmid].current is None
    assert seen[owned[1]].current is not None


async def test_a_guest_pvestatd_has_not_seen_is_named_from_its_config(
        sim: SimHandle, client: ProxmoxClient) -> None:
    # /cluster/resources shows a new guest without name and with status "unknown" until
    # pvestatd's next round (pve-manager PVE/API2Tools.pm extract_vm_stats)
    result = await client.post("/nodes/pve2/qemu", vmid=170, name="fresh", tags=TAG)
    await client.wait_task(result)
    rows = await client.get("/cluster/resources", type="vm")
    assert next(r for r in rows if r["vmid"] == 170)["status"] == "unknown"
    seen = by_vmid(await Observer(client, ownership_tag=TAG).observe(inventory={171: "x"}))
    guest = seen[170]
    assert (guest.name, guest.status, guest.owned, guest.template) == (
        "fresh", "stopped", True, False)
    assert guest.current is not None and guest.current.name == "fresh"


async def test_unchanged_rows_give_the_same_guest_objects(
        sim: SimHandle, client: ProxmoxClient, owned: list[int]) -> None:
    """What the plan memo relies on: a guest whose row did not change is the very same
    object (config included); one whose row changed is a new one, read again."""
    observer = Observer(client, ownership_tag=TAG, resync_seconds=600)
    first = by_vmid(await observer.observe())
    again = by_vmid(await observer.observe())
    assert all(again[v] is first[v] for v in first)
    await set_config(client, sim, owned[0], cores=4)
    sim.stats_round()
    third = by_vmid(await observer.observe())
    assert third[owned[0]] is not first[owned[0]] and third[owned[0]].maxcpu == 4
    assert all(third[v] is first[v] for v in first if v != owned[0])
    # the inventory entry of a vmid is part of what a guest is made of
    fourth = by_vmid(await observer.observe(inventory={owned[1]: first[owned[1]].name}))
    assert fourth[owned[1]] is not third[owned[1]] and fourth[owned[1]].in_inventory
    # a full resync reads every config again, but a config whose digest did not change
    # is not parsed again: with its row unchanged, the guest is the very same object
    fifth = by_vmid(await observer.observe(inventory={owned[1]: first[owned[1]].name},
                                           full=True))
    assert observer.last_config_reads == len(owned)
    assert all(fifth[v] is fourth[v] for v in owned)


async def test_a_full_resync_sees_a_config_change_no_row_shows(
        sim: SimHandle, client: ProxmoxClient, requests: Requests, owned: list[int]) -> None:
    """The digest decides what is parsed again, never the cache: a change that shows in
    no ``/cluster/resources`` row (onboot) is missed by a steady tick but seen by the
    next full resync, after invalidate() too; the unchanged guests stay the same."""
    observer = Observer(client, ownership_tag=TAG, resync_seconds=600)
    first = by_vmid(await observer.observe())
    changed = owned[0]
    assert first[changed].current is not None and not first[changed].current.onboot
    await set_config(client, sim, changed, onboot=1)
    sim.stats_round()
    assert by_vmid(await observer.observe())[changed] is first[changed]  # row unchanged
    before = len(requests)
    second = by_vmid(await observer.observe(full=True))
    # every owned config read again, one request each, after /cluster/resources
    assert len(requests) - before == 1 + len(owned)
    assert second[changed] is not first[changed]
    assert second[changed].current is not None and second[changed].current.onboot
    assert all(second[v] is first[v] for v in owned if v != changed)
    # the same after invalidate() (as after a leadership change)
    await set_config(client, sim, changed, onboot=0)
    observer.invalidate()
    before = len(requests)
    third = by_vmid(await observer.observe())
    assert len(requests) - before == 1 + len(owned)
    assert third[changed].current is not None and not third[changed].current.onboot
    assert all(third[v] is first[v] for v in owned if v != changed)
