"""The checks of one cluster, and of each ``[[clusters]]`` entry (issue 17).

:func:`one_cluster` is what ``mycopod doctor`` checks of a cluster: its repository (with
its git token), the declarations at its head, its Proxmox (reachable, the token, the
privileges, the clocks, what the declarations refer to). With ``[[clusters]]``,
:func:`each_cluster` runs it on every cluster's own settings (``Settings.per_cluster``:
its folder or own repository, its token, its Proxmox) and names the cluster in every
finding (check ``clusters.<name>.proxmox.auth``, message ``cluster 'b': ...``, the fix
naming that cluster's keys, variables and credentials); a cluster with its own
repository also has its webhook secret and its pull-request forge checked (the forge
answers, the token may write: :mod:`mycopod.doctor.forge`), as ``[forge]`` is.
"""

from __future__ import annotations

import dataclasses
import re

from mycopod.config import Settings
from mycopod.config_clusters import cluster_credential, cluster_env
from mycopod.doctor import local, proxmox
from mycopod.doctor.forge import check_forge
from mycopod.doctor.report import Finding, fail, ok, warn

__all__ = ["each_cluster", "one_cluster", "shared"]


async def one_cluster(settings: Settings) -> list[Finding]:
    """Repository, declarations, Proxmox and references (the [declarations] repository's
    webhook and [forge] are :func:`shared`'s)."""
    found, files = await local.check_repository(settings)
    spec = None
    if files is not None:
        compiled, spec = await local.compile_head(settings, files)
        found += compiled
    try:
        found += await proxmox.check(settings.proxmox, spec)
    except proxmox.ApiFailure as exc:  # a call after the token worked
        found.append(fail("proxmox", f"an API call failed: {exc}",
                          "see the line above; grant the privileges MycoPod needs"))
    if spec is None and settings.proxmox.url and files is not None:
        found.append(warn("references", "not checked: the declarations do not compile"))
    return found


async def shared(settings: Settings) -> list[Finding]:
    """What every cluster reading the [declarations] repository shares: its webhook
    secret and the [forge] its pull requests and statuses go to."""
    # with [[clusters]], only when some cluster reads the [declarations] repository
    found = (local.check_webhook(settings)
             if settings.declarations.repo or not settings.clusters else [])
    if settings.forge.enabled:
        found.append(await check_forge(settings.forge))
    return found


def _keys(name: str, own_repo: bool) -> list[tuple[str, str]]:
    """(global wording, this cluster's) in the fixes of the single-cluster checks."""
    def secret(group: str | None, key: str) -> str:
        return (f"the variable {cluster_env(name, group, key)} or the credential "
                f"{cluster_credential(name, group, key)}")

    table = f"[clusters.proxmox] of {name!r}"
    pairs = [("the proxmox_token_secret credential", secret("proxmox", "token_secret")),
             ("the proxmox_password credential", secret("proxmox", "password")),
             ("[proxmox]", table), ("proxmox.", f"{table} ")]
    if own_repo:
        pairs += [("[declarations] repo, branch and the declarations_token credential",
                   f"repo and branch of [[clusters]] {name!r} and its git token (token, "
                   f"token_file, {secret(None, 'token')}; unset: the [declarations] one)")]
    else:
        pairs += [("[declarations] repo", f"[declarations] repo and the path of {name!r}")]
    return pairs


def _named(name: str, own_repo: bool, finding: Finding) -> Finding:
    fix = finding.fix
    for old, new in _keys(name, own_repo):
        fix = fix.replace(old, new)
    fix = re.sub(r"\s+", " ", fix)
    return dataclasses.replace(finding, check=f"clusters.{name}.{finding.check}",
                               message=f"cluster {name!r}: {finding.message}", fix=fix)


def _own_webhook(settings: Settings, name: str) -> Finding:
    entry = next(c for c in settings.clusters if c.name == name)
    check = f"clusters.{name}.webhook"
    how = (f"write a random secret (openssl rand -hex 32) to webhook_secret_file of "
           f"[[clusters]] {name!r}, {cluster_env(name, None, 'webhook_secret')} or the "
           f"credential {cluster_credential(name, None, 'webhook_secret')}, and give it to "
           f"that repository's webhook (/webhooks/github?cluster={name})")
    if entry.webhook_secret is not None:
        return ok(check, f"cluster {name!r}: its repository's webhook secret is set")
    if settings.declarations.webhook_secret is not None:
        return warn(check, f"cluster {name!r} has its own repo but no webhook_secret of its "
                    "own: its webhooks are checked with the [declarations] secret", how)
    api = settings.api
    if local._public(api.host) or bool(api.trusted_proxies):
        return fail(check, f"cluster {name!r} has its own repo and no webhook secret, and "
                    f"the API is reachable from other machines ({api.host})", how)
    return warn(check, f"cluster {name!r} has its own repo and no webhook secret: its "
                "pushes are seen by polling only", how)


async def _own_forge(settings: Settings, cluster: Settings) -> Finding | None:
    name = cluster.proxmox.cluster
    check = f"clusters.{name}.forge"
    forge = cluster.forge
    if forge.enabled:
        found = await check_forge(forge, check=check, table=f"[clusters.forge] of {name!r}")
        return dataclasses.replace(found, message=f"cluster {name!r}: {found.message}")
    if settings.forge.enabled:
        return warn(check, f"cluster {name!r}: pull requests on its own repo are not "
                    "planned (no [clusters.forge] repository)",
                    f"set repository (owner/name) in the [clusters.forge] of {name!r}")
    return None


async def each_cluster(settings: Settings) -> list[Finding]:
    """The checks of every ``[[clusters]]`` entry, each finding naming its cluster."""
    found = await shared(settings)
    for cluster in settings.per_cluster():
        name = cluster.proxmox.cluster
        entry = next(c for c in settings.clusters if c.name == name)
        own = entry.repo is not None
        found += [_named(name, own, f) for f in await one_cluster(cluster)]
        if own:
            found.append(_own_webhook(settings, name))
            forge = await _own_forge(settings, cluster)
            if forge is not None:
                found.append(forge)
    return found
