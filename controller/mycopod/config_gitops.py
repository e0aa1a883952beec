"""Settings groups for closing the loop on git: ``[forge]``, ``[notify]``, windows.

Apart from :mod:`mycopod.config` (which is at its size limit) and hooked into
:class:`~mycopod.config.Settings` with one line each. ``[forge]`` names the GitHub or
Gitea/Forgejo repository MycoPod reports to (commit statuses, pull-request plans); it is
off until ``api_url``, ``repository`` and ``token`` are all set. ``[notify]`` lists the
Apprise URLs told of failed runs, runs awaiting approval, failed compiles, drift left
alone (self_heal off) and a Proxmox connection or leadership lost for longer than
``lost_after_seconds``; off while ``urls`` is empty. :class:`Window` is one
entry of the policy setting ``windows`` (``PUT /settings/windows``), validated here so a
bad cron line or time zone is refused when it is set, not when a run meets it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from mycopod.config_base import _Group

__all__ = ["NOTIFY_EVENTS", "ForgeSettings", "NotifySettings", "Window", "duration_seconds"]

#: what [notify] can tell of (``events``)
NOTIFY_EVENTS = ("run_failed", "awaiting_approval", "compile_failed", "drift_unhealed",
                 "connection_lost")
NotifyEvent = Literal["run_failed", "awaiting_approval", "compile_failed", "drift_unhealed",
                      "connection_lost"]
_ALL_EVENTS: tuple[NotifyEvent, ...] = ("run_failed", "awaiting_approval", "compile_failed",
                                        "drift_unhealed", "connection_lost")

_DURATION_RE = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")


def duration_seconds(text: str) -> int:
    """``"2h"``, ``"90m"``, ``"1d"``, ``"1h30m"`` in seconds; ValueError otherwise."""
    match = _DURATION_RE.match(text.strip())
    if not text.strip() or match is None:
        raise ValueError(f"duration {text!r}: write it as hours and minutes, e.g. 2h, 90m, "
                         "1h30m or 1d")
    days, hours, minutes = (int(g or 0) for g in match.groups())
    seconds = ((days * 24 + hours) * 60 + minutes) * 60
    if seconds <= 0:
        raise ValueError(f"duration {text!r} must be longer than zero")
    return seconds


class ForgeSettings(_Group):
    """The forge MycoPod reports to: GitHub (REST) or Gitea/Forgejo (API v1)."""

    _secrets = ("token",)
    _reloadable = ("public_url",)
    kind: Literal["github", "gitea"] = "github"
    #: https://api.github.com, or https://gitea.example.org/api/v1 ; unset: forge off
    api_url: str | None = None
    #: "owner/name" of the declarations repository on the forge
    repository: str | None = Field(None, pattern=r"^[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+$")
    token: SecretStr | None = None
    token_file: Path | None = None
    #: MycoPod's own address as forge users reach it, for the links in statuses and
    #: comments (unset: http://api.host:api.port)
    public_url: str | None = None
    #: seconds one forge request may take
    timeout: float = Field(10.0, gt=0)
    #: reports waiting to be sent; when full the oldest is dropped (and logged)
    queue_size: int = Field(200, ge=1, le=100_000)
    #: attempts per report (rate limits and 5xx answers are retried with backoff)
    attempts: int = Field(5, ge=1, le=20)
    #: the longest wait between two attempts, whatever Retry-After asks
    retry_max_seconds: float = Field(60.0, gt=0)

    @model_validator(mode="after")
    def _complete(self) -> ForgeSettings:
        if self.api_url and (not self.repository or self.token is None):
            raise ValueError("forge.api_url is set: set forge.repository (owner/name) and "
                             "forge.token (or forge.token_file) too")
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.api_url and self.repository and self.token is not None)


class NotifySettings(_Group):
    """Where and what MycoPod notifies (Apprise URLs: Slack, Matrix, ntfy, json://...)."""

    _secrets = ("urls",)
    _reloadable = ("events", "max_per_hour", "repeat_seconds", "public_url",
                   "lost_after_seconds")
    #: Apprise URLs, whitespace- or comma-separated (they often hold tokens: a secret,
    #: so ``urls_file`` or $CREDENTIALS_DIRECTORY/notify_urls are read as well)
    urls: SecretStr | None = None
    urls_file: Path | None = None
    events: list[NotifyEvent] = Field(default_factory=lambda: list(_ALL_EVENTS))
    #: the same notification (same event, commit and error) is not sent again within this
    repeat_seconds: float = Field(3600.0, ge=0)
    #: at most this many notifications an hour; the others are dropped and logged
    max_per_hour: int = Field(60, ge=1, le=100_000)
    queue_size: int = Field(100, ge=1, le=100_000)
    #: seconds one notification may take to send
    timeout: float = Field(10.0, gt=0)
    #: the Proxmox connection (on the leader) or the leadership (on a replica that led)
    #: lost for this many seconds is told once (``connection_lost``), and again when back
    lost_after_seconds: float = Field(60.0, gt=0)
    #: for the links (unset: forge.public_url, else http://api.host:api.port)
    public_url: str | None = None

    def url_list(self) -> list[str]:
        raw = self.urls.get_secret_value() if self.urls is not None else ""
        return [u for u in re.split(r"[\s,]+", raw) if u]

    @property
    def enabled(self) -> bool:
        return bool(self.url_list())


class Window(BaseModel):
    """A maintenance window: when runs may (allow) or may not (deny) apply."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["allow", "deny"]
    #: a cron line for the window's start, e.g. ``0 2 * * 6`` (Saturday 02:00)
    schedule: str
    #: how long it stays open from each start: 2h, 90m, 1d
    duration: str
    timezone: str = "UTC"
    #: ``destructive``: only runs with destructive steps are held by this window
    applies_to: Literal["all", "destructive"] = "all"

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        if not croniter.is_valid(value):
            raise ValueError(f"schedule {value!r} is not a cron line (minute hour day month "
                             "weekday, e.g. '0 2 * * 6')")
        try:
            croniter(value).get_next(float)
        except ValueError:  # CroniterBadDateError: e.g. 31 February
            raise ValueError(f"schedule {value!r} never happens (no such date)") from None
        return value

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str) -> str:
        duration_seconds(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone {value!r} is not an IANA time zone (e.g. UTC, "
                             "Europe/Paris)") from None
        return value
