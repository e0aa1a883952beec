"""Injected faults: request faults, task failures, latency, seeds, and /_sim/faults."""

from __future__ import annotations

import time

import requests

from mycopod.pvesim import direct
from mycopod.pvesim.testing import SimHandle, running_simulator
from tests.support.pvesim import Api, insecure


def _outcomes(api: Api, n: int) -> list[str]:
    out = []
    for _ in range(n):
        try:
            r = api.get("/version")
            out.append(f"{r.status_code} {r.reason}")
        except requests.ConnectionError:
            out.append("dropped")
        except requests.Timeout:
            out.append("timeout")
    return out


def test_request_faults_look_like_a_loaded_proxmox(sim: SimHandle, api: Api) -> None:
    sim.set_faults(fault_rate=1.0, slow_seconds=0.01)
    outcomes = set(_outcomes(api, 40))
    assert {
        "500 got timeout",
        "503 Service Unavailable",
        "596 Connection timed out",
        "dropped",
        "200 OK",
    } <= outcomes
    sim.set_faults(fault_rate=0)
    assert set(_outcomes(api, 10)) == {"200 OK"}


def test_slow_answers_outlast_the_client_timeout(sim: SimHandle, api: Api) -> None:
    sim.set_faults(fault_rate=1.0, slow_seconds=0.3)
    slow = 0
    for _ in range(25):
        try:
            api.session.get(f"{sim.url}/api2/json/version", timeout=0.1, verify=False)
        except requests.Timeout:
            slow += 1
        except requests.ConnectionError:
            pass
    sim.set_faults(fault_rate=0)
    assert slow > 0


def test_seed_repeats_the_sequence() -> None:
    def run() -> list[str]:
        with running_simulator(fault_rate=0.5, seed=42, task_seconds=0.01) as sim:
            sim.set_faults(slow_seconds=0.01)
            sim.set_faults(fault_rate=0)
            api = Api(sim)
            sim.set_faults(fault_rate=0.5)
            return _outcomes(api, 30)

    first = run()
    assert first == run()
    assert len(set(first)) > 1


def test_task_fail_rate(sim: SimHandle, api: Api) -> None:
    sim.set_faults(task_fail_rate=1.0)
    st = api.run("POST", "/nodes/pve1/qemu", vmid=150, name="x")
    assert st["exitstatus"] == "can't lock file '/var/lock/qemu-server/lock-150.conf' - got timeout"
    assert direct.guest(sim.cluster, 150) is None
    sim.set_faults(task_fail_rate=0)
    assert api.run("POST", "/nodes/pve1/qemu", vmid=150, name="x")["exitstatus"] == "OK"


def test_latency(sim: SimHandle, api: Api) -> None:
    sim.set_faults(latency_ms=100)
    t0 = time.monotonic()
    api.get("/version")
    assert time.monotonic() - t0 >= 0.1


def test_faults_endpoint_switches_faults_at_run_time(sim: SimHandle, api: Api) -> None:
    settings = sim.post_faults(fault_rate=1, slow_seconds=0.01)
    assert settings["fault_rate"] == 1.0
    assert set(_outcomes(api, 20)) != {"200 OK"}
    r = insecure("POST", f"{sim.url}/_sim/faults", json={"fault_rate": 0})
    assert r.json()["fault_rate"] == 0.0
    assert set(_outcomes(api, 5)) == {"200 OK"}
    r = insecure("POST", f"{sim.url}/_sim/faults", json={"bogus": 1})
    assert r.status_code == 400


def test_a_failing_guest_answers_500_to_every_request_and_the_rest_answer(
        sim: SimHandle, api: Api) -> None:
    api.run("POST", "/nodes/pve1/qemu", vmid=150, name="x")
    api.run("POST", "/nodes/pve1/qemu", vmid=151, name="y")
    sim.fail_guests(150)
    r = api.get("/nodes/pve1/qemu/150/config")
    assert (r.status_code, r.reason) == (500, "guest 150: got timeout")
    assert api.get("/nodes/pve1/qemu/150/status/current").status_code == 500
    assert api.put("/nodes/pve1/qemu/150/config", cores=2).status_code == 500
    assert direct.config(sim.cluster, 150).get("cores") is None  # the write took no effect
    assert api.data("GET", "/nodes/pve1/qemu/151/config")["name"] == "y"
    rows = api.data("GET", "/cluster/resources", type="vm")
    assert {r["vmid"] for r in rows} >= {150, 151}  # the listing still shows it
    # the same through /_sim/faults, and over: every guest answers again
    r = insecure("POST", f"{sim.url}/_sim/faults", json={"failing_vmids": [151]})
    assert r.json()["failing_vmids"] == [151]
    assert api.get("/nodes/pve1/qemu/151/config").status_code == 500
    assert api.data("GET", "/nodes/pve1/qemu/150/config")["name"] == "x"
    sim.fail_guests()
    assert api.get("/nodes/pve1/qemu/151/config").status_code == 200
