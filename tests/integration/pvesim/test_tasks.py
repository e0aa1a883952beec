"""Tasks: UPID shape, running -> stopped, exit status, logs, listings."""

from __future__ import annotations

import re
import time

from mycopod.pvesim import direct
from mycopod.pvesim.testing import SimHandle
from tests.support.pvesim import Api, assert_error

UPID_RE = re.compile(
    r"^UPID:(?P<node>[a-z0-9-]+):(?P<pid>[0-9A-F]{8}):(?P<pstart>[0-9A-F]{8}):"
    r"(?P<start>[0-9A-F]{8}):(?P<type>[a-z]+):(?P<id>[^:]*):(?P<user>[^:]+):$"
)


def test_upid_shape_and_status_lifecycle(api: Api, sim: SimHandle) -> None:
    sim.sim.tasks.task_seconds = 0.3
    upid = api.data("POST", "/nodes/pve1/qemu/100/status/shutdown")
    m = UPID_RE.match(upid)
    assert m, upid
    assert (m["node"], m["type"], m["id"], m["user"]) == ("pve1", "qmshutdown", "100", "root@pam")
    assert abs(int(m["start"], 16) - time.time()) < 5
    st = api.data("GET", f"/nodes/pve1/tasks/{upid}/status")
    assert st["status"] == "running"
    assert "exitstatus" not in st
    assert st["upid"] == upid and st["type"] == "qmshutdown" and st["id"] == "100"
    assert st["pid"] == int(m["pid"], 16) and st["starttime"] == int(m["start"], 16)
    final = api.wait(upid)
    assert final["status"] == "stopped"
    assert final["exitstatus"] == "OK"
    log = api.data("GET", f"/nodes/pve1/tasks/{upid}/log")
    assert log[0]["n"] == 1
    assert log[-1] == {"n": len(log), "t": "TASK OK"}


def test_failed_task_carries_the_error_text(api: Api) -> None:
    upid = api.data("POST", "/nodes/pve1/qemu/9000/status/start")
    st = api.wait(upid)
    assert st["exitstatus"] == "you can't start a vm if it's a template"
    log = api.data("GET", f"/nodes/pve1/tasks/{upid}/log")
    assert log[-1]["t"] == "TASK ERROR: you can't start a vm if it's a template"


def test_unknown_upid_is_400_no_such_task(api: Api) -> None:
    # pve-manager PVE/API2/Tasks.pm: raise_param_exc, so an ``errors`` object (this test
    # used to expect a bare 400 "no such task", and the same for the log)
    upid = "UPID:pve1:00001234:00005678:6A000000:qmstart:100:root@pam:"
    no_such = {"upid": "no such task"}
    r = api.get(f"/nodes/pve1/tasks/{upid}/status")
    assert_error(r, 400, "Parameter verification failed.", no_such)
    r = api.delete(f"/nodes/pve1/tasks/{upid}")
    assert_error(r, 400, "Parameter verification failed.", no_such)
    assert api.data("GET", f"/nodes/pve1/tasks/{upid}/log") == [
        {"n": 1, "t": "unable to open file - No such file or directory"}
    ]
    assert_error(
        api.get("/nodes/pve1/tasks/garbage/status"),
        400,
        "Parameter verification failed.",
        {"upid": "unable to parse worker upid"},
    )


def test_task_listings(api: Api) -> None:
    upid = api.data("POST", "/nodes/pve1/qemu/100/status/reboot")
    api.wait(upid)
    rows = api.data("GET", "/nodes/pve1/tasks", vmid=100)
    assert rows[0]["upid"] == upid and rows[0]["status"] == "OK" and rows[0]["endtime"]
    assert any(t["upid"] == upid for t in api.data("GET", "/cluster/tasks"))


def test_tasks_last_task_seconds(api: Api, sim: SimHandle) -> None:
    sim.sim.tasks.task_seconds = 0.2
    t0 = time.monotonic()
    api.run("POST", "/nodes/pve1/qemu/100/status/reboot")
    assert time.monotonic() - t0 >= 0.2


def test_config_post_is_a_task_and_put_is_synchronous(api: Api) -> None:
    upid = api.data("POST", "/nodes/pve1/qemu/100/config", description="async")
    assert UPID_RE.match(upid)["type"] == "qmconfig"  # type: ignore[index]
    assert api.wait(upid)["exitstatus"] == "OK"
    assert api.data("GET", "/nodes/pve1/qemu/100/config")["description"] == "async"
    assert api.data("PUT", "/nodes/pve1/qemu/100/config", description="sync") is None
    assert api.data("GET", "/nodes/pve1/qemu/100/config")["description"] == "sync"


def test_stopping_a_task_interrupts_it_and_rolls_back(api: Api, sim: SimHandle) -> None:
    sim.sim.tasks.task_seconds = 30
    upid = api.data("POST", "/nodes/pve1/qemu", vmid=170, name="stopped-early")
    assert direct.guest(sim.cluster, 170) is not None
    assert api.data("DELETE", f"/nodes/pve1/tasks/{upid}") is None
    st = api.wait(upid)
    assert st["exitstatus"] == "interrupted by signal"
    assert direct.guest(sim.cluster, 170) is None
