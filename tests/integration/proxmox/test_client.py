"""The Proxmox client against the simulator: auth, error classes, retries, task waits."""

from __future__ import annotations

from typing import Any

import pytest

from mycopod import telemetry
from mycopod.config import load_settings
from mycopod.proxmox.client import ProxmoxClient, path_template
from mycopod.proxmox.errors import (
    AuthError,
    NotFoundError,
    TaskFailed,
    TransientError,
    UnreachableError,
)
from mycopod.pvesim.testing import SimHandle, running_simulator


def client_for(sim: SimHandle, *, token: bool = False, password: str | None = None,
               **options: Any) -> ProxmoxClient:
    proxmox: dict[str, Any] = {"url": sim.url, "verify_tls": False, "timeout": 5}
    if token:
        proxmox.update(token_id=sim.token_id, token_secret=sim.token_secret)
    else:
        proxmox.update(user=sim.user, password=password or sim.password)
    settings = load_settings(environ={}, overrides={"proxmox": proxmox})
    options.setdefault("retry_initial", 0.01)
    options.setdefault("retry_max", 0.05)
    return ProxmoxClient.from_settings(settings.proxmox, task_poll=0.01, **options)


@pytest.mark.parametrize(("token", "fast"), [(False, True), (True, True), (False, False),
                                             (True, False)])
async def test_auth_and_both_read_paths(sim: SimHandle, token: bool, fast: bool) -> None:
    client = client_for(sim, token=token, fast_reads=fast)
    try:
        resources = await client.get("/cluster/resources")
        assert {r["type"] for r in resources} >= {"node", "storage", "qemu"}
        config = await client.get("/nodes/pve1/qemu/100/config", current=1)
        assert config["name"] == "legacy-app" and config["digest"]
    finally:
        await client.aclose()


async def test_bad_password_is_one_clear_error(sim: SimHandle) -> None:
    client = client_for(sim, password="wrong-password")
    with pytest.raises(AuthError, match="root@pam"):
        await client.get("/version")
    await client.aclose()


@pytest.mark.parametrize("fast", [True, False])
async def test_not_found(sim: SimHandle, fast: bool) -> None:
    client = client_for(sim, fast_reads=fast)
    with pytest.raises(NotFoundError, match="does not exist"):
        await client.get("/nodes/pve1/qemu/4242/config")
    await client.aclose()


async def test_transient_faults_are_retried(sim: SimHandle) -> None:
    sim.set_faults(fault_rate=0.4, slow_seconds=0.01)
    client = client_for(sim, retries=10)
    try:
        for _ in range(15):
            assert await client.get("/version")
        assert client.request_count > 15  # some were retried
    finally:
        sim.set_faults(fault_rate=0.0)
        await client.aclose()
    sim.set_faults(fault_rate=1.0)
    client = client_for(sim, retries=2)
    with pytest.raises(TransientError):
        await client.get("/cluster/resources")
    sim.set_faults(fault_rate=0.0)
    await client.aclose()


async def test_task_waits(sim: SimHandle) -> None:
    client = client_for(sim)
    try:
        assert await client.wait_task(None) is None
        assert await client.wait_task("not a upid") is None
        upid = await client.post("/nodes/pve1/qemu/100/status/stop")
        assert await client.wait_task(upid) == "OK"
        sim.set_faults(task_fail_rate=1.0)
        upid = await client.post("/nodes/pve1/qemu/100/status/start")
        with pytest.raises(TaskFailed) as failed:
            await client.wait_task(upid)
        assert failed.value.exitstatus and failed.value.exitstatus != "OK"
        assert failed.value.log_tail
    finally:
        sim.set_faults(task_fail_rate=0.0)
        await client.aclose()


async def test_metrics_use_path_templates(sim: SimHandle) -> None:
    client = client_for(sim)
    before = telemetry.REGISTRY.get_sample_value(
        "mycopod_proxmox_requests_total",
        {"method": "GET", "path_template": "/nodes/{node}/qemu/{vmid}/config", "code": "200"},
    ) or 0
    await client.get("/nodes/pve1/qemu/100/config")
    await client.aclose()
    after = telemetry.REGISTRY.get_sample_value(
        "mycopod_proxmox_requests_total",
        {"method": "GET", "path_template": "/nodes/{node}/qemu/{vmid}/config", "code": "200"},
    )
    assert after == before + 1


@pytest.mark.parametrize(("path", "template"), [
    ("/nodes/pve1/qemu/101/config", "/nodes/{node}/qemu/{vmid}/config"),
    ("/nodes/pve2/lxc/9000/status/start", "/nodes/{node}/lxc/{vmid}/status/start"),
    ("/nodes/pve1/tasks/UPID:pve1:0001:0002:0003:qmstart:101:root@pam:/status",
     "/nodes/{node}/tasks/{upid}/status"),
    ("/nodes/pve1/storage/local/content", "/nodes/{node}/storage/{storage}/content"),
    ("/cluster/resources", "/cluster/resources"),
    ("/nodes/pve3/qemu/104", "/nodes/{node}/qemu/{vmid}"),
    ("/nodes/pve3/lxc/104/pending", "/nodes/{node}/lxc/{vmid}/pending"),
    ("/nodes/pve1/qemu/101/status/current", "/nodes/{node}/qemu/{vmid}/status/current"),
    ("/nodes/pve1/qemu/101/snapshot/before-upgrade/config",
     "/nodes/{node}/qemu/{vmid}/snapshot/before-upgrade/config"),
    ("/nodes/pve1/qemu/vm1/config", "/nodes/{node}/qemu/vm1/config"),
])
def test_path_template(path: str, template: str) -> None:
    assert path_template(path) == template


@pytest.mark.parametrize("fast", [True, False])
async def test_every_call_reports_whether_proxmox_answered(fast: bool) -> None:
    """What /health shows as ``proxmox.reachable``: an answer, even a refusal, is
    reached; a refused connection is not, at once, not at the next drift check."""
    outcomes: list[tuple[bool, str | None]] = []
    with running_simulator(task_seconds=0.02) as sim:
        client = client_for(sim, fast_reads=fast, retries=2,
                            on_outcome=lambda reached, error: outcomes.append((reached, error)))
        await client.get("/version")
        with pytest.raises(NotFoundError):
            await client.get("/nodes/pve1/qemu/4242/config")
        upid = await client.post("/nodes/pve1/qemu", vmid=4300, name="reach", memory=512)
        assert outcomes == [(True, None)] * 3
    # The simulator is gone: every call, the task wait and writes too, is refused.
    try:
        with pytest.raises(UnreachableError):
            await client.wait_task(upid)
        with pytest.raises(UnreachableError):
            await client.post("/nodes/pve1/qemu/4300/status/start")
    finally:
        await client.aclose()
    failed = outcomes[3:]
    assert failed and all(not reached for reached, _ in failed)
    assert all(error and ("Connect" in error or "refused" in error) for _, error in failed)
