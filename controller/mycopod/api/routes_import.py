"""``POST /declarations/import`` (Admin): a cluster's guests written as declarations.

The same import as ``mycopod import`` (:mod:`mycopod.brownfield.importer`): the chosen
guests of the live cluster as plain-English Markdown that compiles back to what Proxmox
has, one file per pool (or node), each guest declared as already existing. The answer
holds the files; with ``branch`` they are also committed on that new branch of the
declarations repository for review (never on the followed branch).
"""

from __future__ import annotations

import asyncio
import re

import structlog
from pydantic import Field, field_validator

from mycopod.api.errors import ApiError, conflict, unavailable
from mycopod.api.models import Request, Response
from mycopod.api.routing import Call, Endpoint
from mycopod.brownfield import importer
from mycopod.declarations.source import SourceError
from mycopod.errors import MycoPodError
from mycopod.proxmox.client import ProxmoxClient

log = structlog.get_logger(__name__)

_NAME = r"^[A-Za-z0-9_.\-]{1,100}$"


class ImportRequest(Request):
    #: import only these guests (by name); empty: every guest not yet managed
    guests: list[str] = Field(default_factory=list, max_length=2000)
    pool: str | None = Field(None, pattern=_NAME)
    tag: str | None = Field(None, pattern=_NAME)
    node: str | None = Field(None, pattern=_NAME)
    #: commit the files on this new branch for review (the followed branch is refused)
    branch: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/\-]{0,99}$")
    #: the cluster to import from (needed with several clusters)
    cluster: str | None = Field(None, min_length=1, max_length=63)

    @field_validator("guests")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.match(_NAME, name):
                raise ValueError(f"{name[:40]!r} is not a guest name")
        return value


class ImportOut(Response):
    #: file name → Markdown
    files: dict[str, str]
    #: the imported guests' names
    guests: list[str]
    #: guests that could not be described, each with why
    skipped: list[str]
    branch: str | None = None
    commit_sha: str | None = None


async def import_guests(call: Call) -> ImportOut:
    body: ImportRequest = call.body
    cluster, view = call.ctx.one_cluster(body.cluster, what="an import")
    settings, source = view.settings, view.source
    if settings.proxmox.url is None:
        raise ApiError(503, "no_cluster", "no Proxmox cluster is configured (proxmox.url)")
    if body.branch is not None and source is None:
        raise ApiError(503, "no_repository",
                       "no declarations repository is configured (declarations.repo)")
    selection = importer.Selection(guests=tuple(body.guests), pool=body.pool, tag=body.tag,
                                   node=body.node)
    try:
        client = ProxmoxClient.from_settings(settings.proxmox)
    except MycoPodError as exc:
        raise ApiError(503, "no_cluster", f"the Proxmox settings are not usable: {exc}"
                       ) from None
    try:
        result = await importer.import_cluster(
            client, selection=selection, ownership_tag=settings.policy.ownership_tag)
    except (MycoPodError, OSError, TimeoutError) as exc:
        raise unavailable("proxmox_unavailable", "the cluster could not be read; try "
                          "again later", cause=exc) from None
    finally:
        await client.aclose()
    # the files go in the cluster's folder of the repository ("site-a/"; "": the top)
    folder = settings.declarations.path or ""
    files = {f"{folder}{path}": text for path, text in result.files.items()}
    out = ImportOut(files=files, guests=importer.names(result.guests),
                    skipped=result.skipped)
    if body.branch is not None and files:
        user = call.me
        try:
            out.commit_sha = await asyncio.to_thread(
                source.commit_branch, files, branch=body.branch,
                author_name=user.username, author_email=f"{user.username}@mycopod",
                message=f"Import {len(result.guests)} existing guest(s) "
                        f"(requested by {user.username})")
        except SourceError as exc:
            raise conflict(f"the files were not committed on {body.branch!r}: {exc}"
                           ) from None
        out.branch = body.branch
    log.info("declarations.imported", user_id=call.me.id, cluster=cluster,
             guests=len(result.guests),
             files=len(result.files), branch=out.branch)
    return out


ENDPOINTS = [
    Endpoint("POST", "/declarations/import", "importDeclarations",
             "Write the cluster's existing guests as declarations (Admin)",
             "declarations", import_guests, auth="admin", body=ImportRequest,
             response=ImportOut, errors=(403, 409, 503),
             description="The chosen guests (all not yet managed, or by name, pool, tag "
             "or node) as plain-English Markdown that compiles back to what Proxmox has, "
             "one file per pool (or node), each guest declared as already existing. With "
             "branch, the files are also committed on that new branch of the "
             "declarations repository for review; 409 when the branch exists or is the "
             "followed one. With several clusters, cluster names the one to read (422 "
             "when missing or unknown); the files are named in its folder."),
]
