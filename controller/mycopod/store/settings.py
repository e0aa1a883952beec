"""Run-time settings (table ``settings``): the policy switches an Admin can change.

The configuration file gives each policy setting its default; a row here overrides it
until removed. Only known keys are accepted and every value is validated by the same
pydantic model as the configuration, so ``PUT /settings/prune`` with ``"yes please"``
is refused instead of being stored. Values are stored as JSON text.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, ValidationError

from mycopod.config import PolicySettings
from mycopod.errors import MycoPodError

SELECT_ALL = """
SELECT key, value, updated_at, updated_by FROM settings WHERE cluster = $1 ORDER BY key"""
UPSERT = """
INSERT INTO settings (key, value, updated_by, cluster) VALUES ($1, $2, $3, $4)
ON CONFLICT (cluster, key) DO UPDATE SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by,
    updated_at = NOW()
RETURNING key, value, updated_at, updated_by"""
DELETE = "DELETE FROM settings WHERE key = $1 AND cluster = $2"

KNOWN_KEYS: tuple[str, ...] = tuple(PolicySettings.model_fields)


class SettingError(MycoPodError):
    """An unknown key or a value of the wrong type."""


class Setting(BaseModel):
    key: str
    value: Any
    source: str  # "database" or "config"
    updated_at: datetime | None = None
    updated_by: int | None = None


def validate(key: str, value: Any, *, base: PolicySettings | None = None) -> Any:
    """The validated, normalised value for ``key``; raises SettingError naming the problem."""
    if key not in KNOWN_KEYS:
        raise SettingError(
            f"unknown setting {key!r}; known settings: {', '.join(KNOWN_KEYS)}"
        )
    data = (base or PolicySettings()).model_dump()
    data[key] = value
    try:
        # strict: "true" (a string) is not a boolean here, JSON true is
        model = PolicySettings.model_validate(data, strict=True)
    except ValidationError as exc:
        err = exc.errors()[0]
        # windows[0].schedule: the entry and field of a list setting that is wrong
        where = key + "".join(f"[{p}]" if isinstance(p, int) else f".{p}"
                              for p in err["loc"][1:])
        message = str(err["msg"]).removeprefix("Value error, ")
        raise SettingError(f"setting {where}: {message} (got {value!r})") from None
    # as JSON (a window is stored and shown as the object it was given as)
    return model.model_dump(mode="json")[key]


class SettingsStore:
    """The settings rows of one cluster (the policy is per cluster, docs/scaling.md)."""

    def __init__(self, db: asyncpg.Pool | asyncpg.Connection, cluster: str = "default") -> None:
        self._db = db
        self.cluster = cluster

    async def overrides(self) -> dict[str, Any]:
        rows = await self._db.fetch(SELECT_ALL, self.cluster)
        return {r["key"]: json.loads(r["value"]) for r in rows if r["key"] in KNOWN_KEYS}

    async def effective_policy(self, base: PolicySettings) -> PolicySettings:
        """The configured policy with the database's overrides applied."""
        data = base.model_dump()
        data.update(await self.overrides())
        try:
            return PolicySettings.model_validate(data)
        except ValidationError:
            # a row written by an older version that no longer validates: keep the config
            return base

    async def list(self, base: PolicySettings) -> list[Setting]:
        rows = {r["key"]: r for r in await self._db.fetch(SELECT_ALL, self.cluster)}
        result = []
        for key in KNOWN_KEYS:
            row = rows.get(key)
            if row is not None:
                result.append(Setting(key=key, value=json.loads(row["value"]), source="database",
                                      updated_at=row["updated_at"], updated_by=row["updated_by"]))
            else:
                result.append(Setting(key=key, value=getattr(base, key), source="config"))
        return result

    async def put(self, key: str, value: Any, *, user_id: int | None,
                  base: PolicySettings | None = None) -> Setting:
        normalised = validate(key, value, base=base)
        row = await self._db.fetchrow(UPSERT, key, json.dumps(normalised), user_id,
                                      self.cluster)
        assert row is not None
        return Setting(key=key, value=normalised, source="database",
                       updated_at=row["updated_at"], updated_by=row["updated_by"])

    async def delete(self, key: str) -> None:
        if key not in KNOWN_KEYS:
            raise SettingError(f"unknown setting {key!r}")
        await self._db.execute(DELETE, key, self.cluster)
