"""``POST /webhooks/github``: a push is a hint to fetch the declarations repo now; a
pull request (opened, synchronize, reopened) is planned and commented on
(:mod:`mycopod.forge.pr_plans`, with ``[forge]``), off the request.

Verification is :func:`mycopod.declarations.webhook.verify_github` (signature over the
raw body, the configured secret, our branch). A verified push only sets the runtime's
``wake_fetch`` event: the poller then fetches and decides what is true, so a replayed or
stale delivery can at worst cause one extra fetch.
"""

from __future__ import annotations

import dataclasses

import structlog
from aiohttp import web

from mycopod.api.errors import ApiError
from mycopod.api.models import WebhookResult
from mycopod.api.routing import Call, Endpoint, ok_response, read_body
from mycopod.declarations import webhook
from mycopod.store import wakeups

log = structlog.get_logger(__name__)
_CODES = {400: "bad_request", 401: "unauthorized", 413: "too_large"}


async def github(call: Call) -> web.Response:
    settings = call.ctx.settings.declarations
    body = await read_body(call.request, webhook.MAX_BODY)
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    try:
        event = webhook.verify_github(call.request.headers, body, secret=secret,
                                      branch=settings.branch)
    except webhook.WebhookError as exc:
        log.warning("webhook.refused", status=exc.status, reason=exc.message,
                    client=call.request.remote)
        raise ApiError(exc.status, _CODES.get(exc.status, "bad_request"), exc.message) from None
    if event.kind == "push":
        # every cluster looks (each reads its own folder or repository); on a standby,
        # each cluster's leader fetches (this replica's pollers queue nothing)
        for name, view in call.ctx.views().items():
            view.runtime.wake_fetch.set()
            await wakeups.notify(call.ctx.pool, wakeups.FETCH, name)
    if event.kind == "pull_request":
        event = _pull_request(call, event)
    log.info("webhook.received", kind=event.kind, github_event=event.event,
             delivery=event.delivery,
             after=event.after)
    result = WebhookResult(accepted=event.kind != "ignored", event=event.event,
                           detail=event.reason or event.after)
    return ok_response(GITHUB.adapter, result, status=202 if event.kind == "ignored" else 200)


def _pull_request(call: Call, event: webhook.WebhookEvent) -> webhook.WebhookEvent:
    pr = event.pull_request
    assert pr is not None
    planner = call.ctx.pr_plans
    if planner is None:
        return dataclasses.replace(event, kind="ignored", reason="pull-request plans are off "
                                   "(configure [forge])")
    if not planner.submit(pr.number, pr.pull_request.head.sha):
        return dataclasses.replace(event, kind="ignored", reason="too many pull requests "
                                   "waiting to be planned")
    return dataclasses.replace(event, reason=f"planning pull request {pr.number} at "
                               f"{pr.pull_request.head.sha}")


GITHUB = Endpoint(
    "POST", "/webhooks/github", "githubWebhook", "GitHub push webhook", "webhooks", github,
    auth="public", response=WebhookResult, errors=(400, 401, 413), also=(202,), raw_body=True,
    needs_conn=False,
    description="Signed with X-Hub-Signature-256 (HMAC-SHA256 of the body with "
    "declarations.webhook_secret). 200 for ping and for a push to the configured branch "
    "(which triggers an immediate fetch), 200 for a pull_request opened, synchronize or "
    "reopened (planned and commented on, with [forge]), 202 for an event that is ignored, "
    "401 for a "
    "missing or bad signature or when no secret is configured.")

ENDPOINTS = [GITHUB]
