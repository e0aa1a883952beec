"""Proxmox failures, classified by HTTP status **and** message.

Proxmox reports most failures as a 500 whose reason phrase carries the text ("VM 101
is locked (create)", "unable to create VM 101 - VM 101 already exists on node 'pve1'"),
so the status alone says little. The classes decide what the executor does: retry a
transient failure with backoff, re-read on a conflict, treat "does not exist" as
information, and surface anything else with Proxmox's own message.
"""

from __future__ import annotations

import re

from mycopod.errors import MycoPodError

TRANSIENT_PATTERNS = (
    "got timeout",
    "is locked",
    "got no worker upid",
    "timeout",
    "temporarily unavailable",
    "try again",
)
NOT_FOUND_PATTERNS = ("does not exist", "no such", "not found")
#: a stale digest: the issue's wording, older qemu-server's typo, and PVE::Tools'
#: assert_if_modified ("detected modified configuration - file changed by other user?")
DIGEST_PATTERNS = ("checksum mismatch", "checksum missmatch", "digest mismatch",
                   "detected modified configuration")
CONFLICT_PATTERNS = ("already exists", *DIGEST_PATTERNS)
TRANSIENT_STATUSES = frozenset({503, 595, 596, 597, 598, 599})


class ProxmoxError(MycoPodError):
    """A Proxmox API call failed; ``str()`` is Proxmox's own message."""

    #: Proxmox answered (an HTTP status, whatever it said): what "reachable" means
    reached = True

    def __init__(self, message: str, *, status: int | None = None,
                 method: str = "", path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.path = path


class TransientError(ProxmoxError):
    """Connection errors, 503, 595-599, timeouts, locks: retried with backoff."""


class UnreachableError(TransientError):
    """No answer from Proxmox: connection refused or reset, timeout, name not found."""

    reached = False


class NotFoundError(ProxmoxError):
    """The object does not exist."""


class ConflictError(ProxmoxError):
    """Already exists, or the config digest changed under us."""

    @property
    def checksum_mismatch(self) -> bool:
        text = self.message.lower()
        return any(p in text for p in DIGEST_PATTERNS)


class PermanentError(ProxmoxError):
    """Anything else: the call is wrong or refused; retrying will not help."""


class TlsError(PermanentError):
    """The TLS handshake failed (a certificate not trusted): no answer, not retried."""

    reached = False


class AuthError(PermanentError):
    """Proxmox refused the credentials (401) or the permission (403)."""


class TaskFailed(ProxmoxError):
    """A task ended with an exit status other than OK or WARNINGS."""

    def __init__(self, message: str, *, upid: str, exitstatus: str,
                 log_tail: list[str] | None = None) -> None:
        super().__init__(message)
        self.upid = upid
        self.exitstatus = exitstatus
        self.log_tail = log_tail or []


class TaskTimeout(TransientError):
    """A task did not finish in the time allowed for its kind."""


def classify(status: int | None, message: str) -> type[ProxmoxError]:
    """The error class for an HTTP status and Proxmox's message (pure)."""
    text = message.lower()
    if status in (401, 403):
        return AuthError
    if any(p in text for p in CONFLICT_PATTERNS):
        return ConflictError
    if any(p in text for p in NOT_FOUND_PATTERNS) and "no such task" not in text:
        return NotFoundError
    if status is None or status in TRANSIENT_STATUSES:
        return TransientError
    if any(p in text for p in TRANSIENT_PATTERNS):
        return TransientError
    if status == 404:
        return NotFoundError
    return PermanentError


_UPID_RE = re.compile(r"^UPID:([^:]+):")


def upid_node(upid: str) -> str:
    """The node encoded in a UPID (``UPID:pve1:0000ABCD:...``)."""
    match = _UPID_RE.match(upid)
    if match is None:
        raise PermanentError(f"{upid!r} is not a Proxmox task id (UPID)")
    return match.group(1)
