"""Property strings (``virtio=BC:24:11:..,bridge=vmbr0``) as PVE writes them.

PVE re-prints every property string it stores: the default key's value first without
its key, then the required keys, then the rest, each group sorted. QEMU network
devices print ``MODEL=MAC`` first. Clients that compare what they sent with what they
read back must see exactly this form, so the simulator normalises the same way.
"""

from __future__ import annotations

import hashlib
import random
import re
from functools import lru_cache
from typing import Any

from mycopod.pvesim import schema

_TAG_SPLIT = re.compile(r"[;,\s]+")


@lru_cache(maxsize=64)
def key_format(kind: str, key: str) -> dict[str, Any] | None:
    """The property-string format of config key ``key`` (``scsi0``, ``net1``, ``rootfs``)."""
    path = "/nodes/{node}/qemu" if kind == "qemu" else "/nodes/{node}/lxc"
    method = schema.load().method(path, "POST")
    if method is None:
        return None
    found = method.prop_for(key)
    if found is None:
        return None
    fmt = found[1].get("format")
    if isinstance(fmt, dict):
        return fmt
    if fmt == "pve-qm-ipconfig":
        return schema._IPCONFIG_FORMAT
    return None


def parse(kind: str, key: str, value: str) -> dict[str, str]:
    fmt = key_format(kind, key)
    if fmt is None:
        return {}
    return schema.parse_property_string(fmt, value, key)


def render(kind: str, key: str, data: dict[str, str]) -> str:
    fmt = key_format(kind, key) or {}
    if kind == "qemu" and key.startswith("net") and "model" in data:
        head = data["model"] + (f"={data['macaddr']}" if data.get("macaddr") else "")
        rest = {k: v for k, v in data.items() if k not in ("model", "macaddr")}
        tail = _render(rest, fmt, skip_default=True)
        return head + ("," + tail if tail else "")
    return _render(data, fmt, skip_default=False)


def _render(data: dict[str, str], fmt: dict[str, Any], *, skip_default: bool) -> str:
    parts: list[str] = []
    done: set[str] = set()
    default_key = next((k for k, v in fmt.items() if v.get("default_key")), None)
    if default_key and default_key in data and not skip_default:
        parts.append(data[default_key])
        done.add(default_key)
    for k in sorted(data):
        if k not in done and k in fmt and not fmt[k].get("optional"):
            parts.append(f"{k}={data[k]}")
            done.add(k)
    for k in sorted(data):
        if k not in done:
            parts.append(f"{k}={data[k]}")
    return ",".join(parts)


def normalize_tags(value: str) -> str:
    """Lower-case, unique, sorted, ``;``-joined."""
    return ";".join(sorted({t.lower() for t in _TAG_SPLIT.split(value) if t}))


_CRYPT64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_HASHED = re.compile(r"^\$(?:[156]|2[ay])(\$.+){2}")


def hash_password(value: str, ostype: str | None, rng: random.Random) -> str:
    """``cipassword`` as qemu-server stores it (API2/Qemu.pm update_vm_api): hashed with
    PVE::Tools::encrypt_pw (``$5$`` SHA-256 crypt, 8-character salt) unless already a
    crypt hash or the guest runs Windows (cloudbase-init wants it in clear). The digest is
    a stand-in of the right shape, not a real SHA-crypt: nobody logs in to a simulated VM.
    """
    if _HASHED.match(value) or re.match(r"^(win\d+|w2k\d*|wxp|wvista)$", ostype or ""):
        return value
    salt = "".join(rng.choice(_CRYPT64) for _ in range(8))
    digest = hashlib.sha256(f"{salt}{value}".encode()).digest()
    num = int.from_bytes(digest, "big")
    body = "".join(_CRYPT64[(num >> (6 * i)) & 63] for i in range(43))
    return f"$5${salt}${body}"
