"""The simulator's API error: an HTTP status, PVE's message, and per-parameter errors.

PVE answers every failure as ``{"data": null}`` with the message as the HTTP reason
phrase (proxmoxer reads only that), plus ``errors`` for parameter problems; handlers
raise ``ApiError`` and the dispatcher renders it that way.
"""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


def param_error(errors: dict[str, str]) -> ApiError:
    return ApiError(400, "Parameter verification failed.", errors)


def fail(message: str) -> ApiError:
    """The common case: a 500 with PVE's ``die`` text."""
    return ApiError(500, message)


class TaskError(Exception):
    """A task ends with this text as its ``exitstatus``."""
