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

from pydantic import Field, SecretStr, field_validator, model_validator

from mycopod.config_base import _Group

__all__ = ["CLUSTER_NAME_MAX", "ClusterSettings", "ProxmoxSettings", "check_clusters",
           "normal_path", "state_name"]

#: a cluster name is at most this long (the column ``cluster`` is VARCHAR(63))
CLUSTER_NAME_MAX = 63


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
            raise ValueError(
                "token_secret is required when token_id is set "
                "(set proxmox.token_secret, proxmox.token_secret_file or "
                "MYCOPOD_PROXMOX__TOKEN_SECRET)"
            )
        if self.token_id and "!" not in self.token_id:
            raise ValueError("token_id must look like USER@REALM!TOKENID, e.g. root@pam!mycopod")
        if self.user and not self.token_id and self.password is None:
            raise ValueError(
                "password is required when user is set and no token_id is given "
                "(set proxmox.password, proxmox.password_file or MYCOPOD_PROXMOX__PASSWORD)"
            )
        if self.url and not (self.token_id or self.user):
            raise ValueError("proxmox.url is set but neither token_id nor user is given")
        if self.ca_file is not None and not self.ca_file.is_file():
            raise ValueError(f"ca_file {self.ca_file} does not exist")
        return self


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
        return self


def check_clusters(clusters: Sequence[ClusterSettings], *, proxmox_given: bool,
                   repo: str | None, branch: str) -> None:
    """The entries together: ValueError naming what is wrong and how to fix it."""
    if not clusters:
        return
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
