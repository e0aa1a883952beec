"""The API's error type and its JSON envelope.

Handlers raise :class:`ApiError`; the middleware turns it into
``{"status": "error", "error": {"code", "message", "details"}}`` with the right status.
Codes are short snake_case words a client can branch on; messages are one sentence a
person can act on. Nothing here ever carries a traceback or a library's message: when a
dependency fails (:func:`unavailable`), its own words — a git command line, its stderr, a
path — go to the log under an error id, and the response carries only that id.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import structlog
from pydantic import ValidationError

if TYPE_CHECKING:
    from mycopod.reconcile.approvals import ApprovalError

log = structlog.get_logger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}


def bad_request(message: str, *, code: str = "bad_request", details: Any = None) -> ApiError:
    return ApiError(400, code, message, details=details)


def unauthorized(message: str = "authentication required: send 'Authorization: Bearer "
                 "<access token>' (POST /auth/login)") -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def forbidden(message: str = "this needs the Admin role") -> ApiError:
    return ApiError(403, "forbidden", message)


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def conflict(message: str, *, details: Any = None) -> ApiError:
    return ApiError(409, "conflict", message, details=details)


def unprocessable(message: str, *, details: Any = None, code: str = "invalid") -> ApiError:
    return ApiError(422, code, message, details=details)


#: the HTTP status of each approval rule's refusal (:mod:`mycopod.reconcile.approvals`)
APPROVAL_STATUS = {"forbidden": 403, "four_eyes": 403, "not_found": 404, "conflict": 409}


def from_approval(exc: ApprovalError) -> ApiError:
    """An approval rule's refusal as the API's answer (403, 404 or 409)."""
    status = getattr(exc, "status", None)
    return ApiError(APPROVAL_STATUS.get(exc.code, 403), exc.code, str(exc),
                    details={"status": status} if status else None)


def unavailable(code: str, message: str, *, cause: BaseException,
                retry_after: int = 30) -> ApiError:
    """503 with ``message`` and an error id; ``cause`` is logged under that id only."""
    error_id = uuid.uuid4().hex[:16]
    log.warning("api.unavailable", error_id=error_id, code=code,
                error_type=type(cause).__name__, error=str(cause))
    return ApiError(503, code,
                    f"{message} (error id {error_id}: the server log has the details)",
                    details={"error_id": error_id}, headers={"Retry-After": str(retry_after)})


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    """pydantic's errors without the offending input (it may be a password)."""
    return [
        {"loc": [str(p) for p in err["loc"]], "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


def from_validation(exc: ValidationError, *, where: str) -> ApiError:
    details = validation_details(exc)
    first = details[0] if details else {"loc": [], "msg": "invalid"}
    loc = ".".join(first["loc"])
    where_loc = f"{where}.{loc}" if loc else where
    return unprocessable(f"{where_loc}: {first['msg']}", details=details, code="validation_error")
