"""Every request the adapter makes must exist in the Proxmox VE API schema.

The end-to-end tests record every request through the client's ``request_hook``; this
test also drives one scenario of its own that makes every kind of call (create, clone,
configure, resize, start, stop, migrate, delete, tag adoption, nextid, template listing,
task status and log), then checks each recorded request against
``pve-api-schema.json``: the path, the method, every parameter's name, type, enum,
limits, and the keys of property-string values such as ``net0``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from mycopod.proxmox import translate
from mycopod.pvesim.testing import SimHandle

from .conftest import RECORDED, reconcile
from .test_e2e import spec

ROOT = Path(__file__).resolve().parents[3]
CANDIDATES = (ROOT / "controller/mycopod/pvesim/data/pve-api-schema.json",
              ROOT.parent / "shared/proxmox/pve-api-schema.json")


def _walk(items: list[dict[str, Any]], nodes: dict[str, Any]) -> None:
    for item in items:
        nodes[item["path"]] = item
        _walk(item.get("children", []), nodes)


def _schema() -> dict[str, Any]:
    for path in CANDIDATES:
        if path.exists():
            nodes: dict[str, Any] = {}
            _walk(json.loads(path.read_text()), nodes)
            return nodes
    pytest.skip("pve-api-schema.json not found")


SCHEMA: dict[str, Any] = {}


def schema() -> dict[str, Any]:
    if not SCHEMA:
        SCHEMA.update(_schema())
    return SCHEMA


def match_path(path: str) -> tuple[str, dict[str, str]] | None:
    parts = path.strip("/").split("/")
    for template in schema():
        tparts = template.strip("/").split("/")
        if len(tparts) != len(parts):
            continue
        found: dict[str, str] = {}
        for t, p in zip(tparts, parts, strict=True):
            if t.startswith("{") and t.endswith("}"):
                found[t[1:-1]] = p
            elif t != p:
                break
        else:
            return template, found
    return None


def _prop(props: dict[str, Any], name: str) -> dict[str, Any] | None:
    if name in props:
        return dict(props[name])
    base = re.sub(r"\d+$", "[n]", name)
    return dict(props[base]) if base in props else None


def check_value(name: str, value: Any, prop: dict[str, Any]) -> list[str]:
    problems = []
    kind = prop.get("type")
    if kind == "integer":
        if isinstance(value, bool) or not (isinstance(value, int) or
                                           (isinstance(value, str) and value.isdigit())):
            return [f"{name}={value!r} is not an integer"]
        number = int(value)
        if "minimum" in prop and number < float(prop["minimum"]):
            problems.append(f"{name}={number} below minimum {prop['minimum']}")
        if "maximum" in prop and number > float(prop["maximum"]):
            problems.append(f"{name}={number} above maximum {prop['maximum']}")
    elif kind == "boolean":
        if value not in (0, 1, True, False, "0", "1"):
            problems.append(f"{name}={value!r} is not a boolean")
    elif kind == "number":
        try:
            float(value)
        except (TypeError, ValueError):
            problems.append(f"{name}={value!r} is not a number")
    elif kind == "string":
        if not isinstance(value, str):
            problems.append(f"{name}={value!r} is not a string")
            return problems
        if "enum" in prop and value not in prop["enum"]:
            problems.append(f"{name}={value!r} not in {prop['enum']}")
        if "maxLength" in prop and len(value) > int(prop["maxLength"]):
            problems.append(f"{name} longer than {prop['maxLength']}")
        pattern = prop.get("pattern")
        if pattern and "(?^" not in pattern and not re.fullmatch(pattern, value):
            problems.append(f"{name}={value!r} does not match {pattern}")
        fmt = prop.get("format")
        if isinstance(fmt, dict):
            problems += check_propstring(name, value, fmt)
        if fmt == "urlencoded" and not re.fullmatch(r"[-%a-zA-Z0-9_.!~*'()]*", value):
            problems.append(f"{name} is not URL-encoded")
        if fmt == "pve-tag-list" and not all(
                re.fullmatch(r"[a-z0-9_][a-z0-9_\-+.]*", t) for t in value.split(";")):
            problems.append(f"{name}={value!r} is not a tag list")
    return problems


def check_propstring(name: str, value: str, fmt: dict[str, Any]) -> list[str]:
    default = next((k for k, v in fmt.items() if v.get("default_key")), None)
    problems = []
    for key, sub in translate.parse_props(value, default).items():
        if key not in fmt:
            problems.append(f"{name}: unknown key {key!r} in {value!r}")
            continue
        spec_ = fmt[key]
        if "alias" in spec_ or "keyAlias" in spec_:
            continue
        if spec_.get("type") in ("integer", "boolean", "number") or "enum" in spec_:
            problems += check_value(f"{name}.{key}", sub, spec_)
    for key, spec_ in fmt.items():
        if not spec_.get("optional") and "alias" not in spec_ and "keyAlias" not in spec_ \
                and key != default and key not in translate.parse_props(value, default):
            problems.append(f"{name}: required key {key!r} missing in {value!r}")
    return problems


def check_request(method: str, path: str, params: dict[str, Any]) -> list[str]:
    matched = match_path(path)
    if matched is None:
        return [f"{method} {path}: no such path in the API"]
    template, path_params = matched
    info = schema()[template].get("info", {})
    if method not in info:
        return [f"{method} {template}: method not in the API ({sorted(info)})"]
    props = info[method].get("parameters", {}).get("properties", {})
    problems = []
    given = {**path_params, **params}
    for name, value in given.items():
        prop = _prop(props, name)
        if prop is None:
            problems.append(f"{method} {template}: unknown parameter {name!r}")
            continue
        problems += [f"{method} {template}: {p}" for p in check_value(name, value, prop)]
    for name, prop in props.items():
        if not prop.get("optional") and "[n]" not in name and name not in given:
            problems.append(f"{method} {template}: required parameter {name!r} missing")
    return problems


def test_checker_catches_mistakes() -> None:
    assert check_request("GET", "/cluster/resources", {}) == []
    assert check_request("GET", "/cluster/nope", {})
    assert check_request("PATCH", "/cluster/resources", {})
    assert check_request("POST", "/nodes/pve1/qemu", {"vmid": 101, "cores": "x"})
    assert check_request("POST", "/nodes/pve1/qemu", {"vmid": 101, "bogus": 1})
    assert check_request("POST", "/nodes/pve1/qemu", {"vmid": 101, "net0": "virtio,brdge=x"})
    assert check_request("POST", "/nodes/pve1/qemu", {"cores": 1})  # vmid missing
    assert check_request("POST", "/nodes/pve1/qemu", {"vmid": 101, "onboot": 2})
    assert not check_request("POST", "/nodes/pve1/qemu",
                             {"vmid": 101, "net0": "virtio,bridge=vmbr0,tag=3,firewall=1"})


async def test_every_request_matches_the_schema(make_ctx: Any, sim: SimHandle) -> None:
    base = {"name": "a", "cores": 1, "memory_mib": 512}
    ctx = await make_ctx(prune=True, auto_approve_destructive=True, restart_on_change=True,
                         adopt_existing=True, max_deletions_per_run=5)
    steps = [
        spec(base, {"name": "c", "kind": "ct"},
             {"name": "k", "source": {"clone": "ubuntu-24.04"}, "tags": ["web"],
              "ssh_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk1 admin@laptop"]},
             {"name": "i", "state": "stopped", "source": {"iso": "local:iso/debian-12.iso"},
              "networks": [{"ip": "10.0.0.5/24", "gateway": "10.0.0.1", "vlan": 5}]}),
        spec({**base, "cores": 2, "disks": [{"slot": "scsi0", "size_gib": 40},
                                            {"slot": "scsi1", "storage": "tank",
                                             "size_gib": 2}],
              "node": "pve3", "description": "x", "onboot": True},
             {"name": "c", "kind": "ct", "memory_mib": 1024, "state": "stopped",
              "networks": [{"bridge": "vmbr1", "firewall": True}]},
             {"name": "legacy-app", "cores": 2, "memory_mib": 4096,
              "disks": [{"slot": "scsi0", "size_gib": 32}], "networks": [{"ip": None}],
              "onboot": True}),
        spec(),
    ]
    for step in steps:
        run = await reconcile(ctx, step)
        if run.status == "AwaitingApproval":
            from mycopod.store.runs import RunStore

            await RunStore(ctx.pool).approve(run.id, None)
            claimed = await RunStore(ctx.pool).claim_next_pending(ctx.cluster)
            from mycopod.reconcile import reconciler

            run = await reconciler.execute_run(claimed, ctx=ctx, spec=step)  # type: ignore[arg-type]
        assert run.status == "Succeeded", run.error
    # task failures make the client read the task log too
    sim.set_faults(task_fail_rate=1.0)
    await reconcile(ctx, spec({"name": "z"}))
    sim.set_faults(task_fail_rate=0.0)
    seen = {(m, (match_path(p) or ("?",))[0]) for m, p, _ in RECORDED}
    for expected in [("POST", "/nodes/{node}/qemu"), ("POST", "/nodes/{node}/lxc"),
                     ("POST", "/nodes/{node}/qemu/{vmid}/clone"),
                     ("POST", "/nodes/{node}/qemu/{vmid}/config"),
                     ("PUT", "/nodes/{node}/lxc/{vmid}/config"),
                     ("PUT", "/nodes/{node}/qemu/{vmid}/resize"),
                     ("POST", "/nodes/{node}/qemu/{vmid}/migrate"),
                     ("DELETE", "/nodes/{node}/qemu/{vmid}"),
                     ("DELETE", "/nodes/{node}/lxc/{vmid}"),
                     ("GET", "/cluster/nextid"),
                     ("GET", "/nodes/{node}/tasks/{upid}/log"),
                     ("GET", "/nodes/{node}/storage/{storage}/content")]:
        assert expected in seen, expected
    problems = sorted({p for m, path, params in RECORDED for p in check_request(m, path, params)})
    assert problems == [], "\n".join(problems)
