"""The forge MycoPod reports to: reachable, the token accepted, the repository there, and
whether the token may write the commit statuses and comments (``GET
/repos/{owner}/{repo}``, one attempt). Checked for ``[forge]`` and for each cluster's own
``[clusters.forge]``."""

from __future__ import annotations

from mycopod.config_gitops import ForgeSettings
from mycopod.doctor.report import Finding, fail, ok, warn
from mycopod.forge.client import ForgeClient, ForgeError

__all__ = ["check_forge"]

WRITE = ("give the token write access to the repository's commit statuses and pull "
         "requests (GitHub fine-grained token: 'Commit statuses' and 'Pull requests' read "
         "and write; classic token: the repo scope; Gitea: a token of a user who may write)")


async def check_forge(forge: ForgeSettings, *, check: str = "forge",
                      table: str = "[forge]") -> Finding:
    """One finding for the forge of ``table`` (its settings ``forge``, enabled)."""
    client = ForgeClient(forge.model_copy(update={"attempts": 1}))
    where = f"{forge.repository} at {forge.api_url}"
    try:
        repo = await client.repository_access()
    except ForgeError as exc:
        if exc.status == 401:
            return fail(check, f"the forge refused the token of {table} (HTTP 401) for "
                        f"{where}", f"set a valid token in {table} (token, token_file or "
                        "its credential); " + WRITE)
        if exc.status in (403, 404):
            return fail(check, f"{where} is not found, or the token of {table} may not see "
                        f"it (HTTP {exc.status})", f"check repository (owner/name) in {table}"
                        " and that its token has access to that repository")
        return fail(check, f"could not reach the forge of {table} ({where}): {exc}",
                    f"check api_url in {table} (GitHub: https://api.github.com; Gitea or "
                    "Forgejo: https://HOST/api/v1) and that this machine reaches it")
    finally:
        await client.aclose()
    if repo.can_push is False:
        return warn(check, f"the token of {table} may read {repo.full_name} but not write "
                    "to it: its commit statuses and pull-request comments will be refused",
                    WRITE)
    may = "" if repo.can_push is None else ", and the token may write to it"
    return ok(check, f"{table}: {repo.full_name} at {forge.api_url} answers{may}")
