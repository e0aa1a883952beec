"""What identifies a managed guest beyond its vmid, and whether a guest still is the one
MycoPod manages. Pure.

A vmid is recycled when a guest is destroyed and another created; a name changes by
hand. So the inventory also records what Proxmox gives each guest once: a VM's SMBIOS
UUID (``smbios1``), ``vmgenid`` and ``meta`` ctime, a container's rootfs volume. Before
a destructive or power action the executor re-reads the guest and compares
(:func:`mismatch`): a different name or identity is a conflict, and nothing is done.
A value the record does not hold yet (a row written before identities were recorded)
is not compared, and is recorded from the next read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mycopod.proxmox.keys import parse_props


@dataclass(frozen=True)
class Identity:
    name: str
    smbios_uuid: str | None = None
    vmgenid: str | None = None
    ctime: int | None = None
    rootfs: str | None = None


def of_config(kind: str, raw: Mapping[str, Any]) -> Identity:
    """The identity a guest's config shows."""
    if kind == "ct":
        rootfs = parse_props(str(raw["rootfs"]), "volume").get("volume") \
            if raw.get("rootfs") else None
        return Identity(name=str(raw.get("hostname") or ""), rootfs=rootfs)
    uuid = parse_props(str(raw.get("smbios1") or "")).get("uuid")
    ctime = parse_props(str(raw.get("meta") or "")).get("ctime")
    return Identity(name=str(raw.get("name") or ""), smbios_uuid=uuid,
                    vmgenid=str(raw["vmgenid"]) if raw.get("vmgenid") else None,
                    ctime=int(ctime) if ctime and ctime.isdigit() else None)


def mismatch(recorded: Identity, seen: Identity) -> str | None:
    """Why ``seen`` is not the guest ``recorded`` (None: it is)."""
    if recorded.name and seen.name != recorded.name:
        return f"named {seen.name!r}, recorded as {recorded.name!r}"
    for field in ("smbios_uuid", "vmgenid", "ctime", "rootfs"):
        want, have = getattr(recorded, field), getattr(seen, field)
        if want is not None and have != want:
            return f"its {field} is {have}, recorded {want}: not the same guest"
    return None
