"""The route table against the schema file: nothing served that Proxmox does not have."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import pytest

from mycopod.pvesim import api, schema

SHARED = Path(__file__).resolve().parents[4] / "shared" / "proxmox" / "pve-api-schema.json"
ISSUE_SURFACE = (
    [
        ("/version", "GET"),
        ("/access/ticket", "POST"),
        ("/cluster/status", "GET"),
        ("/cluster/resources", "GET"),
        ("/cluster/nextid", "GET"),
        ("/cluster/tasks", "GET"),
        ("/pools", "GET"),
        ("/pools", "POST"),
        ("/pools", "PUT"),
        ("/pools", "DELETE"),
        ("/nodes", "GET"),
        ("/nodes/{node}/status", "GET"),
        ("/nodes/{node}/storage", "GET"),
        ("/nodes/{node}/storage/{storage}/content", "GET"),
        ("/nodes/{node}/network", "GET"),
        ("/nodes/{node}/tasks", "GET"),
        ("/nodes/{node}/tasks/{upid}/status", "GET"),
        ("/nodes/{node}/tasks/{upid}/log", "GET"),
    ]
    + [
        (f"/nodes/{{node}}/{kind}{sub}", verb)
        for kind in ("qemu", "lxc")
        for sub, verb in (
            ("", "GET"),
            ("", "POST"),
            ("/{vmid}", "DELETE"),
            ("/{vmid}/config", "GET"),
            ("/{vmid}/config", "PUT"),
            ("/{vmid}/pending", "GET"),
            ("/{vmid}/status/current", "GET"),
            ("/{vmid}/status/start", "POST"),
            ("/{vmid}/status/stop", "POST"),
            ("/{vmid}/status/shutdown", "POST"),
            ("/{vmid}/status/reboot", "POST"),
            ("/{vmid}/clone", "POST"),
            ("/{vmid}/resize", "PUT"),
            ("/{vmid}/template", "POST"),
            ("/{vmid}/migrate", "POST"),
        )
    ]
    + [("/nodes/{node}/qemu/{vmid}/config", "POST")]
)


def test_every_served_route_and_method_is_in_the_schema() -> None:
    s = schema.load()
    not_in_schema = [key for key in api.ROUTES if s.method(*key) is None]
    assert not_in_schema == []


def test_the_issue_surface_is_served() -> None:
    assert [key for key in ISSUE_SURFACE if key not in api.ROUTES] == []


def test_accepted_parameters_are_exactly_the_schema_ones() -> None:
    """Validation is driven by the schema entry of each route, so what is accepted is
    what the schema lists (index parameters within their documented range)."""
    s = schema.load()
    with open(schema.schema_file(), encoding="utf-8") as fh:
        raw = {}
        stack = list(json.load(fh))
        while stack:
            node = stack.pop()
            raw[node["path"]] = node
            stack.extend(node.get("children") or [])
    for path, verb in api.ROUTES:
        method = s.method(path, verb)
        assert method is not None
        props = raw[path]["info"][verb].get("parameters", {}).get("properties", {})
        assert method.props == props, (path, verb)
        for name in props:
            if name.endswith("[n]"):
                prefix = name[:-3]
                top = method.indexed[prefix][1]
                assert method.prop_for(f"{prefix}0") is not None
                assert method.prop_for(f"{prefix}{top}") is not None
                assert method.prop_for(f"{prefix}{top + 1}") is None
            else:
                assert method.prop_for(name) == (name, props[name])
        assert method.prop_for("surely-not-a-parameter") is None


def test_sim_only_paths_are_outside_api2() -> None:
    from mycopod.pvesim.app import make_app
    from mycopod.pvesim.core import Sim, SimOptions

    app = make_app(Sim(SimOptions()))
    paths = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    assert paths == {"/_sim/faults", "/_sim/stats", "/api2/{tail}"}


@pytest.mark.skipif(not SHARED.exists(), reason="no ../shared checkout beside the repo")
def test_packaged_schema_is_the_shared_one_unchanged() -> None:
    assert filecmp.cmp(schema.PACKAGED_SCHEMA, SHARED, shallow=False)
