"""Reads (``GET``) on an aiohttp session, and the request metrics, kept cheap per call.

A full resync reads one config per guest: 10,000 requests whose own work (a few
hundred bytes each way) is small next to what a general HTTP client does around it,
so this path does the per-request work once where it can:

- the session keeps its connections alive (at most ``max_workers``) and keeps no
  cookie jar (the ticket is sent as a header, and Proxmox sets no cookie on reads);
- the auth header is built once per ticket (or token), not per request;
- a path made only of characters a URL path may hold as they are (``/nodes/pve1/
  qemu/101/pending``, a UPID) is handed to aiohttp as an already-encoded URL, so it is
  not parsed and re-encoded each time; anything else goes through yarl as before;
- the metric children (``mycopod_proxmox_requests_total`` and ``..._duration_seconds``
  per method, path template and code) are looked up once, not per request;
- ``path_template`` recognises a guest's path with one regex before the general rules;
- answers are decoded with orjson (the 3 MB ``/cluster/resources`` of 10,000 guests is
  most of a steady tick's CPU).
"""

from __future__ import annotations

import re
import ssl
import time
from typing import TYPE_CHECKING, Any

import aiohttp
import orjson
from yarl import URL

from mycopod import telemetry
from mycopod.proxmox.errors import TransientError, UnreachableError, classify

if TYPE_CHECKING:
    from mycopod.proxmox.client import ProxmoxClient

__all__ = ["FastReads", "count_request", "path_template", "with_field_errors"]

_TEMPLATE_RULES = (
    (re.compile(r"^/nodes/[^/]+"), "/nodes/{node}"),
    (re.compile(r"/(qemu|lxc)/\d+"), r"/\1/{vmid}"),
    (re.compile(r"/tasks/[^/]+"), "/tasks/{upid}"),
    (re.compile(r"/storage/[^/]+"), "/storage/{storage}"),
    (re.compile(r"/pools/[^/]+"), "/pools/{poolid}"),
)
#: a guest's own path (what a full resync reads): its template in one match
_GUEST_PATH = re.compile(r"^/nodes/[^/]+/(qemu|lxc)/\d+(/[a-z/]*)?$")
#: characters a URL path holds unencoded (RFC 3986 pchar, without '%')
_PLAIN_PATH = re.compile(r"^[A-Za-z0-9/\-._~!$&'()*+,;=:@]*$")

_CHILDREN: dict[tuple[str, str, str], tuple[Any, Any]] = {}


def path_template(path: str) -> str:
    """``/nodes/pve1/qemu/101/config`` → ``/nodes/{node}/qemu/{vmid}/config``."""
    guest = _GUEST_PATH.match(path)
    if guest is not None:
        return f"/nodes/{{node}}/{guest.group(1)}/{{vmid}}{guest.group(2) or ''}"
    for pattern, replacement in _TEMPLATE_RULES:
        path = pattern.sub(replacement, path)
    return path


def count_request(method: str, template: str, code: str, seconds: float) -> None:
    """One request in ``mycopod_proxmox_requests_total`` and its duration."""
    key = (method, template, code)
    children = _CHILDREN.get(key)
    if children is None:
        children = _CHILDREN[key] = (telemetry.PROXMOX_REQUESTS.labels(method, template, code),
                                     telemetry.PROXMOX_LATENCY.labels(method, template))
    children[0].inc()
    children[1].observe(seconds)


def with_field_errors(text: str, errors: Any) -> str:
    """Proxmox's reason phrase plus its per-parameter errors, when it sent them."""
    if isinstance(errors, dict) and errors:
        details = "; ".join(f"{k}: {str(v).strip()}" for k, v in errors.items())
        return f"{text} ({details})" if text else details
    return text


class FastReads:
    """The read path of one :class:`~mycopod.proxmox.client.ProxmoxClient`."""

    def __init__(self, client: ProxmoxClient) -> None:
        self.client = client
        self._http: aiohttp.ClientSession | None = None
        #: the last auth header: (its name and value, the headers dict sent)
        self._auth: tuple[tuple[str, str], dict[str, str]] | None = None

    async def aclose(self) -> None:
        http, self._http = self._http, None
        if http is not None:
            await http.close()

    def _ssl_context(self) -> ssl.SSLContext | bool:
        s = self.client.settings
        if not s.verify_tls:
            return False
        return ssl.create_default_context(
            cafile=str(s.ca_file) if s.ca_file is not None else None)

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            settings = self.client.settings
            connector = aiohttp.TCPConnector(limit=settings.max_workers,
                                             ssl=self._ssl_context())
            self._http = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=settings.timeout))
        return self._http

    async def _headers(self, api: Any) -> dict[str, str]:
        auth = api._store["session"].auth
        token_value = getattr(auth, "token_value", None)
        if token_value is not None:
            header = ("Authorization",
                      f"PVEAPIToken={auth.username}!{auth.token_name}={token_value}")
        else:
            if time.monotonic() - auth.birth_time >= auth.renew_age:
                await self.client.run_blocking(auth._get_new_tokens)
            header = ("Cookie", f"PVEAuthCookie={auth.pve_auth_ticket}")
        cached = self._auth
        if cached is None or cached[0] != header:
            cached = self._auth = (header, {header[0]: header[1]})
        return cached[1]

    async def get(self, api: Any, path: str, params: dict[str, Any]) -> Any:
        session = self._session()
        template = path_template(path)
        started = time.perf_counter()
        code = "error"
        text = self.client.base_url + path
        url: URL | str = URL(text, encoded=True) if _PLAIN_PATH.match(path) else text
        query = ({k: (int(v) if isinstance(v, bool) else v) for k, v in params.items()}
                 if params else None)
        try:
            headers = await self._headers(api)
            async with session.get(url, params=query, headers=headers) as resp:
                code = str(resp.status)
                if resp.status >= 400:
                    message = (resp.reason or "").strip() or f"HTTP {resp.status}"
                    try:
                        body = await resp.json(content_type=None)
                    except ValueError:
                        body = None
                    if isinstance(body, dict):
                        message = with_field_errors(message, body.get("errors"))
                    cls = classify(resp.status, message)
                    raise cls(message, status=resp.status, method="GET", path=path)
                # not resp.json(): it guesses the text encoding first (JSON is UTF-8),
                # which costs more than decoding a guest's config; orjson decodes the
                # 3 MB of a 10,000-guest /cluster/resources in about 40 % of the time
                # json.loads takes (docs/scaling.md)
                stripped = (await resp.read()).strip()
                body = orjson.loads(stripped) if stripped else None
                return body.get("data") if isinstance(body, dict) else body
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise UnreachableError(f"GET {path}: {type(exc).__name__}: {exc}", method="GET",
                                   path=path) from None
        except aiohttp.ClientError as exc:  # an answer that broke off or did not parse
            raise TransientError(f"GET {path}: {type(exc).__name__}: {exc}", method="GET",
                                 path=path) from None
        finally:
            self.client.request_count += 1
            count_request("GET", template, code, time.perf_counter() - started)
