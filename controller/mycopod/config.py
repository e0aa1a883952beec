"""Settings: a TOML file, then ``MYCOPOD_<GROUP>__<KEY>`` environment variables, then secrets.

Later sources override earlier ones. Secrets (tokens, passwords, keys) can be given
inline, through a ``<key>_file`` setting, or as systemd credentials: a file named
``<group>_<key>`` (for example ``proxmox_token_secret``) in ``$CREDENTIALS_DIRECTORY``.
A secret file must not be readable by group or others, like an ssh key.

Every problem stops start-up with one :class:`~mycopod.errors.ConfigError` line that
names the key and says what is wrong; unknown keys are refused with a suggestion, since
a misspelt ``prune`` silently falling back to its default is exactly the kind of
surprise a reconciler must not have.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from mycopod import config_sources
from mycopod.config_base import _Group, _read_secret_file
from mycopod.config_clusters import (
    ClusterSettings,
    ProxmoxSettings,
    check_clusters,
    cluster_forge,
    normal_path,
)
from mycopod.config_gitops import ForgeSettings, NotifySettings, Window
from mycopod.errors import ConfigError

__all__ = [
    "ApiSettings",
    "ApplySettings",
    "ClusterSettings",
    "CompileSettings",
    "CredentialsSettings",
    "DatabaseSettings",
    "DeclarationsSettings",
    "LlmSettings",
    "LoggingSettings",
    "PolicySettings",
    "ProxmoxSettings",
    "Settings",
    "load_settings",
]

ENV_PREFIX = "MYCOPOD_"
#: environment variables with our prefix that are not settings
NON_SETTING_ENV = {"MYCOPOD_CONFIG", "MYCOPOD_TEST_DATABASE_URL", "MYCOPOD_MIGRATIONS_DIR"}
#: default of ``declarations.max_guests``, also used where no settings are at hand
DEFAULT_MAX_GUESTS = 2000


class DatabaseSettings(_Group):
    _secrets = ("password",)
    #: postgresql://user@host:port/db; unset: start the embedded PostgreSQL in state_dir
    url: str | None = None
    #: seconds to keep retrying an unreachable database at start-up
    connect_timeout: float = Field(30.0, gt=0)
    password: SecretStr | None = None
    password_file: Path | None = None
    pool_min_size: int = Field(1, ge=0)
    pool_max_size: int = Field(10, ge=1)
    #: seconds between checks that the database takes connections (else restart embedded)
    check_seconds: float = Field(2.0, gt=0)
    #: seconds a check (connect and SELECT 1) may take before the database counts as down
    check_timeout: float = Field(2.0, gt=0)
    #: the embedded server is restarted at once, then with exponential backoff up to
    #: this many seconds between attempts
    restart_max_seconds: float = Field(60.0, ge=1)


class DeclarationsSettings(_Group):
    _secrets = ("webhook_secret", "token")
    _reloadable = ("poll_seconds",)
    #: local path or URL (file://, https://, ssh) of the declarations repository
    repo: str | None = None
    branch: str = Field("main", min_length=1)
    #: the folder of the repository the declarations are in (default: all of it); a
    #: [[clusters]] entry sets its own
    path: str | None = None
    glob: str = Field("**/*.md", min_length=1)
    poll_seconds: float = Field(30.0, gt=0)
    webhook_secret: SecretStr | None = None
    webhook_secret_file: Path | None = None
    #: token for https remotes (sent as the password of basic auth)
    token: SecretStr | None = None
    token_file: Path | None = None
    #: most guests the declarations of one commit may hold; more is a compile error
    max_guests: int = Field(DEFAULT_MAX_GUESTS, ge=1)

    @model_validator(mode="after")
    def _normal_path(self) -> DeclarationsSettings:
        if self.path is not None:
            try:
                self.path = normal_path(self.path)
            except ValueError as exc:
                raise ValueError(f"path: {exc}") from None
        return self


class LlmSettings(_Group):
    _secrets = ("api_key",)
    #: any litellm model string (ollama/llama3.1, openai/gpt-4o-mini); unset: LLM off
    model: str | None = None
    api_base: str | None = None
    api_key: SecretStr | None = None
    api_key_file: Path | None = None
    timeout: float = Field(60.0, gt=0)


class ApiSettings(_Group):
    _secrets = ("jwt_secret", "metrics_token")
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    #: HS256 key; unset: generated into state_dir/jwt_secret on first start
    jwt_secret: SecretStr | None = None
    jwt_secret_file: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    access_token_seconds: int = Field(900, ge=30)
    refresh_token_seconds: int = Field(7 * 24 * 3600, ge=60)
    #: bearer token required on /metrics when set
    metrics_token: SecretStr | None = None
    metrics_token_file: Path | None = None
    #: client addresses or networks allowed on /metrics; empty: anyone
    metrics_allow: list[str] = Field(default_factory=list)
    #: proxies whose X-Forwarded-For is trusted (for rate limiting only)
    trusted_proxies: list[str] = Field(default_factory=list)
    #: general per-client request limit
    rate_limit_per_minute: int = Field(1200, ge=1)

    @model_validator(mode="after")
    def _tls_pair(self) -> ApiSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key must be given together")
        return self


class PolicySettings(_Group):
    _reloadable = "all"
    ownership_tag: str = Field("mycopod", pattern=r"^[a-z0-9_][a-z0-9_\-+.]*$")
    prune: bool = False
    adopt_existing: bool = False
    adopt_needs_approval: bool = True
    llm_changes_need_approval: bool = True  # a change from an LLM-compiled paragraph waits
    auto_approve_destructive: bool = False
    max_deletions_per_run: int = Field(1, ge=0)
    #: more guests created in one run than this wait for approval, auto-approve or not
    max_creates_per_run: int = Field(50, ge=0)
    #: deletions within budget_window_seconds (this run's too) beyond which a run waits
    max_deletions_per_window: int = Field(1, ge=0)
    #: the same budget for guests created
    max_creates_per_window: int = Field(200, ge=0)
    budget_window_seconds: int = Field(3600, ge=1, le=366 * 24 * 3600)
    restart_on_change: bool = False
    self_heal: bool = True
    users_can_reconcile: bool = False
    four_eyes: bool = False
    #: vmids MycoPod allocates from (inclusive); unset: above the highest id in use
    vmid_min: int | None = Field(None, ge=100, le=999_999_999)
    vmid_max: int | None = Field(None, ge=100, le=999_999_999)
    #: nothing is applied while on (commits still compile, drift is still reported)
    suspended: bool = False
    #: maintenance windows (allow / deny, cron, duration, time zone); docs/gitops.md
    windows: list[Window] = Field(default_factory=list)


class ApplySettings(_Group):
    _reloadable = ("drift_seconds", "resync_seconds", "grace_seconds", "max_parallel",
                   "per_node_parallel", "task_timeout_seconds", "claim_poll_seconds")
    max_parallel: int = Field(4, ge=1, le=256)
    per_node_parallel: int = Field(2, ge=1, le=256)
    resync_seconds: float = Field(600.0, gt=0)
    drift_seconds: float = Field(60.0, gt=0)
    task_timeout_seconds: float = Field(900.0, gt=0)
    #: how long SIGTERM waits for a running action before cutting the run
    grace_seconds: float = Field(30.0, ge=0)
    #: the leader's idle worker looks for Pending runs this often; a run queued or
    #: approved on any replica wakes it at once anyway (LISTEN/NOTIFY, docs/scaling.md)
    claim_poll_seconds: float = Field(1.0, gt=0)


class CompileSettings(_Group):
    #: worker processes that compile declarations, off the event loop
    workers: int = Field(2, ge=1, le=64)
    #: seconds one file may take to compile; then it is stopped (a compile error)
    file_seconds: float = Field(10.0, gt=0)
    #: seconds the files of one request or one commit may take to compile together
    request_seconds: float = Field(30.0, gt=0)
    #: POST /declarations one user may have compiling at once; more answer 429
    per_user: int = Field(1, ge=1, le=64)


class CredentialsSettings(_Group):
    """Secrets a declaration names (a cloud-init password is the *name* of a credential):
    the file ``<dir>/<name>``, mode 0600; unset ``dir``: ``$CREDENTIALS_DIRECTORY``."""

    _reloadable = "all"
    dir: Path | None = None

    def read(self, name: str, *, environ: Mapping[str, str] | None = None) -> str:
        """The value of credential ``name``; a ValueError says where it was looked for."""
        env = os.environ if environ is None else environ
        base = self.dir or (Path(env["CREDENTIALS_DIRECTORY"])
                            if env.get("CREDENTIALS_DIRECTORY") else None)
        if base is None or "/" in name or name in (".", ".."):
            raise ValueError(f"credential {name!r}: no credentials directory or not a file "
                             "name; set [credentials] dir or systemd's LoadCredential=")
        return _read_secret_file(base / name)


class LoggingSettings(_Group):
    _reloadable = ("level",)
    level: Literal["debug", "info", "warning", "error"] = "info"
    #: auto: JSON lines when stdout is not a terminal, readable console output when it is
    format: Literal["auto", "json", "console"] = "auto"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        case_sensitive=False,
        validate_default=True,
    )
    #: top-level settings a SIGHUP may change (the groups declare their own)
    _reloadable: ClassVar[tuple[str, ...]] = ("retention_days",)

    state_dir: Path = Path("./.mycopod")
    #: runs and actions older than this are archived to state_dir/archive and deleted
    retention_days: int = Field(90, ge=1)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    proxmox: ProxmoxSettings = Field(default_factory=ProxmoxSettings)
    declarations: DeclarationsSettings = Field(default_factory=DeclarationsSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    policy: PolicySettings = Field(default_factory=PolicySettings)
    apply: ApplySettings = Field(default_factory=ApplySettings)
    compile: CompileSettings = Field(default_factory=CompileSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    credentials: CredentialsSettings = Field(default_factory=CredentialsSettings)
    forge: ForgeSettings = Field(default_factory=ForgeSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    #: several Proxmox clusters (docs/scaling.md); empty: the one of [proxmox]
    clusters: list[ClusterSettings] = Field(default_factory=list)

    @model_validator(mode="after")
    def _clusters(self) -> Settings:
        given = self.proxmox.model_dump() != ProxmoxSettings().model_dump()
        check_clusters(self.clusters, proxmox_given=given, repo=self.declarations.repo,
                       branch=self.declarations.branch, forge=self.forge)
        for entry in self.clusters:
            unknown = sorted(set(entry.policy) - set(PolicySettings.model_fields))
            if unknown:
                known = list(PolicySettings.model_fields)
                raise ValueError(f"clusters: {entry.name!r} policy has unknown key "
                                 f"{unknown[0]!r}{_suggest(unknown[0], known)}")
            try:
                PolicySettings.model_validate({**self.policy.model_dump(), **entry.policy})
            except ValidationError as exc:
                err = exc.errors()[0]
                where = ".".join(str(p) for p in err["loc"])
                raise ValueError(f"clusters: {entry.name!r} policy.{where}: "
                                 f"{err['msg'].removeprefix('Value error, ')}") from None
        return self

    def per_cluster(self) -> list[Settings]:
        """One Settings per cluster, each with that cluster's ``proxmox``,
        ``declarations`` (repo, branch, path, webhook secret, git token), ``forge`` and
        ``policy``: the settings every part of a cluster's unit reads. Without
        ``[[clusters]]``: this one."""
        result = []
        for entry in self.clusters:
            declarations = self.declarations.model_copy(update={
                "repo": entry.repo or self.declarations.repo,
                "branch": entry.branch or self.declarations.branch,
                "path": entry.path,
                "webhook_secret": entry.webhook_secret or self.declarations.webhook_secret,
                "token": entry.token or self.declarations.token})
            policy = PolicySettings.model_validate({**self.policy.model_dump(),
                                                    **entry.policy})
            result.append(self.model_copy(update={
                "proxmox": entry.proxmox, "declarations": declarations, "policy": policy,
                "forge": cluster_forge(self.forge, entry)}))
        return result or [self]

    def cluster_names(self) -> list[str]:
        return [c.name for c in self.clusters] or [self.proxmox.cluster]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier sources win. In load_settings: the environment, the overrides (passed as
        # init), the TOML file, systemd credentials; otherwise the process environment
        # and the arguments.
        loading = config_sources.LOADING.get()
        return (env_settings, init_settings) if loading is None else loading.ordered(init_settings)

    def secret_values(self) -> list[str]:
        """Every configured secret, for the log redactor."""
        groups: list[_Group] = [self.database, self.proxmox, self.declarations, self.llm,
                                self.api, self.forge]
        groups += [g for c in self.clusters for g in (c, c.proxmox, c.forge)]
        values = [v for g in groups for v in g.secret_values()]
        if self.database.url and "@" in self.database.url:
            from urllib.parse import urlsplit

            password = urlsplit(self.database.url).password
            if password:
                values.append(password)
        return values


GROUPS: dict[str, type[_Group]] = {
    name: field.annotation
    for name, field in Settings.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, _Group)
}


def _suggest(key: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(key, choices, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _check_keys(data: dict[str, Any], *, origin: str) -> None:
    top = [k for k in Settings.model_fields if k not in GROUPS] + list(GROUPS)
    for key, value in data.items():
        if key not in Settings.model_fields:
            raise ConfigError(f"config: unknown key {key!r} in {origin}{_suggest(key, top)}")
        group = GROUPS.get(key)
        if group is None:
            continue
        if not isinstance(value, dict):
            raise ConfigError(f"config: [{key}] in {origin} must be a table of settings")
        keys = list(group.model_fields)
        for sub in value:
            if sub not in group.model_fields:
                raise ConfigError(
                    f"config: unknown key '{key}.{sub}' in {origin}{_suggest(sub, keys)}"
                )


def _check_env(environ: dict[str, str]) -> None:
    known = {f"{ENV_PREFIX}{k}".upper() for k in Settings.model_fields if k not in GROUPS}
    for group, model in GROUPS.items():
        known.update(f"{ENV_PREFIX}{group}__{k}".upper() for k in model.model_fields)
    for name in environ:
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in NON_SETTING_ENV:
            continue
        if upper.startswith("MYCOPOD_TEST_"):
            continue
        if upper not in known:
            raise ConfigError(
                f"config: unknown environment variable {name}{_suggest(upper, sorted(known))}"
            )


def _format_validation(exc: ValidationError, clusters: list[Any]) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"] if p != "__root__")
    entry = re.match(r"^clusters\.(\d+)", loc)
    if entry:  # "clusters.0.proxmox" -> "[[clusters]] 'site-a': proxmox" (or "entry 1")
        rest = loc[entry.end():].lstrip(".")
        index = int(entry.group(1))
        name = clusters[index].get("name") if index < len(clusters) and isinstance(
            clusters[index], dict) else None
        which = (repr(name) if isinstance(name, str) and 0 < len(name) <= 63
                 and not rest.startswith("name") else f"entry {index + 1}")
        loc = f"[[clusters]] {which}" + (f": {rest}" if rest else "")
    msg = err["msg"].removeprefix("Value error, ")
    named = re.match(r"^([a-z_]+): ", msg)
    if named:  # a group validator naming its own key: "api" + "jwt_secret_file: ..."
        sep = ": " if loc.startswith("[[") and ": " not in loc else "."  # an entry's key
        loc = f"{loc}{sep}{named.group(1)}" if loc else named.group(1)
        msg = msg[named.end():]
    got = err.get("input")
    shown = ""
    if err["type"] not in ("value_error", "missing") and not isinstance(got, (dict, list)):
        secretish = any(s in loc for s in ("secret", "password", "key", "token"))
        shown = "" if secretish else f" (got {got!r})"
    more = f" (and {len(exc.errors()) - 1} more problem(s))" if len(exc.errors()) > 1 else ""
    return f"config: {loc or 'settings'}: {msg}{shown}{more}"


def load_settings(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """Load settings from ``path`` (or ``$MYCOPOD_CONFIG``), the environment and secrets.

    ``overrides`` (tests, ``make demo``) are applied on top of the TOML file, below the
    environment; ``environ`` replaces the process environment for this call (which is
    left as it is). The sources are pydantic-settings' own (:mod:`.config_sources`).
    Raises ConfigError naming the key on any problem.
    """
    env = dict(os.environ if environ is None else environ)
    config_path = path if path is not None else env.get("MYCOPOD_CONFIG")
    toml = None
    configured: dict[str, Any] = {}  # the file and the overrides, for the credentials
    if config_path:
        toml = config_sources.toml_file(Settings, config_path)
        _check_keys(toml.toml_data, origin=str(config_path))
        configured = {k: dict(v) if isinstance(v, dict) else v for k, v in toml.toml_data.items()}
    for group, values in (overrides or {}).items():
        if isinstance(values, dict) and isinstance(configured.get(group), dict):
            configured[group].update(values)
        else:
            configured[group] = values
    overrides = dict(overrides or {})
    if isinstance(configured.get("clusters"), list):
        clusters, used = config_sources.cluster_secrets(configured["clusters"], env)
        overrides["clusters"] = clusters
    else:
        clusters, used = config_sources.cluster_secrets([], env)
    env = {k: v for k, v in env.items() if k.upper() not in used}
    _check_env(env)
    secrets = {group: model._secrets for group, model in GROUPS.items()}
    token = config_sources.LOADING.set(config_sources.Sources(
        environment=config_sources.EnvironSource(Settings, env),
        toml=toml,
        credentials=config_sources.credentials(Settings, env, secrets=secrets,
                                               configured=configured),
    ))
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_format_validation(exc, clusters)) from None
    finally:
        config_sources.LOADING.reset(token)
