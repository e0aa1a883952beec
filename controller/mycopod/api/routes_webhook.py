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
from mycopod.api.models import WebhookQuery, WebhookResult
from mycopod.api.routing import Call, Endpoint, ok_response, read_body
from mycopod.config import DeclarationsSettings
from mycopod.declarations import webhook
from mycopod.store import wakeups

log = structlog.get_logger(__name__)
_CODES = {400: "bad_request", 401: "unauthorized", 413: "too_large"}


def _addressed(call: Call) -> tuple[str | None, DeclarationsSettings, list[str]]:
    """The cluster a delivery names (``?cluster=``; None: the [declarations] repository),
    the settings it is verified with, and the clusters a push to it wakes."""
    asked = call.query.cluster if call.query is not None else None
    views = call.ctx.views()
    if asked is None:
        # clusters with a webhook secret of their own take their pushes at ?cluster=NAME
        own = {c.name for c in call.ctx.settings.clusters if c.webhook_secret is not None}
        return None, call.ctx.settings.declarations, [n for n in views if n not in own]
    if asked not in views:
        log.warning("webhook.refused", status=400, reason="unknown cluster", cluster=asked,
                    client=call.request.remote)
        raise ApiError(400, "bad_request", f"cluster {asked!r} is not configured here; "
                       "point the webhook at /webhooks/github?cluster=NAME with a "
                       "configured cluster's name")
    return asked, views[asked].settings.declarations, [asked]


async def github(call: Call) -> web.Response:
    cluster, settings, woken = _addressed(call)
    body = await read_body(call.request, webhook.MAX_BODY)
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    try:
        event = webhook.verify_github(call.request.headers, body, secret=secret,
                                      branch=settings.branch)
    except webhook.WebhookError as exc:
        log.warning("webhook.refused", status=exc.status, reason=exc.message,
                    client=call.request.remote, cluster=cluster)
        raise ApiError(exc.status, _CODES.get(exc.status, "bad_request"), exc.message) from None
    if event.kind == "push":
        # each cluster this repository feeds looks (each reads its own folder or
        # repository); on a standby, each cluster's leader fetches (this replica's pollers
        # queue nothing)
        views = call.ctx.views()
        for name in woken:
            views[name].runtime.wake_fetch.set()
        await wakeups.notify_many(call.ctx.pool, wakeups.FETCH, woken)
    if event.kind == "pull_request":
        event = _pull_request(call, event, cluster)
    log.info("webhook.received", kind=event.kind, github_event=event.event, cluster=cluster,
             delivery=event.delivery,
             after=event.after)
    result = WebhookResult(accepted=event.kind != "ignored", event=event.event,
                           detail=event.reason or event.after)
    return ok_response(GITHUB.adapter, result, status=202 if event.kind == "ignored" else 200)


def _pull_request(call: Call, event: webhook.WebhookEvent,
                  cluster: str | None) -> webhook.WebhookEvent:
    """Hand a pull request to the planner of the repository the delivery is for: the
    [declarations] one, or (``?cluster=``) that cluster's own (mycopod.forge.pr_own)."""
    pr = event.pull_request
    assert pr is not None
    planner = call.ctx.pr_plans if cluster is None else call.ctx.cluster_pr_plans.get(cluster)
    if planner is None and cluster is not None:
        own = any(c.name == cluster and c.repo is not None for c in call.ctx.settings.clusters)
        why = (f"pull-request plans of the repository of cluster {cluster!r} are off "
               "(set repository in its [clusters.forge], with [forge] api_url and token)"
               if own
               else "pull-request plans of the [declarations] repository follow its webhook "
               "(/webhooks/github without ?cluster)")
        return dataclasses.replace(event, kind="ignored", reason=why)
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
    auth="public", query=WebhookQuery, response=WebhookResult, errors=(400, 401, 413),
    also=(202,), raw_body=True,
    needs_conn=False,
    description="Signed with X-Hub-Signature-256 (HMAC-SHA256 of the body with "
    "declarations.webhook_secret; with ?cluster=NAME, a push to that cluster's own "
    "repository, signed with its webhook_secret, which wakes that cluster only). 200 for "
    "ping and for a push to the configured branch "
    "(which triggers an immediate fetch), 200 for a pull_request opened, synchronize or "
    "reopened (planned and commented on, with [forge]; with ?cluster=NAME, on that "
    "cluster's own repository, with its [clusters.forge]), 202 for an event that is ignored, "
    "401 for a "
    "missing or bad signature or when no secret is configured.")

ENDPOINTS = [GITHUB]
