"""Guests as clients read them: ``GET …/config``, ``…/pending`` and ``…/status/current``.

PVE keeps a guest's config as strings (``state.Guest.config``); its API answers with
them typed as the schema says (integers, booleans as ``0``/``1``, numbers), the pending
changes merged in unless ``current`` is asked for, and the file's ``digest`` beside them.
Reading is kept apart from ``guests``, which checks and writes configs, so that test
helpers (``direct``) can show a config exactly as a client would see it without pulling
in the write path. Read-only: nothing here changes the cluster.
"""

from __future__ import annotations

import re
from typing import Any

from mycopod.pvesim import schema
from mycopod.pvesim.core import Sim
from mycopod.pvesim.resources import guest_usage
from mycopod.pvesim.state import Guest, MiB, guest_cpus

__all__ = ["config_view", "guest_status", "pending_view"]


def _config_props(kind: str) -> dict[str, Any]:
    """The properties ``GET …/config`` returns, as the schema types them."""
    path = (
        "/nodes/{node}/qemu/{vmid}/config" if kind == "qemu" else "/nodes/{node}/lxc/{vmid}/config"
    )
    method = schema.load().method(path, "GET")
    return (method.returns.get("properties") or {}) if method else {}


def _typed(props: dict[str, Any], key: str, value: str) -> Any:
    prop = props.get(key)
    if prop is None:
        m = re.match(r"^([a-z]+)\d+$", key)
        prop = props.get(f"{m.group(1)}[n]") if m else None
    ptype = (prop or {}).get("type")
    try:
        if ptype in ("integer", "boolean"):
            return int(value)
        if ptype == "number":
            num = float(value)
            return int(num) if num.is_integer() else num
    except ValueError:
        return value
    return value


def config_view(g: Guest, *, current: bool = False) -> dict[str, Any]:
    conf = dict(g.config)
    if not current:
        conf.update(g.pending)
        for key in g.pending_delete:
            conf.pop(key, None)
    props = _config_props(g.kind)
    out = {k: _typed(props, k, v) for k, v in conf.items()}
    if out.get("cipassword"):  # qemu-server API2/Qemu.pm vm_config: never shown
        out["cipassword"] = "**********"
    out["digest"] = g.digest()
    return out


def pending_view(g: Guest) -> list[dict[str, Any]]:
    props = _config_props(g.kind)
    rows = []
    for key in sorted(set(g.config) | set(g.pending) | set(g.pending_delete)):
        row: dict[str, Any] = {"key": key}
        if key in g.config:
            row["value"] = _typed(props, key, g.config[key])
        if key in g.pending:
            row["pending"] = _typed(props, key, g.pending[key])
        if key in g.pending_delete:
            row["delete"] = 1
        if key == "cipassword":  # qemu-server API2/Qemu.pm vm_pending masks both
            if "value" in row:
                row["value"] = "**********"
            if "pending" in row:
                row["pending"] = "********** "
        rows.append(row)
    # pve-guest-common PVE/GuestHelpers.pm config_with_pending_array lists every key of
    # the loaded config, and load_config adds the file's ``digest`` to it
    rows.append({"key": "digest", "value": g.digest()})
    return rows


def guest_status(sim: Sim, g: Guest) -> dict[str, Any]:
    running = g.status == "running"
    out: dict[str, Any] = {
        "vmid": g.vmid,
        "name": g.name,
        "status": g.status,
        "cpus": guest_cpus(g),
        **guest_usage(g),
        "uptime": int(sim.cluster.clock() - g.started_at) if running and g.started_at else 0,
    }
    if g.config.get("template") == "1":
        out["template"] = 1
    if "tags" in g.config:
        out["tags"] = g.config["tags"]
    if "lock" in g.config:
        out["lock"] = g.config["lock"]
    if g.kind == "qemu":
        out["qmpstatus"] = g.status
        if running:
            out["pid"] = 10_000 + g.vmid
            out["running-machine"] = "pc-i440fx-9.2+pve1"
            out["running-qemu"] = "9.2.0"
    else:
        out["type"] = "lxc"
        out["maxswap"] = int(g.config.get("swap", "512")) * MiB
    return out
