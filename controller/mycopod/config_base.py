"""The base of every settings group, and the reader of secret files.

Apart from :mod:`mycopod.config` so that groups defined in their own modules (``[forge]``,
``[notify]``, ``[schedule]`` in :mod:`mycopod.config_gitops`) share it without an import
cycle: ``config.py`` imports them to build :class:`~mycopod.config.Settings`.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, SecretStr, model_validator

__all__ = ["_Group", "_read_secret_file"]


class _Group(BaseModel):
    """A settings group. Subclasses list their secret fields in ``_secrets`` and the
    fields a SIGHUP may change in ``_reloadable`` ("all": the whole group); any other
    change needs a restart (:mod:`.config_reload` applies them)."""

    model_config = ConfigDict(extra="forbid", validate_default=True)
    _secrets: ClassVar[tuple[str, ...]] = ()
    _reloadable: ClassVar[tuple[str, ...] | Literal["all"]] = ()

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key in cls._secrets:
            path = data.get(f"{key}_file")
            if path and not data.get(key):
                try:
                    data[key] = _read_secret_file(Path(str(path)))
                except ValueError as exc:
                    raise ValueError(f"{key}_file: {exc}") from None
        return data

    def secret_values(self) -> list[str]:
        values = []
        for key in self._secrets:
            value = getattr(self, key, None)
            if isinstance(value, SecretStr) and value.get_secret_value():
                values.append(value.get_secret_value())
        return values


def _read_secret_file(path: Path) -> str:
    try:
        info = path.stat()
    except OSError as exc:
        raise ValueError(f"cannot read secret file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"secret file {path} is not a regular file")
    if info.st_mode & 0o077:
        raise ValueError(
            f"secret file {path} is readable by group or others "
            f"(mode {stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read secret file {path}: {exc}") from None
    value = text.strip()
    if not value:
        raise ValueError(f"secret file {path} is empty")
    return value
