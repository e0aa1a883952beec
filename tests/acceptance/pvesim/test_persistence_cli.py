"""``--state`` persistence and the ``mycopod sim`` command line."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from mycopod.pvesim import direct
from mycopod.pvesim.testing import running_simulator
from tests.support.pvesim import Api, insecure

READY = re.compile(
    r"^pvesim ready at (?P<url>https?://127\.0\.0\.1:\d+) - user root@pam password mycopod - "
    r"API token root@pam!mycopod=mycopod-token$"
)


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "cluster.json"
    with running_simulator(state_file=state, task_seconds=0.01) as sim:
        api = Api(sim)
        api.run("POST", "/nodes/pve2/qemu", vmid=140, name="keeper", scsi0="tank:10", tags="x")
        api.data("POST", "/pools", poolid="kept")
    assert json.loads(state.read_text())["format"] == 1
    with running_simulator(state_file=str(state), task_seconds=0.01) as sim:
        conf = direct.config(sim.cluster, "keeper")
        assert conf["scsi0"] == "tank:140/vm-140-disk-0.qcow2,size=10G"
        assert direct.node_of(sim.cluster, 140) == "pve2"
        assert "kept" in sim.cluster.pools
        assert Api(sim).data("GET", "/cluster/nextid") == "101"


def _start_cli(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mycopod.cli", "sim", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().rstrip("\n")
    return proc, line


def test_cli_prints_one_ready_line_and_serves(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    proc, line = _start_cli(
        "--no-tls", "--nodes", "2", "--state", str(state), "--task-seconds", "0.01"
    )
    try:
        m = READY.match(line)
        assert m, line
        url = m["url"]
        assert url.startswith("http://")
        r = requests.post(
            f"{url}/api2/json/access/ticket",
            data={"username": "root@pam", "password": "mycopod"},
            timeout=5,
        )
        assert r.status_code == 200
        headers = {"Authorization": "PVEAPIToken=root@pam!mycopod=mycopod-token"}
        nodes = requests.get(f"{url}/api2/json/nodes", headers=headers, timeout=5).json()["data"]
        assert [n["node"] for n in nodes] == ["pve1", "pve2"]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert out == ""  # nothing after the ready line
    assert state.exists()


def test_cli_tls_and_custom_credentials() -> None:
    proc, line = _start_cli(
        "--user",
        "ops@pve",
        "--password",
        "s3cret",
        "--token-id",
        "ops@pve!ci",
        "--token-secret",
        "tok",
    )
    try:
        assert line.startswith("pvesim ready at https://127.0.0.1:")
        assert "user ops@pve password s3cret - API token ops@pve!ci=tok" in line
        url = line.split()[3]
        r = insecure(
            "POST",
            f"{url}/api2/json/access/ticket",
            data={"username": "ops@pve", "password": "s3cret"},
        )
        assert r.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)
    assert proc.returncode == 0


def test_cli_usage_errors() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "mycopod.cli", "sim", "--cert", "x.pem"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 2
    assert "--cert and --key go together" in r.stderr
    t0 = time.monotonic()
    r = subprocess.run(
        [sys.executable, "-m", "mycopod.cli", "sim", "--fault-rate", "2"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 2 and "between 0 and 1" in r.stderr
    assert time.monotonic() - t0 < 30


def test_stopping_mid_task_rolls_back_before_saving(tmp_path: Path) -> None:
    state = tmp_path / "cluster.json"
    with running_simulator(state_file=state, task_seconds=30) as sim:
        api = Api(sim)
        api.data("POST", "/nodes/pve1/qemu", vmid=150, name="half")
        api.data(
            "POST",
            "/nodes/pve1/qemu/100/migrate",
            target="pve2",
            online=1,
            **{"with-local-disks": 1},
        )
        assert direct.config(sim.cluster, 150)["lock"] == "create"
    saved = json.loads(state.read_text())
    guests = {g["vmid"]: g for g in saved["guests"]}
    assert 150 not in guests
    assert "lock" not in guests[100]["config"] and guests[100]["node"] == "pve1"
