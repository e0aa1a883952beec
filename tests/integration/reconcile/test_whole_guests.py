"""Whole guests end to end: the engine against the simulator over HTTPS, with the real
database. Each guest is created, changed (live; pending until a restart, applied with
restart_on_change; destructive, after approval) and drift-corrected; a setting the
declaration does not state is left alone."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from proxmoxer import ProxmoxAPI

from mycopod.proxmox import translate
from mycopod.pvesim import direct
from mycopod.pvesim.testing import SimHandle
from mycopod.reconcile import reconciler
from mycopod.spec import ClusterSpec, parse_spec
from mycopod.store.actions import ActionStore
from mycopod.store.runs import Run, RunStore

from .conftest import RECORDED, reconcile

SECRET = "s3cret-Passw0rd"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk1 ops@laptop"


def spec(*guests: dict[str, Any]) -> ClusterSpec:
    return parse_spec({"guests": list(guests)})


def api(sim: SimHandle) -> ProxmoxAPI:
    return ProxmoxAPI(sim.host, port=sim.port, user=sim.user, password=sim.password,
                      verify_ssl=False)


def cfg(sim: SimHandle, name: str, *, current: bool = False) -> dict[str, Any]:
    return direct.config(sim.cluster, name, current=current)


def kinds(run: Run) -> list[str]:
    return [a["kind"] for a in run.plan["actions"]]  # type: ignore[index]


async def approve_and_run(ctx: reconciler.EngineContext, waiting: Run,
                          want: ClusterSpec) -> Run:
    runs = RunStore(ctx.pool)
    assert (await runs.approve(waiting.id, None)) is not None
    claimed = await runs.claim_next_pending(ctx.cluster)
    assert claimed is not None and claimed.id == waiting.id
    return await reconciler.execute_run(claimed, ctx=ctx, spec=want)


async def converged(ctx: reconciler.EngineContext, want: ClusterSpec) -> None:
    again = await reconcile(ctx, want)
    assert again.status == "Succeeded", again.error
    assert kinds(again) == [], again.plan


async def edit(sim: SimHandle, name: str, **params: Any) -> None:
    """An out-of-band edit in the Proxmox UI (through the API)."""
    guest = direct.find_guest(sim.cluster, name)
    assert guest is not None
    node = direct.node_of(sim.cluster, guest.vmid)
    kind = api(sim).nodes(node).qemu if guest.kind == "qemu" else api(sim).nodes(node).lxc
    await asyncio.to_thread(kind(guest.vmid).config.put, **params)


WIN11 = {"name": "win11", "cores": 4, "memory_mib": 8192, "bios": "ovmf", "machine": "q35",
         "ostype": "win11", "tpm": {"version": "v2.0"},
         "cdroms": [{"slot": "ide2", "iso": "local:iso/Win11.iso"}],
         "disks": [{"slot": "scsi0", "storage": "local-lvm", "size_gib": 64}],
         "networks": [{"slot": "net0", "model": "e1000e", "bridge": "vmbr0"}]}


async def test_windows_11_vm(make_ctx: Any, sim: SimHandle) -> None:
    ctx = await make_ctx(restart_on_change=True, auto_approve_destructive=False)
    want = spec(WIN11)
    first = await reconcile(ctx, want)
    assert first.status == "Succeeded", first.error
    config = cfg(sim, "win11")
    assert config["bios"] == "ovmf" and config["ostype"] == "win11"
    assert "q35" in config["machine"]
    efi = translate.parse_props(config["efidisk0"], "file")
    assert (efi["efitype"], efi["pre-enrolled-keys"]) == ("4m", "1")
    assert translate.parse_props(config["tpmstate0"], "file")["version"] == "v2.0"
    assert config["ide2"].startswith("local:iso/Win11.iso") and "media=cdrom" in config["ide2"]
    assert config["net0"].startswith("e1000e=")
    await converged(ctx, want)

    # live (protection) and pending + restart (cores), restart_on_change is on
    changed = spec({**WIN11, "cores": 6, "protection": True})
    run = await reconcile(ctx, changed)
    assert run.status == "Succeeded", run.error
    assert kinds(run) == ["configure", "stop", "start"]
    assert int(cfg(sim, "win11", current=True)["cores"]) == 6
    assert int(cfg(sim, "win11")["protection"]) == 1
    assert direct.status(sim.cluster, "win11") == "running"

    # destructive: a new TPM state volume waits for approval
    tpm12 = spec({**WIN11, "cores": 6, "protection": True, "tpm": {"version": "v1.2"}})
    waiting = await reconcile(ctx, tpm12)
    assert waiting.status == "AwaitingApproval"
    assert "v2.0" in cfg(sim, "win11")["tpmstate0"]
    done = await approve_and_run(ctx, waiting, tpm12)
    assert done.status == "Succeeded", done.error
    assert translate.parse_props(cfg(sim, "win11")["tpmstate0"], "file")["version"] == "v1.2"

    # drift: a stated setting is corrected, an unstated one left alone
    await edit(sim, "win11", cores=2, vga="qxl")
    fixed = await reconcile(ctx, tpm12)
    assert fixed.status == "Succeeded", fixed.error
    assert int(cfg(sim, "win11", current=True)["cores"]) == 6
    assert cfg(sim, "win11")["vga"] == "qxl"


async def test_cloud_init_vm_from_template(make_ctx: Any, sim: SimHandle, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "ops-password"
    secret.write_text(SECRET + "\n")
    os.chmod(secret, 0o600)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    ctx = await make_ctx(restart_on_change=True)
    guest = {"name": "ci-vm", "source": {"clone": "ubuntu-24.04"}, "cores": 2,
             "ci_user": "ops", "ci_password": "ops-password", "ssh_keys": [KEY],
             "networks": [{"slot": "net0", "ip": "10.0.0.5/24", "gateway": "10.0.0.1"}],
             "nameservers": ["10.0.0.53"], "searchdomain": "lab.example"}
    want = spec(guest)
    first = await reconcile(ctx, want)
    assert first.status == "Succeeded", first.error
    config = cfg(sim, "ci-vm")
    assert config["ciuser"] == "ops" and config.get("cipassword")
    assert translate.decode_sshkeys(config["sshkeys"]) == (KEY,)
    assert translate.parse_ipconfig(config["ipconfig0"]) == ("10.0.0.5/24", "10.0.0.1")
    assert (config["nameserver"], config["searchdomain"]) == ("10.0.0.53", "lab.example")
    assert int(config["memory"]) == 2048  # unstated: the template's, not a default
    # the password went to Proxmox, and nowhere else
    assert any(p.get("cipassword") == SECRET for _, _, p in RECORDED)
    rows = await ActionStore(ctx.pool).list_for_run(first.id)
    stored = json.dumps([first.plan, first.summary, [(r.params, r.message) for r in rows]],
                        default=str)
    assert SECRET not in stored
    await converged(ctx, want)

    # cloud-init is written at once and the guest restarted to see it
    changed = spec({**guest, "nameservers": ["10.0.0.54"]})
    run = await reconcile(ctx, changed)
    assert run.status == "Succeeded", run.error
    assert kinds(run) == ["configure", "stop", "start"]
    assert cfg(sim, "ci-vm", current=True)["nameserver"] == "10.0.0.54"


MULTI = {"name": "multi", "cores": 2,
         "disks": [{"slot": "scsi0", "size_gib": 32},
                   {"slot": "scsi1", "storage": "tank", "size_gib": 100, "discard": True,
                    "ssd": True},
                   {"slot": "virtio0", "storage": "local-lvm", "size_gib": 20}],
         "networks": [{"slot": "net0", "bridge": "vmbr0"},
                      {"slot": "net1", "bridge": "vmbr0", "vlan": 20, "model": "virtio"}]}


async def test_vm_with_several_disks_and_nics(make_ctx: Any, sim: SimHandle) -> None:
    ctx = await make_ctx()
    want = spec(MULTI)
    assert (await reconcile(ctx, want)).status == "Succeeded"
    config = cfg(sim, "multi")
    scsi1 = translate.parse_props(config["scsi1"], "file")
    assert scsi1["file"].startswith("tank:") and (scsi1["discard"], scsi1["ssd"]) == ("on", "1")
    assert "virtio0" in config and "tag=20" in config["net1"]
    # the same disks in another order: nothing moves
    await converged(ctx, spec({**MULTI, "disks": list(reversed(MULTI["disks"]))}))

    # live: a NIC's VLAN changes at once on the running VM
    vlan = spec({**MULTI, "networks": [MULTI["networks"][0],  # type: ignore[index]
                                       {**MULTI["networks"][1], "vlan": 30}]})  # type: ignore[index]
    run = await reconcile(ctx, vlan)
    assert run.status == "Succeeded" and kinds(run) == ["configure"]
    assert run.plan["pending_restart"] == []  # type: ignore[index]
    assert "tag=30" in cfg(sim, "multi", current=True)["net1"]

    # destructive: removing a declared disk and a NIC waits for approval
    fewer = spec({**MULTI, "disks": MULTI["disks"][:1] + MULTI["disks"][2:],  # type: ignore[index]
                  "networks": MULTI["networks"][:1]})  # type: ignore[index]
    waiting = await reconcile(ctx, fewer)
    assert waiting.status == "AwaitingApproval" and kinds(waiting) == ["remove_device"]
    assert "scsi1" in cfg(sim, "multi")
    done = await approve_and_run(ctx, waiting, fewer)
    assert done.status == "Succeeded", done.error
    after = cfg(sim, "multi")
    assert "scsi1" not in after and "net1" not in after
    assert any(str(v).startswith("tank:") for k, v in after.items() if k.startswith("unused"))


CT = {"name": "files", "kind": "ct", "unprivileged": True, "features": ["nesting", "keyctl"],
      "swap_mib": 512, "source": {"ostemplate":
                                  "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"},
      "disks": [{"slot": "rootfs", "size_gib": 8},
                {"slot": "mp0", "storage": "tank", "size_gib": 200, "path": "/data"},
                {"slot": "mp1", "host_path": "/srv/media", "path": "/media", "ro": True}]}


async def test_unprivileged_container_with_mount_points(make_ctx: Any,
                                                        sim: SimHandle) -> None:
    ctx = await make_ctx()
    want = spec(CT)
    first = await reconcile(ctx, want)
    assert first.status == "Succeeded", first.error
    config = cfg(sim, "files")
    assert int(config["unprivileged"]) == 1
    assert translate.parse_props(config["features"]) == {"keyctl": "1", "nesting": "1"}
    mp0 = translate.parse_props(config["mp0"], "volume")
    assert mp0["volume"].startswith("tank:") and mp0["mp"] == "/data"
    assert config["mp1"].startswith("/srv/media,") and "mp=/media" in config["mp1"]
    await converged(ctx, want)

    # a new mount point hot-plugs; nameserver waits for the restart
    more = spec({**CT, "nameservers": ["1.1.1.1"],
                 "disks": [*CT["disks"], {"slot": "mp2", "size_gib": 10}]})  # type: ignore[list-item]
    run = await reconcile(ctx, more)
    assert run.status == "Succeeded", run.error
    assert kinds(run) == ["configure"]
    assert [p["changes"] for p in run.plan["pending_restart"]] == [  # type: ignore[index]
        ["nameserver none → 1.1.1.1"]]
    # real PVE hot-plugs it into the running container (the simulator may still park it
    # as pending: the effective config is what both agree on)
    assert "mp=/mnt/mp2" in cfg(sim, "files")["mp2"]

    # drift: the stated features are restored, an unstated cpulimit is kept
    await edit(sim, "files", features="nesting=1", cpulimit=2)
    fixed = await reconcile(ctx, more)
    assert fixed.status == "Succeeded", fixed.error
    assert translate.parse_props(cfg(sim, "files")["features"]) == {"keyctl": "1",
                                                                     "nesting": "1"}
    assert float(cfg(sim, "files")["cpulimit"]) == 2


SOCKETS = {"name": "db", "sockets": 2, "cores": 4, "memory_mib": 16384, "balloon_mib": 8192,
           "disks": [{"slot": "scsi0", "size_gib": 50, "iothread": True}]}


async def test_two_sockets_ballooning_iothread(make_ctx: Any, sim: SimHandle) -> None:
    ctx = await make_ctx()
    want = spec(SOCKETS)
    assert (await reconcile(ctx, want)).status == "Succeeded"
    config = cfg(sim, "db")
    assert (int(config["sockets"]), int(config["cores"])) == (2, 4)
    assert int(config["balloon"]) == 8192
    assert translate.parse_props(config["scsi0"], "file")["iothread"] == "1"
    await converged(ctx, want)

    # sockets never hot-plug: reported pending (restart_on_change is off)
    run = await reconcile(ctx, spec({**SOCKETS, "sockets": 1}))
    assert run.status == "Succeeded", run.error
    assert run.plan["pending_restart"][0]["changes"] == ["sockets 2 → 1"]  # type: ignore[index]
    assert int(cfg(sim, "db", current=True)["sockets"]) == 2

    # drift: the balloon target (stated) is corrected live; numa (unstated) is kept
    await edit(sim, "db", balloon=4096, numa=1)
    fixed = await reconcile(ctx, spec(SOCKETS))
    assert fixed.status == "Succeeded", fixed.error
    assert int(cfg(sim, "db")["balloon"]) == 8192 and int(cfg(sim, "db")["numa"]) == 1
