"""What MycoPod sends to Proxmox: the parameters of create, config and resize calls. Pure.

Built from the settings tables (:mod:`mycopod.proxmox.keys` for scalar settings,
:mod:`mycopod.proxmox.devices` for devices by slot):

- a create writes every stated setting, and the creation default
  (:data:`mycopod.spec.CREATION_DEFAULTS`) of what the text left out only where Proxmox
  would not apply the same value itself (never for a guest declared as adopted, which
  is rebuilt with exactly the keys its declaration states);
- an update (:func:`differences`, :func:`update_params`) sets only the *stated* settings
  that differ, starting from the observed property string, so a NIC keeps its MAC when
  none is pinned and a disk keeps its cache options; an unstated setting is never
  touched. The ownership tag is always managed.

Disk growth is a separate ``resize`` call with an absolute size. The cloud-init
password is the name of a credential: ``secret`` turns it into the value when the
executor builds the call; without it (plans, reasons) a placeholder stands in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mycopod.proxmox import devices, keys, translate
from mycopod.proxmox.devices import Resize
from mycopod.spec import CREATION_DEFAULTS, CT_MOUNT_ROOT, GuestSpec, stated

__all__ = ["CT_MOUNT_ROOT", "Differences", "create_params", "differences", "resize_params",
           "update_params"]

Secret = Callable[[str], str]


@dataclass
class Differences:
    """The stated settings of one guest that differ from its config."""

    #: config key → new value (``None``: remove the key)
    values: dict[str, str | None] = field(default_factory=dict)
    #: disks to grow
    resizes: list[Resize] = field(default_factory=list)
    #: what MycoPod will not do (shrink a disk, move one): plan errors
    errors: list[str] = field(default_factory=list)


def _want_tags(spec: GuestSpec, have: Iterable[str], ownership_tag: str) -> tuple[str, ...]:
    """The ownership tag is always managed; the others only when the text states tags."""
    base = spec.tags if "tags" in stated(spec) else have
    return tuple(sorted({*base, ownership_tag}))


def differences(spec: GuestSpec, raw: Mapping[str, Any], *, ownership_tag: str,
                secret: Secret | None = None) -> Differences:
    """Every stated setting of ``spec`` that ``raw`` (a config) does not have yet."""
    values: dict[str, str | None] = dict(keys.desired_scalars(spec, raw, secret))
    have = translate.parse_tags(raw.get("tags"))
    want = _want_tags(spec, have, ownership_tag)
    if have != want:
        values["tags"] = translate.format_tags(want)
    found = devices.desired(spec, raw)
    values.update(found.values)
    return Differences(values=values, resizes=found.resizes, errors=found.errors)


#: the scalar creation defaults a create may send: spec field (its config key and text
#: come from the keys table); scsihw and ostype are not spec defaults, so their values
#: are read from :data:`CREATION_DEFAULTS`
_CREATION_FIELDS = ("cores", "memory_mib", "onboot", "scsihw", "ostype", "unprivileged",
                    "swap_mib")


def _creation_scalars(spec: GuestSpec) -> dict[str, str]:
    """The creation defaults of the settings ``spec`` leaves unstated that Proxmox would
    not apply by itself: a default equal to Proxmox's own (its value for an absent key:
    one core, ``onboot`` off, a container's 512 MB of swap) is not sent, so the new
    config has no key the text did not ask for."""
    defaults = CREATION_DEFAULTS[spec.kind]
    given = stated(spec)
    out: dict[str, str] = {}
    for row in keys.rows(spec.kind):
        if row.field not in _CREATION_FIELDS or row.field in given:
            continue
        value = getattr(spec, row.field)
        if value is None:
            value = defaults.get(row.field)
        if value is None or row.matches(value, {}):
            continue
        text = row.text(value)
        if text is not None:
            out[row.key] = text
    return out


def create_params(
    spec: GuestSpec,
    *,
    vmid: int,
    ownership_tag: str,
    ostemplate: str | None = None,
    secret: Secret | None = None,
) -> dict[str, Any]:
    """Parameters of ``POST /nodes/{node}/qemu`` or ``/lxc`` for a new guest.

    Every stated setting is sent (even one equal to Proxmox's default: an imported
    declaration states exactly the keys the config had). An unstated setting gets its
    creation default only when Proxmox would not apply the same value itself, and a
    guest declared as adopted (``adopt``: it existed before MycoPod, and is being
    rebuilt) gets none: what its declaration leaves out was Proxmox's default, so the
    rebuilt config has the original's keys, no more."""
    vm = spec.kind == "vm"
    adopted = bool(spec.adopt)
    params: dict[str, Any] = {
        "vmid": vmid,
        "tags": translate.format_tags(_want_tags(spec, (), ownership_tag)),
    }
    if not adopted:
        params.update(_creation_scalars(spec))
    for key, value in keys.desired_scalars(spec, {}, secret, create=True).items():
        if value is not None:
            params[key] = value
    if spec.pool:
        params["pool"] = spec.pool
    for key, value in devices.desired(spec, {}, create=True, defaults=not adopted
                                      ).values.items():
        if value is not None:
            params[key] = value
    if vm:
        params["name"] = spec.name
    else:
        params["hostname"] = spec.name
        template = ostemplate or (spec.source.ostemplate if spec.source else None)
        if template is None:
            raise translate.TranslateError(
                f"{spec.name}: a container needs an LXC template; declare one "
                "(from the template local:vztmpl/...) or upload one to a storage"
            )
        params["ostemplate"] = template
        if spec.ssh_keys:
            params["ssh-public-keys"] = "\n".join(spec.ssh_keys)
    return params


def update_params(
    spec: GuestSpec, raw: Mapping[str, Any], *, ownership_tag: str,
    only: Iterable[str] | None = None, secret: Secret | None = None,
) -> dict[str, Any]:
    """Parameters of ``POST/PUT config`` that bring ``raw`` (the pending-applied config)
    to the spec's stated settings; ``{}`` when nothing differs. ``only``: restrict to
    these config keys (what the planned action covers). Disk growth is not here (it is
    ``resize``); a new disk is allocated with ``storage:size``."""
    found = differences(spec, raw, ownership_tag=ownership_tag, secret=secret)
    allowed = set(only) if only is not None else None
    params: dict[str, Any] = {}
    delete: list[str] = []
    for key in sorted(found.values, key=translate.slot_sort_key):
        if allowed is not None and key not in allowed:
            continue
        value = found.values[key]
        if value is None:
            delete.append(key)
        else:
            params[key] = value
    if delete:
        params["delete"] = ",".join(delete)
    return params


def resize_params(spec: GuestSpec, raw: Mapping[str, Any]) -> list[dict[str, str]]:
    """``PUT resize`` parameters (absolute sizes) for every disk that must grow."""
    if "disks" not in stated(spec):
        return []
    found = devices.desired(spec, raw)
    return [{"disk": r.slot, "size": translate.format_size(r.new_bytes)}
            for r in found.resizes]
