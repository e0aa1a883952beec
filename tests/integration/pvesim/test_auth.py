"""Tickets, CSRF tokens, API tokens and ticket expiry (with an injected clock)."""

from __future__ import annotations

import requests

from mycopod.pvesim.testing import SimHandle
from tests.support.pvesim import Api, Clock, assert_error, insecure


def _login(sim: SimHandle, **data: str) -> requests.Response:
    return insecure("POST", f"{sim.url}/api2/json/access/ticket", data=data)


def test_ticket_answers_ticket_csrf_username_cap(sim: SimHandle) -> None:
    r = _login(sim, username="root@pam", password="mycopod")
    assert r.status_code == 200
    data = r.json()["data"]
    assert data["username"] == "root@pam"
    assert data["ticket"].startswith("PVE:root@pam:")
    assert data["CSRFPreventionToken"]
    assert "VM.Allocate" in data["cap"]["vms"]


def test_realm_may_come_separately(sim: SimHandle) -> None:
    r = _login(sim, username="root", realm="pam", password="mycopod")
    assert r.json()["data"]["username"] == "root@pam"


def test_bad_credentials(sim: SimHandle) -> None:
    assert_error(_login(sim, username="root@pam", password="wrong"), 401, "authentication failure")
    assert_error(
        _login(sim, username="admin@pve", password="mycopod"), 401, "authentication failure"
    )


def test_a_valid_ticket_renews_itself(sim: SimHandle) -> None:
    ticket = _login(sim, username="root@pam", password="mycopod").json()["data"]["ticket"]
    r = _login(sim, username="root@pam", password=ticket)
    assert r.status_code == 200
    assert r.json()["data"]["ticket"].startswith("PVE:root@pam:")


def test_no_auth_is_401(sim: SimHandle) -> None:
    r = insecure("GET", f"{sim.url}/api2/json/nodes")
    assert_error(r, 401, "No ticket")


def test_bad_ticket_is_401(sim: SimHandle) -> None:
    r = insecure(
        "GET", f"{sim.url}/api2/json/nodes", cookies={"PVEAuthCookie": "PVE:root@pam:0::x"}
    )
    assert_error(r, 401, "permission denied - invalid PVE ticket")


def test_writes_with_a_ticket_need_the_csrf_token(api: Api) -> None:
    token = api.session.headers.pop("CSRFPreventionToken")
    assert api.get("/nodes").status_code == 200  # reads do not
    r = api.put("/nodes/pve1/qemu/100/config", description="x")
    assert_error(r, 401, "Permission denied - invalid csrf token")
    api.session.headers["CSRFPreventionToken"] = "0:forged"
    assert_error(
        api.put("/nodes/pve1/qemu/100/config", description="x"),
        401,
        "Permission denied - invalid csrf token",
    )
    api.session.headers["CSRFPreventionToken"] = token
    assert api.put("/nodes/pve1/qemu/100/config", description="x").status_code == 200


def test_api_tokens_need_no_csrf_token(token_api: Api) -> None:
    assert "CSRFPreventionToken" not in token_api.session.headers
    assert token_api.put("/nodes/pve1/qemu/100/config", description="x").status_code == 200


def test_bad_api_tokens(sim: SimHandle) -> None:
    def call(header: str) -> requests.Response:
        return insecure("GET", f"{sim.url}/api2/json/nodes", headers={"Authorization": header})

    assert_error(call("PVEAPIToken=root@pam!mycopod=wrong"), 401, "invalid token value!")
    assert_error(
        call("PVEAPIToken=root@pam!other=mycopod-token"),
        401,
        "no such token 'other' for user 'root@pam'",
    )
    assert_error(call("PVEAPIToken=garbage"), 401, "invalid token value!")
    assert call("PVEAPIToken=root@pam!mycopod=mycopod-token").status_code == 200


def test_tickets_expire_after_two_hours(sim: SimHandle, clock: Clock) -> None:
    api = Api(sim)
    clock.advance(7199)
    assert api.get("/nodes").status_code == 200
    clock.advance(2)
    assert_error(api.get("/nodes"), 401, "permission denied - invalid PVE ticket")
    # a fresh login works again
    assert Api(sim).get("/nodes").status_code == 200
