"""Whole guests from the English the owner writes: the issue's phrasings, compiled by the
built-in grammar and reconciled against the simulator over HTTPS. What Proxmox ends up
with is checked key by key, then an out-of-band edit of a stated setting is corrected and
one of an unstated setting is left alone."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from mycopod.declarations import grammar
from mycopod.proxmox import translate
from mycopod.pvesim.testing import SimHandle

from .conftest import reconcile
from .test_whole_guests import cfg, converged, edit

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk1 ops@laptop"

FLEET = f"""# Fleet

win11 is a Windows 11 VM with UEFI and a TPM, the q35 machine, 4 cores, 16 GB of RAM
with ballooning down to 8 GB and a 64 GB disk on local-lvm. Attach the ISO Win11.iso as
a CD-ROM. Enable the QEMU guest agent. Protect it from deletion. Start it on boot with
startup order 2.

app-1 is a VM with 2 sockets of 4 cores of type host, 4 GB of RAM, a 32 GB disk on
local-lvm with an iothread and a second 500 GB disk on tank with discard and SSD
emulation. It has two network cards: net0 on vmbr0 and net1 on vmbr1 with VLAN 20. Its
cloud-init user is ops with the SSH key "{KEY}". Its cloud-init password is the
credential ops-password. It has DNS server 1.1.1.1 and search domain example.com.

media is an unprivileged container with nesting, 512 MB of swap and a 200 GB mount point
on tank at /data.
"""


def props(value: str, default: str = "file") -> dict[str, str]:
    return translate.parse_props(value, default)


async def test_the_issues_english_builds_whole_guests(make_ctx: Any, sim: SimHandle,
                                                      tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "ops-password"
    secret.write_text("s3cret-Passw0rd\n")
    os.chmod(secret, 0o600)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    want = grammar.compile_text(FLEET, filename="fleet.md")
    ctx = await make_ctx(restart_on_change=True)
    run = await reconcile(ctx, want)
    assert run.status == "Succeeded", run.error

    win = cfg(sim, "win11")
    assert (win["bios"], win["ostype"], win["machine"]) == ("ovmf", "win11", "q35")
    assert props(win["efidisk0"])["efitype"] == "4m"
    assert props(win["tpmstate0"])["version"] == "v2.0"
    assert props(win["ide2"])["file"] == "local:iso/Win11.iso"
    assert (int(win["memory"]), int(win["balloon"])) == (16384, 8192)
    assert props(win["agent"], "enabled")["enabled"] == "1"
    assert (win["startup"], int(win["protection"]), int(win["onboot"])) == ("order=2", 1, 1)

    app = cfg(sim, "app-1")
    assert (int(app["sockets"]), int(app["cores"]), app["cpu"]) == (2, 4, "host")
    assert props(app["scsi0"])["iothread"] == "1"
    scsi1 = props(app["scsi1"])
    assert scsi1["file"].startswith("tank:") and (scsi1["discard"], scsi1["ssd"]) == ("on", "1")
    net1 = props(app["net1"], "model")
    assert (net1["bridge"], net1["tag"]) == ("vmbr1", "20")
    assert (app["ciuser"], app["nameserver"], app["searchdomain"]) == (
        "ops", "1.1.1.1", "example.com")
    assert app["cipassword"] == "**********"  # set, and masked as Proxmox masks it
    assert translate.decode_sshkeys(app["sshkeys"]) == (KEY,)

    media = cfg(sim, "media")
    assert (int(media["unprivileged"]), media["features"], int(media["swap"])) == (
        1, "nesting=1", 512)
    mp0 = props(media["mp0"], "volume")
    assert mp0["volume"].startswith("tank:") and (mp0["mp"], mp0["size"]) == ("/data", "200G")
    await converged(ctx, want)

    # drift: stated settings come back, unstated ones stay as the owner left them
    await edit(sim, "app-1", sockets=1, tablet=0)
    await edit(sim, "media", swap=1024, cpulimit=2)
    fixed = await reconcile(ctx, want)
    assert fixed.status == "Succeeded", fixed.error
    assert int(cfg(sim, "app-1", current=True)["sockets"]) == 2
    assert int(cfg(sim, "app-1")["tablet"]) == 0
    assert int(cfg(sim, "media")["swap"]) == 512
    assert float(cfg(sim, "media")["cpulimit"]) == 2
