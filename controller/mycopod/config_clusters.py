"""Several Proxmox clusters in one deployment: ``[[clusters]]`` (issue 17).

Each entry names a cluster, gives its own ``[clusters.proxmox]`` and says which
declarations it owns: a folder of the ``[declarations]`` repository (``path``), or its own
``repo`` and ``branch``; ``policy`` overrides some of ``[policy]`` for that cluster. The
old single ``[proxmox]`` stays valid and is the cluster named by its ``cluster`` setting
(``default``). :mod:`mycopod.config` builds one :class:`~mycopod.config.Settings` per
cluster from these (``Settings.per_cluster``); the daemon runs one unit per cluster.

Here too (apart from ``config.py`` to keep modules small): the Proxmox group, which
both the single ``[proxmox]`` and every ``[clusters.proxmox]`` use, and the checks of
the entries together (names, paths).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from mycopod.config_base import _Group
from mycopod.config_gitops import ForgeSettings

__all__ = ["CLUSTER_NAME_MAX", "ClusterForgeSettings", "ClusterSettings", "MissingSecret",
           "ProxmoxSettings", "check_clusters", "cluster_credential", "cluster_env",
           "cluster_forge", "normal_path", "secret_hint", "state_name"]

#: a cluster name is at most this long (the column ``cluster`` is VARCHAR(63))
CLUSTER_NAME_MAX = 63


class MissingSecret(ValueError):
    """A secret a group needs is not set; ``key`` names it (its hint is per cluster)."""

    def __init__(self, key: str, why: str, group: str = "proxmox",
                 cluster: str | None = None) -> None:
        super().__init__(f"{key} is required {why} ({secret_hint(key, group, cluster)})")
        self.key, self.why, self.group = key, why, group


def cluster_env(cluster: str, group: str | None, key: str) -> str:
    """The environment variable of a cluster's secret: MYCOPOD_CLUSTERS__SITE_A__PROXMOX__
    TOKEN_SECRET (the name upper-cased, anything but letters and digits as ``_``)."""
    name = re.sub(r"[^A-Z0-9]", "_", cluster.upper())
    middle = f"{group.upper()}__" if group else ""
    return f"MYCOPOD_CLUSTERS__{name}__{middle}{key.upper()}"


def cluster_credential(cluster: str, group: str | None, key: str) -> str:
    """The systemd credential (file in $CREDENTIALS_DIRECTORY) of a cluster's secret:
    clusters_site-a_proxmox_token_secret."""
    middle = f"{group}_" if group else ""
    return f"clusters_{state_name(cluster)}_{middle}{key}"


def secret_hint(key: str, group: str | None, cluster: str | None) -> str:
    """How to set a secret, for an error message."""
    if cluster is None:
        return f"set {group}.{key}, {group}.{key}_file or MYCOPOD_{str(group).upper()}__" \
               f"{key.upper()}"
    table = f"[clusters.{group}]" if group else "[[clusters]] entry"
    return (f"set {key} or {key}_file in its {table}, the environment variable "
            f"{cluster_env(cluster, group, key)} or the systemd credential "
            f"{cluster_credential(cluster, group, key)}")


class ProxmoxSettings(_Group):
    _secrets = ("token_secret", "password")
    #: https://pve.example.lan:8006 ; unset: no cluster configured (make demo starts the simulator)
    url: str | None = None
    token_id: str | None = None
    token_secret: SecretStr | None = None
    token_secret_file: Path | None = None
    user: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    verify_tls: bool = True
    ca_file: Path | None = None
    timeout: float = Field(30.0, gt=0)
    #: name of this cluster in the inventory and in the leader lock
    cluster: str = Field("default", min_length=1, max_length=CLUSTER_NAME_MAX)
    #: size of the thread pool that runs blocking proxmoxer calls
    max_workers: int = Field(16, ge=1, le=256)

    @model_validator(mode="after")
    def _auth_complete(self) -> ProxmoxSettings:
        if self.token_id and self.token_secret is None:
            raise MissingSecret("token_secret", "when token_id is set")
        if self.token_id and "!" not in self.token_id:
            raise ValueError("token_id must look like USER@REALM!TOKENID, e.g. root@pam!mycopod")
        if self.user and not self.token_id and self.password is None:
            raise MissingSecret("password", "when user is set and no token_id is given")
        if self.url and not (self.token_id or self.user):
            raise ValueError("proxmox.url is set but neither token_id nor user is given")
        if self.ca_file is not None and not self.ca_file.is_file():
            raise ValueError(f"ca_file {self.ca_file} does not exist")
        return self


class ClusterForgeSettings(_Group):
    """``[clusters.forge]``: the forge repository of a cluster's own ``repo``, where its
    pull requests are planned (comment and ``mycopod/plan/<name>`` status). ``api_url``
    and ``token`` default to ``[forge]``'s; ``[forge]`` ``kind`` and the rest are shared."""

    _secrets = ("token",)
    #: "owner/name" of the cluster's repository on the forge; unset: its pull requests
    #: are not planned
    repository: str | None = Field(None, pattern=r"^[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+$")
    #: unset: [forge] api_url
    api_url: str | None = None
    #: unset: [forge] token
    token: SecretStr | None = None
    token_file: Path | None = None


def normal_path(path: str) -> str:
    """``site-a``, ``./site-a/`` -> ``site-a/``; ValueError for a path that is not a
    folder inside the repository."""
    text = path.strip().replace("\\", "/")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if text.startswith("/") or ".." in parts or not parts:
        raise ValueError(f"path {path!r} must be a folder inside the repository, "
                         "such as \"site-a/\"")
    return "/".join(parts) + "/"


def state_name(cluster: str) -> str:
    """A file name for things kept per cluster in state_dir (its clone): the name with
    anything but letters, digits, ``-`` and ``_`` replaced."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", cluster)


class ClusterSettings(_Group):
    """One ``[[clusters]]`` entry."""

    _secrets = ("webhook_secret", "token")
    name: str = Field(min_length=1, max_length=CLUSTER_NAME_MAX)
    proxmox: ProxmoxSettings = Field(default_factory=ProxmoxSettings)
    #: the folder of the [declarations] repository this cluster's declarations are in
    path: str | None = None
    #: or a repository of its own (then [declarations] repo may be unset)
    repo: str | None = None
    #: the branch of ``repo`` (default: [declarations] branch)
    branch: str | None = Field(None, min_length=1)
    #: [policy] settings that differ for this cluster
    policy: dict[str, Any] = Field(default_factory=dict)
    #: with its own ``repo``: the secret its push webhooks are signed with (delivered to
    #: /webhooks/github?cluster=NAME); unset: the [declarations] webhook_secret
    webhook_secret: SecretStr | None = None
    webhook_secret_file: Path | None = None
    #: with its own ``repo``: the token its https remote is fetched with (sent as the
    #: password of basic auth, as [declarations] token); unset: the [declarations] token
    token: SecretStr | None = None
    token_file: Path | None = None
    #: with its own ``repo``: where its pull requests are planned (the forge of [forge])
    forge: ClusterForgeSettings = Field(default_factory=ClusterForgeSettings)

    @field_validator("proxmox", mode="wrap")
    @classmethod
    def _own_proxmox(cls, value: Any, handler: ValidatorFunctionWrapHandler,
                     info: ValidationInfo) -> Any:
        """A missing secret names this cluster's ways to set it."""
        try:
            return handler(value)
        except ValidationError as exc:
            cause = exc.errors()[0].get("ctx", {}).get("error")
            name = info.data.get("name")
            if isinstance(cause, MissingSecret) and isinstance(name, str):
                raise MissingSecret(cause.key, cause.why, cause.group, name) from None
            raise

    @field_validator("path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        return normal_path(value) if value is not None else None

    @model_validator(mode="after")
    def _named_proxmox(self) -> ClusterSettings:
        if self.proxmox.cluster not in ("default", self.name):
            raise ValueError(f"proxmox.cluster is {self.proxmox.cluster!r} but the entry is "
                             f"named {self.name!r}; leave proxmox.cluster out")
        self.proxmox = self.proxmox.model_copy(update={"cluster": self.name})
        if self.repo is None:
            own = ["token"] if self.token is not None else []
            if self.forge.model_dump(exclude_defaults=True):
                own.append("forge")
            if own:
                raise ValueError(f"{own[0]} is for a cluster with its own repo; this one "
                                 "reads the [declarations] repository (with its settings): "
                                 f"set repo, or leave {own[0]} out")
        return self


def cluster_forge(forge: ForgeSettings, entry: ClusterSettings) -> ForgeSettings:
    """The forge a cluster's pull requests are planned on: ``[forge]`` for a cluster
    reading the ``[declarations]`` repository; for one with its own ``repo``, its
    ``[clusters.forge]`` repository (unset: none, its pull requests are not planned) with
    that table's api_url and token, else ``[forge]``'s."""
    if entry.repo is None:
        return forge
    own = entry.forge
    return forge.model_copy(update={"repository": own.repository,
                                    "api_url": own.api_url or forge.api_url,
                                    "token": own.token or forge.token})


def check_clusters(clusters: Sequence[ClusterSettings], *, proxmox_given: bool,
                   repo: str | None, branch: str, forge: ForgeSettings | None = None) -> None:
    """The entries together: ValueError naming what is wrong and how to fix it."""
    if not clusters:
        return
    if forge is not None:
        _check_forges(clusters, forge, repo)
    if proxmox_given:
        raise ValueError("clusters: both [proxmox] and [[clusters]] are given; move the "
                         "[proxmox] settings into a [[clusters]] entry's [clusters.proxmox] "
                         "(or drop [[clusters]] for a single cluster)")
    seen: set[str] = set()
    for entry in clusters:
        if entry.name in seen:
            raise ValueError(f"clusters: the name {entry.name!r} is used by two entries; "
                             "every [[clusters]] entry needs a name of its own")
        seen.add(entry.name)
    urls: dict[str, str] = {}
    for entry in clusters:
        url = (entry.proxmox.url or "").strip().rstrip("/").lower()
        if url and url in urls:
            raise ValueError(f"clusters: {urls[url]!r} and {entry.name!r} have the same "
                             f"proxmox.url {entry.proxmox.url!r}; one Proxmox cluster is "
                             "one [[clusters]] entry")
        urls.setdefault(url, entry.name)
    owned: list[tuple[str, tuple[str | None, str], str]] = []
    for entry in clusters:
        source = (entry.repo or repo, entry.branch or branch)
        if source[0] is None:
            if entry.path is not None:
                raise ValueError(f"clusters: {entry.name!r} sets path {entry.path!r} but "
                                 "[declarations] repo is not set; set it, or give the "
                                 "cluster its own repo")
            continue
        mine = entry.path or ""
        for other, other_source, theirs in owned:
            if other_source == source and (mine.startswith(theirs)
                                           or theirs.startswith(mine)):
                what = (f"paths {theirs or '(the whole repository)'!r} and "
                        f"{mine or '(the whole repository)'!r}")
                raise ValueError(f"clusters: {other!r} and {entry.name!r} would both own "
                                 f"declarations ({what} overlap in {source[0]} "
                                 f"branch {source[1]}); give each cluster a folder of "
                                 "its own (path = \"site-a/\") or its own repo")
        owned.append((entry.name, source, mine))


def _check_forges(clusters: Sequence[ClusterSettings], forge: ForgeSettings,
                  repo: str | None) -> None:
    """Each forge repository a pull request is planned on holds the commits of one git
    repository: a comment or status posted for another repository's commits would land
    on the wrong pull request, or on none."""
    holds: dict[tuple[str | None, str], tuple[str, str | None]] = {}
    if forge.repository is not None and forge.api_url:
        holds[(forge.api_url.rstrip("/"), forge.repository.lower())] = ("[forge]", repo)
    for entry in clusters:
        if entry.forge.repository is None:
            continue
        mine = cluster_forge(forge, entry)
        if not mine.enabled:
            raise ValueError(f"clusters: {entry.name!r} sets forge.repository but has no "
                             "forge api_url and token; set [forge] api_url and token (or "
                             "api_url and token in its [clusters.forge])")
        key = ((mine.api_url or "").rstrip("/"), entry.forge.repository.lower())
        owner, source = holds.setdefault(key, (f"cluster {entry.name!r}", entry.repo))
        if source != entry.repo:
            raise ValueError(f"clusters: {entry.name!r} plans its pull requests on forge "
                             f"repository {entry.forge.repository!r}, which {owner} already "
                             f"uses for {source or 'the [declarations] repository'}; a forge "
                             f"repository holds one git repository's commits: set "
                             f"{entry.name!r}'s [clusters.forge] repository to the forge "
                             f"repository of {entry.repo}")
