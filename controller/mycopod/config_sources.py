"""Where settings come from: the pydantic-settings sources of one ``load_settings`` call.

:mod:`mycopod.config` says what the settings are; this module reads them, through
pydantic-settings' own sources: the TOML file (``TomlConfigSettingsSource``, with errors
that name the file), ``MYCOPOD_*`` variables from an environment given as a mapping (so a
test or a reload can load another environment without touching ``os.environ``), and the
secret files systemd hands over in ``$CREDENTIALS_DIRECTORY``.

pydantic-settings asks the settings *class* for its sources
(``settings_customise_sources``), not the call; ``load_settings`` puts the call's
sources in the context variable :data:`LOADING` for the time it builds one Settings.
"""

from __future__ import annotations

import errno
import os
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    TomlConfigSettingsSource,
)

from mycopod.errors import ConfigError

__all__ = ["LOADING", "EnvironSource", "Sources", "credentials", "toml_file"]


class EnvironSource(EnvSettingsSource):
    """Environment variables read from ``environ`` rather than from ``os.environ``."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        if self.case_sensitive:
            return dict(self._environ)
        return {name.lower(): value for name, value in self._environ.items()}


def toml_file(settings_cls: type[BaseSettings],
              path: str | os.PathLike[str]) -> TomlConfigSettingsSource:
    """The TOML file as a source; ConfigError if it cannot be read or parsed."""
    origin = str(path)
    file = Path(path)
    if not file.exists():
        raise ConfigError(f"config: file {origin} does not exist")
    if file.is_dir():
        raise ConfigError(f"config: cannot read {origin}: {os.strerror(errno.EISDIR)}")
    if not file.is_file():  # a pipe or a device: the source would skip it silently
        raise ConfigError(f"config: cannot read {origin}: not a regular file")
    try:
        return TomlConfigSettingsSource(settings_cls, toml_file=file)
    except FileNotFoundError:
        raise ConfigError(f"config: file {origin} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"config: cannot read {origin}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config: {origin} is not valid TOML: {exc}") from None


def credentials(settings_cls: type[BaseSettings], environ: Mapping[str, str], *,
                secrets: Mapping[str, tuple[str, ...]],
                configured: Mapping[str, Any]) -> InitSettingsSource:
    """systemd credentials: a file ``<group>_<key>`` in ``$CREDENTIALS_DIRECTORY`` for each
    secret key of ``secrets`` (group -> keys) becomes ``<key>_file``, unless ``configured``
    (the TOML file and the overrides) sets the secret or its file already."""
    found: dict[str, dict[str, str]] = {}
    directory = environ.get("CREDENTIALS_DIRECTORY")
    if directory:
        for group, keys in secrets.items():
            section = configured.get(group)
            section = section if isinstance(section, Mapping) else {}
            for key in keys:
                path = Path(directory) / f"{group}_{key}"
                if path.exists() and not section.get(key) and not section.get(f"{key}_file"):
                    found.setdefault(group, {})[f"{key}_file"] = str(path)
    return InitSettingsSource(settings_cls, init_kwargs=found)


@dataclass(frozen=True)
class Sources:
    """The sources of one ``load_settings`` call."""

    environment: PydanticBaseSettingsSource
    toml: TomlConfigSettingsSource | None
    credentials: PydanticBaseSettingsSource

    def ordered(self, init_settings: PydanticBaseSettingsSource,
                ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Highest first: the environment, the arguments (``overrides``), the TOML file,
        systemd credentials."""
        files = (self.toml,) if self.toml is not None else ()
        return (self.environment, init_settings, *files, self.credentials)


#: the sources of the ``load_settings`` call in progress, if any
LOADING: ContextVar[Sources | None] = ContextVar("mycopod_settings_sources", default=None)


def cluster_secrets(entries: list[Any], environ: Mapping[str, str]
                    ) -> tuple[list[Any], set[str]]:
    """The ``[[clusters]]`` entries (as configured: dicts) with their secrets from the
    environment and from systemd credentials, set the ways ``[proxmox]``'s are: an
    environment variable ``MYCOPOD_CLUSTERS__<NAME>__PROXMOX__TOKEN_SECRET`` (or
    ``..._FILE``, ``__WEBHOOK_SECRET``, ``__TOKEN`` (its git token), ``__FORGE__TOKEN``)
    beats the file, which beats a credential
    ``clusters_<name>_proxmox_token_secret``. Returns the entries and the names of the
    environment variables used (they are not settings of their own). ConfigError names a
    variable that matches no cluster, or is not a secret."""
    from mycopod.config_clusters import (
        ClusterForgeSettings,
        ClusterSettings,
        ProxmoxSettings,
        cluster_credential,
        cluster_env,
    )

    groups: dict[str | None, tuple[str, ...]] = {"proxmox": ProxmoxSettings._secrets,
                                                 "forge": ClusterForgeSettings._secrets,
                                                 None: ClusterSettings._secrets}
    named = [e for e in entries if isinstance(e, dict) and isinstance(e.get("name"), str)]
    wanted: dict[str, str] = {}  # variable -> the cluster it sets
    for entry in named:
        for group, keys in groups.items():
            for key in keys:
                for field in (key, f"{key}_file"):
                    variable = cluster_env(entry["name"], group, field)
                    other = wanted.setdefault(variable, entry["name"])
                    if other != entry["name"] and any(n.upper() == variable for n in environ):
                        raise ConfigError(f"config: clusters {other!r} and {entry['name']!r} "
                                          f"both read {variable}; rename one of them")
    given = {name.upper(): value for name, value in environ.items()
             if name.upper().startswith("MYCOPOD_CLUSTERS__")}
    for variable in given:
        if variable not in wanted:
            raise ConfigError(
                f"config: environment variable {variable} sets no cluster's secret; the "
                "environment sets only secrets of a [[clusters]] entry, as "
                + (", ".join(sorted(wanted)[:4]) + " …" if wanted else
                   "MYCOPOD_CLUSTERS__<NAME>__PROXMOX__TOKEN_SECRET (and no [[clusters]] "
                   "entry is configured)"))
    directory = environ.get("CREDENTIALS_DIRECTORY")
    out = [dict(e) if isinstance(e, dict) else e for e in entries]
    filled = [e for e in out if isinstance(e, dict) and isinstance(e.get("name"), str)]
    for entry in filled:
        for group, keys in groups.items():
            if group is None:
                table = entry
            else:
                table = dict(entry[group]) if isinstance(entry.get(group), dict) else {}
            for key in keys:
                if directory and not table.get(key) and not table.get(f"{key}_file"):
                    path = Path(directory) / cluster_credential(entry["name"], group, key)
                    if path.exists():
                        table[f"{key}_file"] = str(path)
                for field in (key, f"{key}_file"):
                    value = given.get(cluster_env(entry["name"], group, field))
                    if value is not None:
                        table[field] = value
            if group is not None and (table or group in entry):
                entry[group] = table
    return out, set(given)
