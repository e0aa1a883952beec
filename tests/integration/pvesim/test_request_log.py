"""``--request-log``: one JSON line per answered request, with the task's UPID."""

from __future__ import annotations

import warnings
from pathlib import Path

from mycopod.pvesim import requestlog
from mycopod.pvesim.testing import running_simulator
from tests.support.pvesim import TASK_SECONDS, Api


def test_every_answered_request_is_a_line_with_its_status_and_upid(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    with warnings.catch_warnings(), running_simulator(task_seconds=TASK_SECONDS,
                                                      request_log=log) as sim:
        warnings.simplefilter("ignore")
        api = Api(sim, auth="token")
        created = api.post("/nodes/pve1/qemu", vmid=990, name="web-1", memory=512)
        assert created.status_code == 200
        upid = created.json()["data"]
        assert api.get("/nodes/pve9/status").status_code == 500  # no such node
        assert api.get("/cluster/resources").status_code == 200
    entries = requestlog.read(log)
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/api2/json/nodes/pve1/qemu", 200),
        ("GET", "/api2/json/nodes/pve9/status", 500),
        ("GET", "/api2/json/cluster/resources", 200),
    ]
    assert entries[0]["upid"] == upid and upid.startswith("UPID:pve1:")
    assert "upid" not in entries[2]


def test_no_log_unless_asked(tmp_path: Path) -> None:
    with running_simulator(task_seconds=TASK_SECONDS) as sim:
        assert sim.sim.request_log is None
    assert list(tmp_path.iterdir()) == []
