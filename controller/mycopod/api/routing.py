"""Endpoints declared as data: path, auth, request and response models, handler.

Each route module lists :class:`Endpoint` values. :func:`aiohttp_handler` turns one into
an aiohttp handler that authenticates, validates the path, query and body with the
declared models, calls the function and wraps its result in the JSON envelope, and
:mod:`mycopod.api.openapi` turns the same list into ``/openapi.json``. A handler cannot
take a field its model does not declare, nor answer with a shape the document does not
describe.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import structlog
from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError

from mycopod.api import auth
from mycopod.api.context import ApiContext
from mycopod.api.errors import ApiError, bad_request, from_validation, not_found
from mycopod.api.models import MAX_ID
from mycopod.api.state import CTX, STATE, ApiState
from mycopod.store.users import User

log = structlog.get_logger(__name__)

Auth = Literal["public", "user", "admin"]
JSON_TYPES = ("application/json",)
#: largest JSON body: a declaration is at most 256 KiB of text, which JSON may escape
JSON_MAX_BODY = 640 * 1024


@dataclass
class Call:
    """Everything a handler gets: the request, the context and the validated inputs."""

    request: web.Request
    ctx: ApiContext
    state: ApiState
    user: User | None
    conn: Any
    params: dict[str, Any]
    query: Any = None
    body: Any = None

    @property
    def me(self) -> User:
        assert self.user is not None
        return self.user


Handler = Callable[[Call], Awaitable[Any]]


@dataclass
class Endpoint:
    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    handler: Handler
    auth: Auth = "user"
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    #: path parameter -> "id" (a positive 32-bit integer) or a JSON schema for a string
    path_params: dict[str, Any] = field(default_factory=dict)
    #: the type of ``data`` in the envelope; None with ``content_type``: a raw response
    response: Any = None
    status: int = 200
    #: set for non-JSON responses (HTML, Prometheus text)
    content_type: str | None = None
    #: documented error statuses besides the default
    errors: tuple[int, ...] = ()
    #: other success statuses answering the same envelope (the webhook's 202)
    also: tuple[int, ...] = ()
    #: a body that is not a pydantic model (the webhook reads raw bytes itself)
    raw_body: bool = False
    description: str = ""
    #: whether the handler needs a database connection held for the whole call
    needs_conn: bool = True
    #: write only the keys the handler's data had (typed stored JSON, shown as stored)
    exclude_unset: bool = False

    def __post_init__(self) -> None:
        self.adapter: TypeAdapter[Any] | None = (
            TypeAdapter(self.response) if self.response is not None else None
        )


def ok_response(adapter: TypeAdapter[Any] | None, data: Any, *, status: int = 200,
                headers: dict[str, str] | None = None,
                exclude_unset: bool = False) -> web.Response:
    payload = (adapter.dump_json(data, exclude_unset=exclude_unset) if adapter is not None
               else json.dumps(data).encode())
    return web.Response(body=b'{"status":"ok","data":' + payload + b"}", status=status,
                        content_type="application/json", headers=headers)


def error_response(exc: ApiError) -> web.Response:
    body = {"status": "error",
            "error": {"code": exc.code, "message": exc.message, "details": exc.details}}
    return web.Response(text=json.dumps(body, default=str), status=exc.status,
                        content_type="application/json", headers=exc.headers)


def parse_id(raw: str, what: str) -> int:
    if not raw.isascii() or not raw.isdigit():
        raise not_found(what)
    value = int(raw)
    if not 0 < value <= MAX_ID:
        raise not_found(what)
    return value


def size_text(limit: int) -> str:
    """A byte count as people write it: ``1 MiB``, ``640 KiB``, ``1000 bytes``."""
    for unit, size in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if limit >= size and limit % size == 0:
            return f"{limit // size} {unit}"
    return f"{limit} bytes"


def too_large(limit: int) -> ApiError:
    return ApiError(413, "too_large",
                    f"the request body is too large (at most {size_text(limit)})")


async def read_body(request: web.Request, limit: int) -> bytes:
    """The raw body, or a 413 that states ``limit``: the limit of the endpoint reading it.

    aiohttp stops any body at the application's ``client_max_size`` with its own 413;
    that one is turned into this endpoint's message too, so the message always names
    the limit the caller ran into.
    """
    if request.content_length is not None and request.content_length > limit:
        raise too_large(limit)
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise too_large(limit) from None
    if len(raw) > limit:
        raise too_large(limit)
    return raw


async def read_json_body(request: web.Request, model: type[BaseModel]) -> Any:
    if request.content_type not in JSON_TYPES:
        raise ApiError(415, "unsupported_media_type",
                       "send the body as JSON with 'Content-Type: application/json'")
    raw = await read_body(request, JSON_MAX_BODY)
    if not raw.strip():
        raise bad_request("the request body is empty: send a JSON object", code="malformed_json")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        if errors and errors[0]["type"] == "json_invalid":
            raise bad_request("the request body is not valid JSON",
                              code="malformed_json") from None
        raise from_validation(exc, where="body") from None


def read_query(request: web.Request, model: type[BaseModel]) -> Any:
    data: dict[str, str] = {}
    for key in request.query:
        values = request.query.getall(key)
        if len(values) > 1:
            raise from_validation_message(f"query.{key}: give this parameter once")
        data[key] = values[0]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation(exc, where="query") from None


def from_validation_message(message: str) -> ApiError:
    return ApiError(422, "validation_error", message)


def aiohttp_handler(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        ctx = request.app[CTX]
        state = request.app[STATE]
        params: dict[str, Any] = {}
        for name, kind in endpoint.path_params.items():
            raw = request.match_info[name]
            params[name] = parse_id(raw, name.removesuffix("Id")) if kind == "id" else raw
        if endpoint.needs_conn or endpoint.auth != "public":
            async with ctx.pool.acquire() as conn:
                return await _run(endpoint, request, ctx, state, params, conn)
        return await _run(endpoint, request, ctx, state, params, None)

    handle.__name__ = endpoint.operation_id
    return handle


async def _run(endpoint: Endpoint, request: web.Request, ctx: ApiContext, state: ApiState,
               params: dict[str, Any], conn: Any) -> web.StreamResponse:
    user = None
    if endpoint.auth != "public":
        user = await auth.current_user(request, state.issuer, conn)
        if endpoint.auth == "admin":
            auth.require_admin(user)
    call = Call(request=request, ctx=ctx, state=state, user=user, conn=conn, params=params)
    if endpoint.query is not None:
        call.query = read_query(request, endpoint.query)
    if endpoint.body is not None:
        call.body = await read_json_body(request, endpoint.body)
    result = await endpoint.handler(call)
    if isinstance(result, web.StreamResponse):
        return result
    return ok_response(endpoint.adapter, result, status=endpoint.status,
                       exclude_unset=endpoint.exclude_unset)


def register(app: web.Application, endpoints: list[Endpoint]) -> None:
    for endpoint in endpoints:
        app.router.add_route(endpoint.method, endpoint.path, aiohttp_handler(endpoint),
                             name=endpoint.operation_id)
