"""pvestatd's stats rounds: an unchanged guest keeps its last sample (a round over
thousands of idle guests costs a pass over a dict), a changed one is sampled again."""

from __future__ import annotations

from mycopod.pvesim.state import MiB
from mycopod.pvesim.testing import SimHandle
from tests.support.pvesim import Api


def test_a_round_samples_again_only_the_guests_that_changed(api: Api, sim: SimHandle) -> None:
    sim.stats_round()
    before = dict(sim.cluster.rrd)
    api.data("PUT", "/nodes/pve1/qemu/100/config", memory="2048")
    api.run("POST", "/nodes/pve1/qemu/100/status/stop")
    sim.stats_round()
    after = sim.cluster.rrd
    assert after[100] is not before[100]
    assert all(after[v] is before[v] for v in before if v != 100)
    # what a client reads followed the change, and only after the round
    res = {r["vmid"]: r for r in api.data("GET", "/cluster/resources", type="vm")}
    assert res[100]["status"] == "stopped"
    api.run("POST", "/nodes/pve1/qemu/100/status/start")
    res = {r["vmid"]: r for r in api.data("GET", "/cluster/resources", type="vm")}
    assert res[100]["status"] == "stopped"
    sim.stats_round()
    res = {r["vmid"]: r for r in api.data("GET", "/cluster/resources", type="vm")}
    # the memory change was pending until the start
    assert res[100]["status"] == "running" and res[100]["maxmem"] == 2048 * MiB


def test_a_change_made_behind_the_simulators_back_is_sampled(api: Api, sim: SimHandle) -> None:
    """The sample is kept by what it is made of, not by change tracking: a config edited
    in place (as a test does through the cluster object) shows at the next round."""
    sim.stats_round()
    with sim.cluster.lock:
        sim.cluster.guests[100].config["cores"] = "7"
    sim.stats_round()
    res = {r["vmid"]: r for r in api.data("GET", "/cluster/resources", type="vm")}
    assert res[100]["maxcpu"] == 7 * int(sim.cluster.guests[100].config.get("sockets", 1))
