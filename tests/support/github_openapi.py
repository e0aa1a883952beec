"""GitHub's published REST description, for the forge stand-in to validate requests.

GitHub publishes its OpenAPI description as the npm package ``@octokit/openapi``
(``generated/api.github.com.json`` in the tarball). This module pins one version and
its sha512 integrity (npm's ``dist.integrity``), downloads the tarball once into
``.cache/`` at the repository's root (git-ignored; ``MYCOPOD_OPENAPI_CACHE`` moves it),
refuses it unless the integrity matches, and reads from it, into memory only, the
operations MycoPod uses (:data:`USED`), their ``$ref``s resolved. The 13 MB JSON is
never written out, nor committed.

``python -m tests.support.github_openapi`` downloads and checks it (``make test`` and
``.ci/run`` call it, so the tests themselves need no network); the stand-in downloads it
too when it is missing. ``MYCOPOD_NPM_REGISTRY`` names another npm registry (a mirror).

:func:`check` validates one request against the description: the method and path are
an operation MycoPod uses, each path parameter matches its schema, and the JSON body
its ``requestBody`` schema (with jsonschema; OpenAPI 3.0's ``nullable`` is turned into
a ``null`` type first). It returns the validator's message, or None.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import os
import re
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

__all__ = ["INTEGRITY", "USED", "VERSION", "Operation", "check", "ensure_tarball", "load",
           "operations"]

VERSION = "23.0.2"
#: https://registry.npmjs.org/@octokit/openapi/23.0.2 → dist.integrity
INTEGRITY = ("sha512-pV8M7L9GY23AybNvTmo2nyjmpmnt6+2sRE/tqr0ZLQcPS4lnw7u5eZGNmwRNkBC3"
             "D7gZXbFx5AHzLUVRBXGDhg==")
MEMBER = "package/generated/api.github.com.json"
#: the operations MycoPod's forge client calls: (method, path template)
USED = (
    ("POST", "/repos/{owner}/{repo}/statuses/{sha}"),          # repos/create-commit-status
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),  # issues/create-comment
    ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),   # issues/update-comment
    ("GET", "/repos/{owner}/{repo}"),                          # repos/get (mycopod doctor)
)
ROOT = Path(__file__).resolve().parents[2]


def cache_dir() -> Path:
    return Path(os.environ.get("MYCOPOD_OPENAPI_CACHE") or ROOT / ".cache")


def _digest_ok(data: bytes) -> bool:
    algorithm, _, expected = INTEGRITY.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    return actual == expected


def ensure_tarball() -> Path:
    """The pinned tarball in the cache, downloaded (and checked) if missing."""
    path = cache_dir() / f"octokit-openapi-{VERSION}.tgz"
    if path.exists():
        return path
    registry = os.environ.get("MYCOPOD_NPM_REGISTRY", "https://registry.npmjs.org").rstrip("/")
    url = f"{registry}/@octokit/openapi/-/openapi-{VERSION}.tgz"
    with urllib.request.urlopen(url, timeout=300) as resp:  # noqa: S310 - a pinned https URL
        data = resp.read()
    if not _digest_ok(data):
        raise RuntimeError(f"{url}: the download does not match the pinned integrity "
                           f"{INTEGRITY[:20]}…; refusing it (a broken mirror, or the pin "
                           "in tests/support/github_openapi.py is wrong)")
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".part")
    part.write_bytes(data)
    part.replace(path)
    return path


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    #: path parameter name → its schema
    params: dict[str, dict[str, Any]]
    body: dict[str, Any] | None
    body_required: bool


def _resolve(node: Any, spec: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """``node`` with every ``$ref`` inlined and ``nullable`` made a ``null`` type."""
    if isinstance(node, list):
        return [_resolve(item, spec, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        if ref in seen:
            raise ValueError(f"recursive $ref {ref}")
        target: Any = spec
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        return _resolve(target, spec, (*seen, ref))
    out = {key: _resolve(value, spec, seen) for key, value in node.items()
           if key not in ("nullable", "example", "examples")}
    if node.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def _pattern(template: str, params: list[dict[str, Any]]) -> re.Pattern[str]:
    multi = {p["name"] for p in params if p.get("x-multi-segment")}

    def group(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"(?P<{name}>.+)" if name in multi else f"(?P<{name}>[^/]+)"

    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", group, re.escape(template)) + "$")


@functools.cache
def operations() -> tuple[Operation, ...]:
    """The used operations, read from the checked tarball into memory."""
    return load(ensure_tarball())


def load(tarball: Path) -> tuple[Operation, ...]:
    """The used operations of ``tarball``, refused unless it has the pinned integrity."""
    data = tarball.read_bytes()
    if not _digest_ok(data):
        raise RuntimeError(f"{tarball}: the cached tarball does not match the pinned "
                           "integrity; delete it to download it again")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        member = tar.extractfile(MEMBER)
        if member is None:
            raise RuntimeError(f"{MEMBER} is not in @octokit/openapi {VERSION}")
        spec = json.load(member)
    found = []
    for method, template in USED:
        raw = spec["paths"][template][method.lower()]
        params = [_resolve(p, spec) for p in raw.get("parameters", [])]
        body = raw.get("requestBody")
        schema = (_resolve(body["content"]["application/json"]["schema"], spec)
                  if body else None)
        found.append(Operation(
            operation_id=raw["operationId"], method=method, template=template,
            pattern=_pattern(template, params),
            params={p["name"]: p["schema"] for p in params if p["in"] == "path"},
            body=schema, body_required=bool(body and body.get("required"))))
    return tuple(found)


def _path_value(raw: str, schema: dict[str, Any]) -> Any:
    if schema.get("type") == "integer" and re.fullmatch(r"-?\d+", raw):
        return int(raw)
    return raw


def check(method: str, path: str, body: Any) -> tuple[Operation | None, str | None]:
    """The operation ``method path`` is, and what is wrong with the request (None: it
    conforms to GitHub's description)."""
    for op in operations():
        match = op.pattern.match(path)
        if match is None or op.method != method:
            continue
        for name, schema in op.params.items():
            value = _path_value(match.group(name), schema)
            error = best_match(jsonschema.Draft7Validator(schema).iter_errors(value))
            if error is not None:
                return op, f"{op.operation_id}: path parameter {name}: {error.message}"
        if op.body is None:
            return op, None
        if body is None:
            return op, (f"{op.operation_id}: the request body is required (JSON)"
                        if op.body_required else None)
        error = best_match(jsonschema.Draft7Validator(op.body).iter_errors(body))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(the body)"
            return op, f"{op.operation_id}: body {where}: {error.message}"
        return op, None
    return None, (f"{method} {path} is none of the operations MycoPod uses "
                  f"({', '.join(f'{m} {t}' for m, t in USED)})")


if __name__ == "__main__":
    tarball = ensure_tarball()
    names = ", ".join(op.operation_id for op in operations())
    print(f"@octokit/openapi {VERSION} ({tarball}): {names}", file=sys.stderr)
