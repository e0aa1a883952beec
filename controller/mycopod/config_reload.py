"""What a SIGHUP changes: the settings ``config.py`` declares reloadable, nothing else.

Each settings group lists its reloadable fields in ``_reloadable`` (``"all"``: the whole
group, as for the policy), and :class:`~mycopod.config.Settings` its top-level ones, next
to the fields themselves; this module only compares and merges. Pure.
"""

from __future__ import annotations

from typing import Any

from mycopod.config import GROUPS, Settings

__all__ = ["reload_changes", "reloaded"]


def _reloadable(group: str, key: str) -> bool:
    allowed = GROUPS[group]._reloadable
    return allowed == "all" or key in allowed


def reload_changes(old: Settings, new: Settings) -> tuple[dict[str, tuple[Any, Any]], list[str]]:
    """(safe changes ``{"group.key": (old, new)}``, keys that changed but need a restart)."""
    safe: dict[str, tuple[Any, Any]] = {}
    unsafe: list[str] = []
    old_data, new_data = old.model_dump(), new.model_dump()
    for name, value in new_data.items():
        changed = ([(f"{name}.{k}", k, old_data[name].get(k), v) for k, v in value.items()]
                   if name in GROUPS else [(name, None, old_data[name], value)])
        for shown, key, old_value, new_value in changed:
            if old_value == new_value:
                continue
            if _reloadable(name, key) if key is not None else name in Settings._reloadable:
                safe[shown] = (old_value, new_value)
            else:
                unsafe.append(shown)
    return safe, unsafe


def reloaded(old: Settings, new: Settings) -> Settings:
    """``old`` with the reloadable settings of ``new`` (what a SIGHUP applies)."""
    update: dict[str, Any] = {k: getattr(new, k) for k in Settings._reloadable}
    for name, group in GROUPS.items():
        fields = [k for k in group.model_fields if _reloadable(name, k)]
        if fields:
            update[name] = getattr(old, name).model_copy(
                update={k: getattr(getattr(new, name), k) for k in fields})
    return old.model_copy(update=update)
