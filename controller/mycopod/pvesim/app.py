"""The aiohttp application: one dispatcher for ``/api2/json/...`` plus ``/_sim/faults``
and ``/_sim/stats``.

The dispatcher does what pveproxy and the REST handler do around each call, in the
same order: resolve the path against the schema (501 when it is not there), inject
faults, authenticate (ticket + CSRF token, or API token), check the parameters against
the schema (400), run the handler under the cluster lock, and answer in PVE's envelope
with the error text as the HTTP reason phrase (proxmoxer reads only that).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from mycopod.pvesim import api, schema
from mycopod.pvesim.auth import AuthError
from mycopod.pvesim.core import Request, Sim
from mycopod.pvesim.errors import ApiError, TaskError
from mycopod.pvesim.tasks import lock_path

SIM_KEY = web.AppKey("pvesim", Sim)
API_PREFIX = "/api2/json/"
KNOWN_METHODS = frozenset({"GET", "POST", "PUT", "DELETE"})
_SYNC_CONFIG_WRITES = frozenset(
    {("/nodes/{node}/qemu/{vmid}/config", "PUT"), ("/nodes/{node}/lxc/{vmid}/config", "PUT")}
)
_JSON_HEADERS = {"Content-Type": "application/json;charset=UTF-8", "Cache-Control": "max-age=0"}


def _answer(data: Any, accept_encoding: str) -> web.Response:
    if isinstance(data, api.RawJson):
        if "gzip" in accept_encoding and len(data.body.raw) > 64 * 1024:
            headers = {**_JSON_HEADERS, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
            return web.Response(body=data.body.gzipped(), headers=headers)
        return web.Response(body=data.body.raw, headers=_JSON_HEADERS)
    body = json.dumps({"data": data}, separators=(",", ":")).encode()
    return web.Response(body=body, headers=_JSON_HEADERS)


def error_response(exc: ApiError) -> web.Response:
    message = exc.message.rstrip("\n")
    # a handler's ``die`` text keeps its newline; the server's own answers have none
    end = "\n" if exc.status in (400, 500) else ""
    payload: dict[str, Any] = {"data": None, "message": message + end}
    if exc.errors:
        payload["errors"] = exc.errors
    reason = message.replace("\r", " ").replace("\n", " ")
    return web.Response(
        status=exc.status,
        reason=reason,
        body=json.dumps(payload, separators=(",", ":")).encode(),
        headers=_JSON_HEADERS,
    )


async def _params(request: web.Request) -> dict[str, Any]:
    out: dict[str, Any] = {}

    def put(key: str, value: Any) -> None:
        if key in out:
            prev = out[key]
            out[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            out[key] = value

    for key, value in request.query.items():
        put(key, value)
    if request.method in ("POST", "PUT") and request.body_exists:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as exc:
                raise ApiError(400, f"unable to parse JSON body - {exc}") from None
            if isinstance(body, dict):
                for key, value in body.items():
                    out[key] = value
        else:
            form = await request.post()
            for key, fvalue in form.items():
                put(key, fvalue if isinstance(fvalue, str) else str(fvalue))
    return out


def _authenticate(sim: Sim, request: web.Request, verb: str, method: schema.Method) -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("PVEAPIToken"):
        try:
            return sim.auth.verify_token(header)
        except AuthError as exc:
            raise ApiError(401, str(exc)) from None
    cookie = request.headers.get("Cookie", "")
    if cookie.startswith("PVEAuthCookie=") and ";" not in cookie and '"' not in cookie:
        ticket: str | None = cookie[len("PVEAuthCookie="):]  # the usual one cookie
    else:
        ticket = request.cookies.get("PVEAuthCookie")
    if not ticket and header.startswith("PVEAuthCookie="):
        ticket = header.split("=", 1)[1]
    if not ticket:
        raise ApiError(401, "No ticket")
    try:
        user = sim.auth.verify_ticket(unquote(ticket))
    except AuthError as exc:
        raise ApiError(401, str(exc)) from None
    if verb != "GET" and not sim.auth.verify_csrf(request.headers.get("CSRFPreventionToken"), user):
        raise ApiError(401, "Permission denied - invalid csrf token")
    return user


#: parameters found valid: (id of the schema method, its parameters) -> (the method,
#: the checked parameters); a full resync sends the same few thousand ``node`` and
#: ``vmid`` again and again, and checking them against the schema costs more than the
#: answer (only all-string parameters, as in a query, are kept)
_VALID: dict[tuple[int, tuple[tuple[str, Any], ...]], tuple[schema.Method, dict[str, Any]]] = {}


def _validate(method: schema.Method, params: dict[str, Any]) -> dict[str, Any]:
    key = (id(method), tuple(params.items()))
    plain = all(type(v) is str for v in params.values())
    hit = _VALID.get(key) if plain else None
    if hit is not None and hit[0] is method:
        return dict(hit[1])
    try:
        checked = schema.validate(method, params)
    except schema.ParamError as exc:
        raise ApiError(400, "Parameter verification failed.", exc.errors) from None
    if plain and all(isinstance(v, (str, int, float)) for v in checked.values()):
        if len(_VALID) >= 50_000:
            _VALID.clear()
        _VALID[key] = (method, dict(checked))
    return checked


async def _fault(sim: Sim, request: web.Request, kind: str, params: dict[str, str]) -> None:
    if kind == "slow":
        await asyncio.sleep(sim.faults.settings.slow_seconds)
        return
    if kind == "drop":
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError
    if kind == "timeout":
        vmid = params.get("vmid")
        if vmid and request.method != "GET":
            kind = "lxc" if "/lxc/" in request.raw_path else "qemu"
            raise ApiError(500, f"can't lock file '{lock_path(kind, vmid)}' - got timeout")
        raise ApiError(500, "got timeout")
    if kind == "unavailable":
        raise ApiError(503, "Service Unavailable")
    raise ApiError(596, "Connection timed out")


async def dispatch(request: web.Request) -> web.StreamResponse:
    in_flight = request.app[SIM_KEY].in_flight
    transport = request.transport
    in_flight.connection(transport.get_extra_info("peername") if transport else None)
    with in_flight.request(request.raw_path):
        return await _dispatch(request)


async def _dispatch(request: web.Request) -> web.StreamResponse:
    sim = request.app[SIM_KEY]
    if sim.request_log is None:
        return await _answer_call(sim, request)
    answered: list[Any] = []
    try:
        response = await _answer_call(sim, request, answered)
    except asyncio.CancelledError:  # a dropped connection: logged with status 0
        sim.request_log.record(request.method, request.raw_path, 0)
        raise
    sim.request_log.record(request.method, request.raw_path, response.status,
                           answered[0] if answered else None)
    return response


async def _answer_call(sim: Sim, request: web.Request,
                       answered: list[Any] | None = None) -> web.StreamResponse:
    """The call itself; its answer's data is appended to ``answered`` (the request log)."""
    latency = sim.faults.settings.latency_ms
    if latency > 0:
        await asyncio.sleep(latency / 1000)
    verb = request.method
    if verb not in KNOWN_METHODS:
        return error_response(ApiError(501, f"method '{verb}' not available"))
    raw_path = request.raw_path.split("?", 1)[0]
    rel = raw_path[len(API_PREFIX) :] if raw_path.startswith(API_PREFIX) else None
    try:
        if rel is None:
            raise ApiError(501, f"Method '{verb} {raw_path}' not implemented")
        segments = [unquote(s) for s in rel.strip("/").split("/")] if rel.strip("/") else []
        resolved = sim.schema.resolve(segments)
        method = sim.schema.method(resolved[0], verb) if resolved else None
        handler = api.ROUTES.get((resolved[0], verb)) if resolved else None
        if resolved is None or method is None or handler is None:
            raise ApiError(501, f"Method '{verb} /{rel.strip('/')}' not implemented")
        path, path_params = resolved
        kind = sim.faults.request_fault()
        if kind is not None:
            await _fault(sim, request, kind, path_params)
        if sim.faults.guest_fault(path_params.get("vmid")):
            raise ApiError(500, f"guest {path_params['vmid']}: got timeout")
        is_login = path == "/access/ticket"
        params = await _params(request)
        user = "" if is_login else _authenticate(sim, request, verb, method)
        params.update(path_params)
        checked = _validate(method, params)
        if "node" in path_params:
            sim.check_node(path_params["node"])
        flock = None
        if (path, verb) in _SYNC_CONFIG_WRITES:
            # the synchronous config update takes the guest's config lock in the
            # request itself (qemu-server update_vm_api, pve-container update_vm:
            # lock_config), so it waits for a running task on the guest, 10 s at most
            kind = "qemu" if "/qemu/" in path else "lxc"
            try:
                flock = await sim.tasks.acquire_config_lock(kind, int(path_params["vmid"]))
            except TaskError as exc:
                raise ApiError(500, str(exc)) from None
        try:
            with sim.cluster.lock:
                data = handler(sim, Request(user=user, params=checked, raw=params))
        finally:
            if flock is not None:
                flock.release()
        if answered is not None:
            answered.append(data)
        if verb != "GET" and not is_login and sim.faults.answer_lost():
            if request.transport is not None:  # done, but its answer never arrives
                request.transport.abort()
            raise asyncio.CancelledError
        return _answer(data, request.headers.get("Accept-Encoding", ""))
    except ApiError as exc:
        return error_response(exc)


async def faults_handler(request: web.Request) -> web.Response:
    """``POST /_sim/faults`` (JSON or form): change fault settings at run time."""
    sim = request.app[SIM_KEY]
    if request.method == "POST":
        if request.content_type == "application/json":
            body = await request.json()
        else:
            body = dict(await request.post())
        try:
            if "failing_vmids" in body:  # a list of vmids (JSON), or "101,102" (form)
                failing = body.pop("failing_vmids")
                sim.faults.fail_guests(str(failing).replace(",", " ").split()
                                       if isinstance(failing, str) else failing)
            sim.faults.update(**{k: float(v) for k, v in body.items()})
        except (TypeError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
    s = sim.faults.settings
    return web.json_response(
        {
            "fault_rate": s.fault_rate,
            "task_fail_rate": s.task_fail_rate,
            "latency_ms": s.latency_ms,
            "slow_seconds": s.slow_seconds,
            "lost_answer_rate": s.lost_answer_rate,
            "failing_vmids": sorted(sim.faults.failing_vmids),
        }
    )


async def stats_handler(request: web.Request) -> web.Response:
    """``GET /_sim/stats``: requests answered and the most in flight at once (overall,
    per node); ``POST`` starts the count afresh (see :mod:`mycopod.pvesim.inflight`)."""
    counter = request.app[SIM_KEY].in_flight
    if request.method == "POST":
        counter.reset()
    return web.json_response(counter.stats())


def make_app(sim: Sim) -> web.Application:
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app[SIM_KEY] = sim
    app.router.add_route("GET", "/_sim/faults", faults_handler)
    app.router.add_route("POST", "/_sim/faults", faults_handler)
    app.router.add_route("GET", "/_sim/stats", stats_handler)
    app.router.add_route("POST", "/_sim/stats", stats_handler)
    app.router.add_route("*", "/api2/{tail:.*}", dispatch)
    return app
