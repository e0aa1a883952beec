"""GitHub webhook verification: signatures, events, branches, sizes."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from mycopod.declarations.webhook import MAX_BODY, WebhookError, verify_github

SECRET = "s3cret-webhook"


def signed(body: bytes, event: str = "push", secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "X-GitHub-Event": event,
            "X-GitHub-Delivery": "d-1"}


def push(ref: str = "refs/heads/main", after: str = "a" * 40) -> bytes:
    return json.dumps({"ref": ref, "after": after, "before": "b" * 40}).encode()


def test_push_to_the_branch() -> None:
    body = push()
    event = verify_github(signed(body), body, secret=SECRET, branch="main")
    assert (event.kind, event.after, event.ref, event.delivery) == (
        "push", "a" * 40, "refs/heads/main", "d-1")


def test_header_names_are_case_insensitive() -> None:
    body = push()
    headers = {k.lower(): v for k, v in signed(body).items()}
    assert verify_github(headers, body, secret=SECRET, branch="main").kind == "push"


def test_ping() -> None:
    body = b'{"zen": "Keep it logically awesome."}'
    assert verify_github(signed(body, "ping"), body, secret=SECRET, branch="main").kind == "ping"


def test_other_events_and_branches_are_ignored() -> None:
    body = b'{"action": "opened"}'
    event = verify_github(signed(body, "issues"), body, secret=SECRET, branch="main")
    assert (event.kind, event.reason) == ("ignored", "event 'issues' is not used")
    body = push("refs/heads/dev")
    event = verify_github(signed(body), body, secret=SECRET, branch="main")
    assert (event.kind, event.reason) == ("ignored", "push to refs/heads/dev, not to branch 'main'")


def test_deleted_branch_push_has_no_head() -> None:
    body = push(after="0" * 40)
    assert verify_github(signed(body), body, secret=SECRET, branch="main").after is None


@pytest.mark.parametrize(("headers", "secret", "status", "message"), [
    ({"X-GitHub-Event": "push"}, SECRET, 401, "missing X-Hub-Signature-256 header"),
    (signed(push(), secret="other"), SECRET, 401, "bad webhook signature"),
    ({**signed(push()), "X-Hub-Signature-256": "sha1=abc"}, SECRET, 401,
     "bad webhook signature"),
    (signed(push()), None, 401, "webhooks are disabled: no declarations.webhook_secret"),
    (signed(push()), "", 401, "webhooks are disabled"),
])
def test_refused(headers: dict[str, str], secret: str | None, status: int,
                 message: str) -> None:
    with pytest.raises(WebhookError) as info:
        verify_github(headers, push(), secret=secret, branch="main")
    assert info.value.status == status
    assert message in info.value.message


def test_body_over_one_mebibyte_is_refused_before_anything_else() -> None:
    body = b"x" * (MAX_BODY + 1)
    with pytest.raises(WebhookError) as info:
        verify_github({}, body, secret=None, branch="main")
    assert info.value.status == 413
    assert "webhook body too large (1048577 bytes; the limit is 1048576)" == info.value.message


def test_bad_payloads_are_400() -> None:
    body = b"not json"
    with pytest.raises(WebhookError) as info:
        verify_github(signed(body), body, secret=SECRET, branch="main")
    assert info.value.status == 400 and "push payload is not JSON" in info.value.message
    body = b'{"after": "x"}'
    with pytest.raises(WebhookError) as info:
        verify_github(signed(body), body, secret=SECRET, branch="main")
    assert (info.value.status, info.value.message) == (400, "push payload has no 'ref'")
    body = b"{}"
    headers = signed(body)
    del headers["X-GitHub-Event"]
    with pytest.raises(WebhookError) as info:
        verify_github(headers, body, secret=SECRET, branch="main")
    assert (info.value.status, info.value.message) == (400, "missing X-GitHub-Event header")
