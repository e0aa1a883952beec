"""The envelope and the error answers: status, reason phrase and body as PVE sends them."""

from __future__ import annotations

import pytest

from mycopod.pvesim import direct
from tests.support.pvesim import Api, assert_error

NOT_DEFINED = (
    "property is not defined in schema and the schema does not allow additional properties"
)


def test_success_is_wrapped_in_data(api: Api) -> None:
    r = api.get("/version")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == {
        "data": {
            "version": "9.1.3",
            "release": "9.1",
            "repoid": "4d1c9f6e2a8b7c3d",
            "console": "xtermjs",
        }
    }


def test_null_data_for_synchronous_writes(api: Api) -> None:
    r = api.put("/nodes/pve1/qemu/100/config", description="hello")
    assert r.status_code == 200
    assert r.json() == {"data": None}


def test_missing_guest_is_a_500_naming_the_config_file(api: Api) -> None:
    r = api.get("/nodes/pve1/qemu/123/config")
    assert_error(r, 500, "Configuration file 'nodes/pve1/qemu-server/123.conf' does not exist")
    assert "errors" not in r.json()
    r = api.get("/nodes/pve2/qemu/100/status/current")  # it lives on pve1
    assert_error(r, 500, "Configuration file 'nodes/pve2/qemu-server/100.conf' does not exist")
    r = api.get("/nodes/pve1/lxc/100/config")  # it is a VM
    assert_error(r, 500, "Configuration file 'nodes/pve1/lxc/100.conf' does not exist")


def test_unknown_http_method_is_501(api: Api) -> None:
    r = api.session.request("OPTIONS", f"{api.sim.url}/api2/json/version", verify=False, timeout=5)
    assert r.status_code == 501 and r.reason == "method 'OPTIONS' not available"


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/nodes/pve1/bogus", "Method 'GET /nodes/pve1/bogus' not implemented"),
        ("GET", "/no/such/thing", "Method 'GET /no/such/thing' not implemented"),
        ("DELETE", "/version", "Method 'DELETE /version' not implemented"),
        ("POST", "/cluster/resources", "Method 'POST /cluster/resources' not implemented"),
        # real PVE paths the simulator does not serve are 501 as well
        (
            "GET",
            "/nodes/pve1/qemu/100/rrddata",
            "Method 'GET /nodes/pve1/qemu/100/rrddata' not implemented",
        ),
    ],
)
def test_unknown_path_or_method_is_501(api: Api, method: str, path: str, expected: str) -> None:
    assert_error(api.call(method, path), 501, expected)


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"cores": "two"}, {"cores": "type check ('integer') failed - got 'two'"}),
        ({"cores": "0"}, {"cores": "value must have a minimum value of 1"}),
        ({"onboot": "yes"}, {"onboot": "type check ('boolean') failed - got 'yes'"}),
        (
            {"ostype": "beos"},
            {
                "ostype": "value 'beos' does not have a value in the enumeration "
                "'other, wxp, w2k, w2k3, w2k8, wvista, win7, win8, win10, "
                "win11, l24, l26, solaris'"
            },
        ),
        (
            {"name": "not_a_dns_name"},
            {"name": "invalid format - value does not look like a valid DNS name\n"},
        ),
        ({"description": "x" * 8193}, {"description": "value may only be 8192 characters long"}),
        ({"frobnicate": "1"}, {"frobnicate": NOT_DEFINED}),
        ({"scsi31": "local-lvm:1"}, {"scsi31": NOT_DEFINED}),
        (
            {"net0": "virtio,bridge=vmbr0,colour=red"},
            {"net0": "invalid format - invalid key in comma-separated list property: colour\n"},
        ),
        (
            {"net0": "virtio,tag=abc"},
            {
                "net0": "invalid format - format error\nnet0.tag: type check ('integer') failed - "
                "got 'abc'\n"
            },
        ),
        (
            {"sshkeys": "ssh-ed25519 AAAA"},
            {"sshkeys": "invalid format - invalid urlencoded string: ssh-ed25519 AAAA\n"},
        ),
        ({"tags": "ok;not/ok"}, {"tags": "invalid format - invalid tag 'not/ok'\n"}),
    ],
)
def test_parameter_verification_failed(
    api: Api, params: dict[str, str], errors: dict[str, str]
) -> None:
    r = api.put("/nodes/pve1/qemu/100/config", **params)
    assert_error(r, 400, "Parameter verification failed.", errors)


def test_missing_required_parameter(api: Api) -> None:
    r = api.post("/nodes/pve1/qemu/100/clone")
    assert_error(
        r,
        400,
        "Parameter verification failed.",
        {"newid": "property is missing and it is not optional"},
    )


def test_path_parameters_are_checked_too(api: Api) -> None:
    r = api.get("/nodes/pve1/qemu/99/config")
    assert_error(
        r,
        400,
        "Parameter verification failed.",
        {"vmid": "invalid format - value does not look like a valid VM ID\n"},
    )
    r = api.get("/nodes/pve1/qemu/abc/config")
    assert_error(
        r,
        400,
        "Parameter verification failed.",
        {"vmid": "type check ('integer') failed - got 'abc'"},
    )


def test_unknown_node(api: Api) -> None:
    r = api.get("/nodes/pve9/qemu")
    assert_error(
        r,
        500,
        "hostname lookup 'pve9' failed - failed to get address info for: "
        "pve9: Name or service not known",
    )


def test_json_bodies_are_accepted(api: Api) -> None:
    r = api.session.put(
        f"{api.sim.url}/api2/json/nodes/pve1/qemu/100/config",
        json={"onboot": False, "cores": 3},
        timeout=10,
        verify=False,
    )
    assert r.status_code == 200, r.text
    assert direct.config(api.sim.cluster, 100, current=False)["onboot"] == 0
