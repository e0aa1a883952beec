"""Helpers for the simulator's tests: raw HTTP calls, proxmoxer clients, task waits.

Tests assert what a client sees on the wire (status code, reason phrase, JSON body), so
besides proxmoxer they use ``requests`` directly through ``Api``.
"""

from __future__ import annotations

import time
from typing import Any

import requests
import urllib3
from proxmoxer import ProxmoxAPI

from mycopod.pvesim.testing import SimHandle

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

TASK_SECONDS = 0.02


class Clock:
    """An injectable wall clock tests can move forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class Api:
    """Raw calls to ``/api2/json``, authenticated with a ticket (and CSRF token) or a token."""

    def __init__(self, sim: SimHandle, *, auth: str = "ticket") -> None:
        self.sim = sim
        self.session = requests.Session()
        self.session.verify = False
        if auth == "ticket":
            r = self.session.post(
                f"{sim.url}/api2/json/access/ticket",
                data={"username": sim.user, "password": sim.password},
                verify=False,
            )
            r.raise_for_status()
            data = r.json()["data"]
            self.session.cookies.set("PVEAuthCookie", data["ticket"])
            self.session.headers["CSRFPreventionToken"] = data["CSRFPreventionToken"]
        elif auth == "token":
            self.session.headers["Authorization"] = f"PVEAPIToken={sim.token_id}={sim.token_secret}"

    def call(self, method: str, path: str, **params: Any) -> requests.Response:
        url = f"{self.sim.url}/api2/json{path}"
        if method in ("GET", "DELETE"):
            return self.session.request(method, url, params=params, timeout=10, verify=False)
        return self.session.request(method, url, data=params, timeout=10, verify=False)

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.call("GET", path, **params)

    def post(self, path: str, **params: Any) -> requests.Response:
        return self.call("POST", path, **params)

    def put(self, path: str, **params: Any) -> requests.Response:
        return self.call("PUT", path, **params)

    def delete(self, path: str, **params: Any) -> requests.Response:
        return self.call("DELETE", path, **params)

    def data(self, method: str, path: str, **params: Any) -> Any:
        r = self.call(method, path, **params)
        assert r.status_code == 200, (r.status_code, r.reason, r.text)
        return r.json()["data"]

    def wait(self, upid: str, timeout: float = 10) -> dict[str, Any]:
        node = upid.split(":")[1]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.data("GET", f"/nodes/{node}/tasks/{upid}/status")
            if st["status"] == "stopped":
                return dict(st)
            time.sleep(0.005)
        raise AssertionError(f"task {upid} did not finish")

    def run(self, method: str, path: str, **params: Any) -> dict[str, Any]:
        """Start a task and wait for it; return its final status."""
        return self.wait(self.data(method, path, **params))


def insecure(method: str, url: str, **kwargs: Any) -> requests.Response:
    """A one-off request to the simulator's self-signed HTTPS endpoint."""
    return requests.request(method, url, verify=False, timeout=10, **kwargs)


def assert_error(r: requests.Response, status: int, message: str, errors: Any = None) -> None:
    assert r.status_code == status, (r.status_code, r.reason, r.text)
    assert r.reason == message
    body = r.json()
    assert body["data"] is None
    assert body["message"].rstrip("\n") == message
    if errors is not None:
        assert body["errors"] == errors


def proxmox(sim: SimHandle, *, token: bool = False) -> ProxmoxAPI:
    if token:
        return ProxmoxAPI(
            sim.host,
            port=sim.port,
            user=sim.user,
            token_name=sim.token_name,
            token_value=sim.token_secret,
            verify_ssl=False,
            backend="https",
        )
    return ProxmoxAPI(
        sim.host,
        port=sim.port,
        user=sim.user,
        password=sim.password,
        verify_ssl=False,
        backend="https",
    )


def wait_task(px: ProxmoxAPI, upid: str, timeout: float = 10) -> dict[str, Any]:
    node = upid.split(":")[1]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = px.nodes(node).tasks(upid).status.get()
        if st["status"] == "stopped":
            return dict(st)
        time.sleep(0.005)
    raise AssertionError(f"task {upid} did not finish")
