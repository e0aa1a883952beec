"""Typed application state (``web.AppKey``): the context and what the app builds at start."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from mycopod.api.context import ApiContext
from mycopod.api.ratelimit import FailureWindow, InFlight, IPNetwork, TokenBucket

if TYPE_CHECKING:
    from mycopod.api.auth import TokenIssuer


@dataclass
class ApiState:
    issuer: TokenIssuer
    login_failures_by_user: FailureWindow
    login_failures_by_ip: FailureWindow
    general: TokenBucket
    trusted_proxies: list[IPNetwork]
    metrics_allow: list[IPNetwork]
    metrics_token: str | None
    #: POST /declarations compiling now, per user
    compiles: InFlight
    #: the OpenAPI document, built once
    openapi: dict[str, Any] = field(default_factory=dict)
    openapi_bytes: bytes = b""


CTX = web.AppKey("mycopod_ctx", ApiContext)
STATE = web.AppKey("mycopod_state", ApiState)

#: per-request storage: the client address (after trusted-proxy resolution), the user id,
#: the session (refresh token family) of the access token
CLIENT = web.RequestKey("mycopod_client", str)
USER_ID = web.RequestKey("mycopod_user_id", int)
SESSION_ID = web.RequestKey("mycopod_session_id", str)
