"""``/openapi.json``: an OpenAPI 3.1 document built from the endpoints' own models.

JSON Schema 2020-12, which pydantic emits, is OpenAPI 3.1's schema dialect, so model
schemas go into ``components/schemas`` unchanged; each success response is the envelope
``{"status": "ok", "data": <model>}`` and every error the shared ``ErrorEnvelope``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter
from typing_extensions import is_typeddict  # noqa: UP035 - also knows typing_extensions.TypedDict

from mycopod.api.models import MAX_ID, ErrorEnvelope
from mycopod.api.routing import Endpoint

REF = "#/components/schemas/{model}"
STATUS_TEXT = {
    200: "OK", 201: "Created", 202: "Accepted", 400: "Malformed request",
    401: "Not authenticated", 403: "Not allowed for this role", 404: "Not found",
    409: "Conflict with the current state", 413: "Body too large",
    415: "Wrong content type", 422: "Validation failed", 429: "Too many requests",
    503: "Unavailable",
}


class _Schemas:
    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def of(self, tp: Any, *, mode: str) -> dict[str, Any]:
        schema = TypeAdapter(tp).json_schema(mode=mode, ref_template=REF)  # type: ignore[arg-type]
        for name, sub in schema.pop("$defs", {}).items():
            self.components.setdefault(name, sub)
        if isinstance(tp, type) and (issubclass(tp, BaseModel) or is_typeddict(tp)):
            self.components.setdefault(tp.__name__, schema)
            return {"$ref": REF.format(model=tp.__name__)}
        return schema


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a value, never JSON null."""
    branches = schema.get("anyOf")
    if branches:
        rest = [b for b in branches if b.get("type") != "null"]
        if len(rest) == 1:
            merged = {k: v for k, v in schema.items() if k != "anyOf"}
            merged.update(rest[0])
            return merged
    return schema


def _parameters(endpoint: Endpoint) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for name, kind in endpoint.path_params.items():
        schema = ({"type": "integer", "minimum": 1, "maximum": MAX_ID} if kind == "id"
                  else dict(kind))
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    if endpoint.query is not None:
        full = endpoint.query.model_json_schema(ref_template=REF)
        required = set(full.get("required", []))
        for name, prop in full.get("properties", {}).items():
            schema = _not_null(prop)
            schema.pop("title", None)
            params.append({"name": name, "in": "query", "required": name in required,
                           "schema": schema,
                           **({"description": prop["description"]}
                              if "description" in prop else {})})
    return params


def build(endpoints: list[Endpoint], *, title: str = "MycoPod API",
          version: str = "0.1.0") -> dict[str, Any]:
    schemas = _Schemas()
    error_ref = schemas.of(ErrorEnvelope, mode="serialization")
    error_content = {"application/json": {"schema": error_ref}}
    paths: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        op: dict[str, Any] = {
            "operationId": ep.operation_id,
            "summary": ep.summary,
            "tags": [ep.tag],
            "security": [] if ep.auth == "public" else [{"bearerAuth": []}],
        }
        if ep.description:
            op["description"] = ep.description
        params = _parameters(ep)
        if params:
            op["parameters"] = params
        if ep.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": schemas.of(ep.body,
                                                                     mode="validation")}},
            }
        elif ep.raw_body:
            op["requestBody"] = {
                "required": False,
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        responses: dict[str, Any] = {}
        if ep.content_type is not None:
            body_schema: dict[str, Any] = (
                {"type": "object"} if ep.content_type == "application/json"
                else {"type": "string"})
            responses[str(ep.status)] = {"description": STATUS_TEXT.get(ep.status, "OK"),
                                         "content": {ep.content_type: {"schema": body_schema}}}
        else:
            data = schemas.of(ep.response, mode="serialization") if ep.response else {}
            envelope = {
                "type": "object",
                "required": ["status", "data"],
                "properties": {"status": {"const": "ok"}, "data": data},
            }
            for code in (ep.status, *ep.also):
                responses[str(code)] = {"description": STATUS_TEXT.get(code, "OK"),
                                        "content": {"application/json": {"schema": envelope}}}
        codes = set(ep.errors)
        if ep.auth != "public":
            codes.add(401)
        if ep.auth == "admin":
            codes.add(403)
        if ep.body is not None:
            codes.update((400, 413, 415, 422))
        if ep.query is not None:
            codes.add(422)
        codes.add(429)
        for code in sorted(codes):
            responses[str(code)] = {"description": STATUS_TEXT.get(code, "Error"),
                                    "content": error_content}
        responses["default"] = {"description": "Error (500 carries an error id)",
                                "content": error_content}
        op["responses"] = responses
        paths.setdefault(ep.path, {})[ep.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "MycoPod keeps a Proxmox VE cluster in the state written in its "
            "declarations repository. Every JSON answer is an envelope: "
            '{"status": "ok", "data": ...} or {"status": "error", "error": {...}}.',
        },
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.components.items())),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
    }
