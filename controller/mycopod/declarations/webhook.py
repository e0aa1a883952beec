"""GitHub webhook verification: is this request a genuine push to our branch?

Interface: :func:`verify_github` ``(headers, body, *, secret, branch) -> WebhookEvent``,
raising :class:`WebhookError` with the HTTP ``status`` to answer (401, 413 or 400) and a
message. The route (``POST /webhooks/github``, in the API) answers 202 for an ignored
event, 200 for ``ping``/``push`` and triggers an immediate fetch for a push without
waiting for it: the webhook is only a hint, the poll and the fetch decide what is true.

Why so strict: the endpoint is reachable from the internet. Without a configured secret
every request is refused (401), since an unsigned webhook would let anyone make MycoPod
fetch on demand; the signature is an HMAC-SHA256 of the raw body compared in constant
time; bodies over 1 MiB are refused before any work. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from mycopod.errors import MycoPodError
from mycopod.forge.models import PullRequestEvent

__all__ = ["MAX_BODY", "WebhookError", "WebhookEvent", "verify_github"]

#: bodies larger than this are refused with 413
MAX_BODY = 1024 * 1024


class WebhookError(MycoPodError):
    """A webhook request to refuse; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """What a verified request means: ``ping``, a ``push`` to our branch, a
    ``pull_request`` to plan (opened, synchronize, reopened), or ``ignored``."""

    kind: Literal["ping", "push", "pull_request", "ignored"]
    #: the GitHub event name (X-GitHub-Event)
    event: str
    delivery: str | None = None
    #: for a push: the new head commit of the branch (None when the branch was deleted)
    after: str | None = None
    ref: str | None = None
    reason: str = ""
    #: for a pull_request: the payload (typed; GitHub's documented shape)
    pull_request: PullRequestEvent | None = None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lower = name.lower()
    for key, val in headers.items():
        if key.lower() == lower:
            return val
    return None


def verify_github(headers: Mapping[str, str], body: bytes, *, secret: str | None,
                  branch: str) -> WebhookEvent:
    """Verify a GitHub delivery and classify it; raise WebhookError to refuse it."""
    if len(body) > MAX_BODY:
        raise WebhookError(413, f"webhook body too large ({len(body)} bytes; the limit is "
                                f"{MAX_BODY})")
    if not secret:
        raise WebhookError(401, "webhooks are disabled: no declarations.webhook_secret is "
                                "configured")
    signature = _header(headers, "X-Hub-Signature-256")
    if not signature:
        raise WebhookError(401, "missing X-Hub-Signature-256 header (set the webhook secret "
                                "in GitHub)")
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise WebhookError(401, "bad webhook signature (is the same secret configured in "
                                "GitHub and in MycoPod?)")
    event = (_header(headers, "X-GitHub-Event") or "").strip()
    delivery = _header(headers, "X-GitHub-Delivery")
    if not event:
        raise WebhookError(400, "missing X-GitHub-Event header")
    if event == "ping":
        return WebhookEvent("ping", event, delivery)
    if event == "pull_request":
        return _pull_request(body, delivery)
    if event != "push":
        return WebhookEvent("ignored", event, delivery, reason=f"event {event!r} is not used")
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookError(400, f"push payload is not JSON: {exc}") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("ref"), str):
        raise WebhookError(400, "push payload has no 'ref'")
    ref = payload["ref"]
    if ref != f"refs/heads/{branch}":
        return WebhookEvent("ignored", event, delivery, ref=ref,
                            reason=f"push to {ref}, not to branch {branch!r}")
    after = payload.get("after")
    if not isinstance(after, str) or not after.strip("0"):
        after = None  # a deleted branch pushes the all-zero sha
    return WebhookEvent("push", event, delivery, after=after, ref=ref)


def _pull_request(body: bytes, delivery: str | None) -> WebhookEvent:
    try:
        payload = PullRequestEvent.model_validate_json(body)
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        raise WebhookError(400, f"pull_request payload is not as GitHub documents it: "
                                f"{first}") from None
    if not payload.wants_plan:
        return WebhookEvent("ignored", "pull_request", delivery,
                            reason=f"pull request action {payload.action!r} needs no plan")
    return WebhookEvent("pull_request", "pull_request", delivery,
                        after=payload.pull_request.head.sha, pull_request=payload)
