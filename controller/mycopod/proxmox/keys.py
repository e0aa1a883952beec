"""The table of scalar settings: each spec field, its Proxmox key, and how to read and write
it. Pure.

One row per setting (:data:`KEYS`). A row names the spec field (a dotted path for a part
of a sub-model, ``startup.order``), the Proxmox config key, the guest kinds it exists
for, and, when the key is a property string holding several settings (``cpu:
cputype=host,flags=+aes``, ``agent: 1,fstrim_cloned_disks=1``), the property inside it.
``text`` writes a spec value as Proxmox does; ``norm`` reads an observed value (``None``:
the key is absent) into the spec's form, with Proxmox's default for an absent key, so
the two compare with ``==``. Devices (disks, NICs, CD-ROMs, passthrough, EFI and TPM
state) are addressed by slot and live in :mod:`mycopod.proxmox.devices`; how a change
of each key reaches a running guest is :mod:`mycopod.reconcile.changes`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from pydantic import BaseModel

from mycopod.spec import GuestSpec, stated

VM, CT, BOTH = ("vm",), ("ct",), ("vm", "ct")

#: Proxmox shows a set cipassword as this; only "is it set" can be compared
MASKED = "**********"
#: the value placed where a secret would appear in a reason or a stored row
REDACTED = "(secret)"


#: whitespace that parse_props strips around parts, keys and values (str.strip's set)
_SPACE = re.compile(r"\s")


def parse_props(text: str | None, default_key: str | None = None) -> dict[str, str]:
    """``local-lvm:vm-1-disk-0,size=32G`` → ``{"file": "local-lvm:...", "size": "32G"}``.

    A part without ``=`` is the value of ``default_key`` (only the first such part)."""
    props: dict[str, str] = {}
    if not text:
        return props
    if _SPACE.search(text) is None:
        # no whitespace (nearly every value Proxmox gives): nothing to strip, so each
        # part is split as it is (a first full resync parses several per guest)
        for part in text.split(","):
            if not part:
                continue
            key, eq, value = part.partition("=")
            if eq:
                props[key] = value
            elif default_key is not None and default_key not in props:
                props[default_key] = part
            else:
                props[part] = ""
        return props
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            key, _, value = part.partition("=")
            props[key.strip()] = value.strip()
        elif default_key is not None and default_key not in props:
            props[default_key] = part
        else:
            props[part] = ""
    return props


def format_props(props: Mapping[str, str], default_key: str | None = None) -> str:
    """The inverse of :func:`parse_props`; the default key's value comes first, bare."""
    parts: list[str] = []
    if default_key is not None and default_key in props:
        parts.append(props[default_key])
    parts.extend(f"{k}={v}" for k, v in props.items() if k != default_key)
    return ",".join(parts)


def flag(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "yes", "on", "true")


def bit(value: Any) -> str:
    return "1" if value else "0"


def _int(default: int | None = None) -> Callable[[str | None], int | None]:
    def norm(value: str | None) -> int | None:
        if value is None or value == "":
            return default
        try:
            return int(float(value))
        except ValueError:
            return None
    return norm


def _float(default: float | None) -> Callable[[str | None], float | None]:
    def norm(value: str | None) -> float | None:
        if value is None or value == "":
            return default
        try:
            return float(value)
        except ValueError:
            return None
    return norm


def _text(default: str | None = None) -> Callable[[str | None], str | None]:
    def norm(value: str | None) -> str | None:
        value = value.strip() if value is not None else None
        return value or default
    return norm


def _bool(default: bool = False) -> Callable[[str | None], bool]:
    return lambda value: flag(value, default)


def decode_sshkeys(text: str | None) -> list[str]:
    """qemu ``sshkeys`` is URL-encoded, one key per line."""
    if not text:
        return []
    return [" ".join(line.split()) for line in unquote(text).splitlines() if line.strip()]


def encode_sshkeys(keys: list[str]) -> str:
    """Keys joined by newlines, URL-encoded as Proxmox's ``urlencoded`` format accepts
    (``[-%a-zA-Z0-9_.!~*'()]``, like JavaScript's encodeURIComponent)."""
    return quote("\n".join(keys), safe="!~*'()")


def _nameservers(value: str | None) -> list[str]:
    return [s for s in re.split(r"[\s,;]+", value or "") if s]


def hotplug_features(value: str | None) -> list[str]:
    """qemu ``hotplug``: absent or ``1`` is network,disk,usb; ``0`` is none."""
    from mycopod.spec.limits import HOTPLUG_FEATURES

    if value is None or value.strip() in ("1", ""):
        items = ["network", "disk", "usb"]
    elif value.strip() == "0":
        items = []
    else:
        items = [p.strip() for p in value.split(",") if p.strip()]
    return sorted(set(items), key=lambda i: HOTPLUG_FEATURES.index(i)
                  if i in HOTPLUG_FEATURES else len(HOTPLUG_FEATURES))


def _features(value: str | None) -> list[str]:
    """lxc ``features: nesting=1,keyctl=1,mount=nfs;cifs`` → ``[keyctl, mount=nfs;cifs,
    nesting]``."""
    items = []
    for key, val in parse_props(value).items():
        if key == "mount":
            items.append(f"mount={val}")
        elif flag(val):
            items.append(key)
    return sorted(items)


def _features_text(items: list[str]) -> str | None:
    return ",".join(i if "=" in i else f"{i}=1" for i in sorted(items)) or None


def _flags(value: str | None) -> list[str]:
    flags = [f for f in (value or "").split(";") if f]
    return sorted(set(flags), key=lambda f: (f[1:], f[0]))


def _boot(value: str | None) -> list[str] | None:
    order = parse_props(value, "legacy").get("order")
    return [d for d in order.split(";") if d] if order is not None else None


def _machine_same(want: str, have: str | None) -> bool:
    """``q35`` matches a pinned ``pc-q35-9.0+pve0`` (PVE pins Windows guests' machine
    version at creation); a pinned declaration must match exactly."""
    if have is None:
        have = "pc"
    if want == have:
        return True
    family = {"q35": "pc-q35-", "pc": "pc-i440fx-"}.get(want)
    return family is not None and have.startswith(family)


@dataclass(frozen=True)
class Key:
    """One scalar setting: spec ``field`` ⇄ Proxmox ``key`` (``prop`` inside it)."""

    field: str
    key: str
    kinds: tuple[str, ...]
    norm: Callable[[str | None], Any]
    #: spec value → Proxmox text (``None``: remove the key or property)
    text: Callable[[Any], str | None] = str
    #: the property inside a property string, and that string's default (bare) key
    prop: str | None = None
    default_key: str | None = None
    #: compare a spec value with the observed text (default: ``norm(have) == value``)
    same: Callable[[Any, str | None], bool] | None = None
    #: the value is a secret: sent, never shown, compared by "is set" only
    secret: bool = False

    def value(self, guest: GuestSpec) -> tuple[bool, Any]:
        """(stated?, value) of this row's field in ``guest``."""
        model: BaseModel = guest
        *parents, last = self.field.split(".")
        for name in parents:
            if name not in stated(model):
                return False, None
            child = getattr(model, name)
            if not isinstance(child, BaseModel):
                return False, None
            model = child
        if last not in stated(model):
            return False, None
        return True, getattr(model, last)

    def observed(self, raw: Mapping[str, Any]) -> str | None:
        """The observed text of this row (the property, for a property string)."""
        value = raw.get(self.key)
        if value is None:
            return None
        text = str(value)
        if self.prop is None:
            return text
        return parse_props(text, self.default_key).get(self.prop)

    def matches(self, want: Any, raw: Mapping[str, Any]) -> bool:
        have = self.observed(raw)
        if self.secret:
            return have is not None and have != ""
        if self.same is not None:
            return self.same(want, have)
        return bool(self.norm(have) == want)


def _opt(fn: Callable[[Any], str]) -> Callable[[Any], str | None]:
    return lambda v: None if v is None else fn(v)


#: every scalar setting, in the order reasons list them
KEYS: tuple[Key, ...] = (
    # --- CPU and memory
    Key("sockets", "sockets", VM, _int(1)),
    Key("cores", "cores", VM, _int(1)),
    Key("cores", "cores", CT, _int(None)),
    Key("vcpus", "vcpus", VM, _int(None)),
    Key("cpu_type", "cpu", VM, _text("kvm64"), prop="cputype", default_key="cputype"),
    Key("cpu_flags", "cpu", VM, _flags, text=lambda v: ";".join(v) or None, prop="flags",
        default_key="cputype"),
    Key("numa", "numa", VM, _bool(), text=bit),
    Key("cpulimit", "cpulimit", BOTH, _float(0.0), text=lambda v: f"{v:g}"),
    Key("cpuunits", "cpuunits", BOTH, _int(None)),
    Key("memory_mib", "memory", VM, _int(512), prop="current", default_key="current"),
    Key("memory_mib", "memory", CT, _int(512)),
    Key("balloon_mib", "balloon", VM, _int(None)),
    Key("swap_mib", "swap", CT, _int(512)),
    # --- firmware and machine
    Key("bios", "bios", VM, _text("seabios")),
    Key("machine", "machine", VM, _text("pc"), prop="type", default_key="type",
        same=_machine_same),
    Key("ostype", "ostype", BOTH, _text(None)),
    Key("scsihw", "scsihw", VM, _text("lsi")),
    Key("boot", "boot", VM, _boot, text=lambda v: "order=" + ";".join(v)),
    # --- cloud-init and DNS
    Key("ci_user", "ciuser", VM, _text(None)),
    Key("ci_password", "cipassword", VM, _text(None), secret=True),
    Key("ci_upgrade", "ciupgrade", VM, _bool(True), text=bit),
    Key("ci_type", "citype", VM, _text(None)),
    Key("ssh_keys", "sshkeys", VM, decode_sshkeys,
        text=lambda v: encode_sshkeys(v) if v else None),
    Key("nameservers", "nameserver", BOTH, _nameservers, text=lambda v: " ".join(v) or None),
    Key("searchdomain", "searchdomain", BOTH, _text(None)),
    # --- other
    Key("agent", "agent", VM, _bool(), text=bit, prop="enabled", default_key="enabled"),
    Key("agent_fstrim", "agent", VM, _bool(), text=bit, prop="fstrim_cloned_disks",
        default_key="enabled"),
    Key("serial_console", "serial0", VM, lambda v: v is not None,
        text=lambda v: "socket" if v else None),
    Key("vga", "vga", VM, _text("std"), prop="type", default_key="type"),
    Key("onboot", "onboot", BOTH, _bool(), text=bit),
    # PVE prints startup as ``order=2,up=30`` (no bare value)
    Key("startup.order", "startup", BOTH, _int(None), prop="order"),
    Key("startup.up", "startup", BOTH, _int(None), prop="up"),
    Key("startup.down", "startup", BOTH, _int(None), prop="down"),
    Key("protection", "protection", BOTH, _bool(), text=bit),
    Key("hotplug", "hotplug", VM, hotplug_features, text=lambda v: ",".join(v) or "0"),
    Key("tablet", "tablet", VM, _bool(True), text=bit),
    Key("description", "description", BOTH, _text(None)),
    # --- containers
    Key("unprivileged", "unprivileged", CT, _bool(), text=bit),
    Key("features", "features", CT, _features, text=_features_text),
    Key("timezone", "timezone", CT, _text(None)),
)

#: keys MycoPod never manages: kept whatever a declaration says, and reported
UNMANAGED_RE = re.compile(r"^(args|hookscript|lxc(\..*)?|dev\d+)$")


def rows(kind: str) -> tuple[Key, ...]:
    return _BY_KIND[kind]


_BY_KIND = {kind: tuple(k for k in KEYS if kind in k.kinds) for kind in ("vm", "ct")}
#: the same, each with its field's top-level name: a row whose top-level field the guest
#: does not state is not stated (``Key.value``), which one set look-up tells
_TOP_BY_KIND = {kind: tuple((k, k.field.split(".", 1)[0]) for k in rows)
                for kind, rows in _BY_KIND.items()}


def unmanaged(raw: Mapping[str, Any]) -> list[str]:
    """The keys of a config MycoPod leaves alone (raw ``args``, ``lxc.*`` lines, the
    hookscript, device nodes)."""
    return sorted(k for k in raw if UNMANAGED_RE.match(k))


def desired_scalars(guest: GuestSpec, raw: Mapping[str, Any],
                    secret: Callable[[str], str] | None = None, *,
                    create: bool = False) -> dict[str, str | None]:
    """The scalar keys whose stated settings differ from ``raw``: key → the whole new
    value (a property string keeps its other properties), ``None`` to remove the key.

    ``secret`` resolves a credential name (cipassword); without it a placeholder is
    written, which is what plans and reasons show. ``create``: every stated setting, even
    one equal to Proxmox's default for an absent key."""
    out: dict[str, str | None] = {}
    props: dict[str, dict[str, str]] = {}
    stated_here = guest.model_fields_set  # what stated(guest) gives, not copied per row
    for row, top in _TOP_BY_KIND[guest.kind]:
        if top not in stated_here:
            continue  # row.value(guest) would be (False, None): a guest has 40 rows
        given, want = row.value(guest)
        if not given or (not create and row.matches(want, raw)):
            continue
        text = row.text(want) if want is not None else None
        if row.secret:
            text = secret(str(want)) if secret is not None else REDACTED
        if row.prop is None:
            out[row.key] = text
            continue
        current = props.get(row.key)
        if current is None:
            current = parse_props(str(raw[row.key]) if raw.get(row.key) is not None
                                  else None, row.default_key)
            props[row.key] = current
        if text is None:
            current.pop(row.prop, None)
        else:
            current[row.prop] = text
    for key, current in props.items():
        default = next(r.default_key for r in _BY_KIND[guest.kind] if r.key == key)
        out[key] = format_props(current, default) or None
    return out
