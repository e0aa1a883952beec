"""The Proxmox VE API schema, loaded at run time, and parameter checking against it.

The simulator serves only what this schema describes and checks every parameter the way
PVE's ``PVE::JSONSchema`` does, with the same error texts ("property is missing and it is
not optional", "type check ('integer') failed - got 'abc'", ...). Keeping the schema as
data, not as hand-written parameter lists, means the simulator cannot drift from the
real API: a route or parameter that is not in the file cannot be served or accepted.

The file is the packaged copy ``data/pve-api-schema.json`` (or the one named by
``MYCOPOD_PVE_SCHEMA``); a test checks the packaged copy equals ``shared/``'s.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

SCHEMA_ENV = "MYCOPOD_PVE_SCHEMA"
#: the copy packaged with the simulator (``importlib.resources``, so a wheel carries it)
PACKAGED_SCHEMA = resources.files("mycopod.pvesim") / "data" / "pve-api-schema.json"

#: highest index of ``key[n]`` parameters whose description does not say it
_DEFAULT_INDEX_MAX = {
    "net": 31,
    "ipconfig": 31,
    "unused": 255,
    "hostpci": 15,
    "numa": 7,
    "mp": 255,
    "dev": 255,
    "virtiofs": 9,
    "usb": 14,
}
_INDEXED_KEY = re.compile(r"^([a-z]+)(\d+)$")
_N_RANGE = re.compile(r"\(n is 0 to (\d+)")


class ParamError(Exception):
    """A 400 "Parameter verification failed." with one message per parameter."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("Parameter verification failed.")
        self.errors = errors


class FormatError(Exception):
    """A value does not fit its schema; ``str(exc)`` is PVE's text for it."""


def schema_file() -> Traversable:
    env = os.environ.get(SCHEMA_ENV)
    return Path(env) if env else PACKAGED_SCHEMA


@dataclass
class Method:
    """One (path, HTTP method) of the API and what it accepts."""

    path: str
    method: str
    info: dict[str, Any]
    props: dict[str, dict[str, Any]]
    #: "scsi" -> ("scsi[n]", highest n)
    indexed: dict[str, tuple[str, int]] = field(default_factory=dict)

    @property
    def allowtoken(self) -> bool:
        return bool(self.info.get("allowtoken", 1))

    @property
    def returns(self) -> dict[str, Any]:
        return dict(self.info.get("returns") or {})

    def prop_for(self, key: str) -> tuple[str, dict[str, Any]] | None:
        """The schema name and definition of parameter ``key`` (``scsi3`` -> ``scsi[n]``)."""
        prop = self.props.get(key)
        if prop is not None:
            return key, prop
        m = _INDEXED_KEY.match(key)
        if m and m.group(1) in self.indexed:
            name, top = self.indexed[m.group(1)]
            if int(m.group(2)) <= top and str(int(m.group(2))) == m.group(2):
                return name, self.props[name]
        return None


class _Trie:
    __slots__ = ("literal", "param", "param_name", "path")

    def __init__(self) -> None:
        self.literal: dict[str, _Trie] = {}
        self.param: _Trie | None = None
        self.param_name = ""
        self.path: str | None = None


class Schema:
    """The whole API tree, indexed by path, with a path resolver."""

    def __init__(self, tree: list[dict[str, Any]]) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        self._methods: dict[tuple[str, str], Method] = {}
        self._root = _Trie()
        stack = list(tree)
        while stack:
            node = stack.pop()
            self.nodes[node["path"]] = node
            stack.extend(node.get("children") or [])
            self._add_path(node["path"])
            for verb, info in (node.get("info") or {}).items():
                props = dict((info.get("parameters") or {}).get("properties") or {})
                method = Method(path=node["path"], method=verb, info=info, props=props)
                for name, prop in props.items():
                    if name.endswith("[n]"):
                        prefix = name[:-3]
                        found = _N_RANGE.search(prop.get("description", ""))
                        top = int(found.group(1)) if found else _DEFAULT_INDEX_MAX.get(prefix, 31)
                        method.indexed[prefix] = (name, top)
                self._methods[(node["path"], verb)] = method

    def _add_path(self, path: str) -> None:
        cur = self._root
        for seg in path.strip("/").split("/"):
            if seg.startswith("{") and seg.endswith("}"):
                if cur.param is None:
                    cur.param = _Trie()
                    cur.param_name = seg[1:-1]
                cur = cur.param
            else:
                cur = cur.literal.setdefault(seg, _Trie())
        cur.path = path

    def resolve(self, segments: list[str]) -> tuple[str, dict[str, str]] | None:
        """Match decoded path segments to a schema path and its path parameters."""
        cur = self._root
        params: dict[str, str] = {}
        for seg in segments:
            nxt = cur.literal.get(seg)
            if nxt is None:
                if cur.param is None or seg == "":
                    return None
                params[cur.param_name] = seg
                nxt = cur.param
            cur = nxt
        if cur.path is None:
            return None
        return cur.path, params

    def method(self, path: str, verb: str) -> Method | None:
        return self._methods.get((path, verb))

    def methods(self) -> list[Method]:
        return list(self._methods.values())


@lru_cache(maxsize=4)
def _load(override: str) -> Schema:
    file = Path(override) if override else PACKAGED_SCHEMA
    with file.open(encoding="utf-8") as fh:
        return Schema(json.load(fh))


def load() -> Schema:
    return _load(os.environ.get(SCHEMA_ENV, ""))


# -- checking values -------------------------------------------------------------------

_INT_RE = re.compile(r"^[+-]?\d+$")
_NUM_RE = re.compile(r"^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$")
_DNS_LABEL = r"([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)"
_DNS_RE = re.compile(rf"^({_DNS_LABEL}\.)*{_DNS_LABEL}$")
_PATTERN_CACHE: dict[str, re.Pattern[str]] = {}


def _pattern(perl: str) -> re.Pattern[str]:
    pat = _PATTERN_CACHE.get(perl)
    if pat is None:
        pat = re.compile(perl.replace("(?^:", "(?:"))
        _PATTERN_CACHE[perl] = pat
    return pat


def _is_ip(text: str, version: int | None = None) -> bool:
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return False
    return version is None or addr.version == version


def _is_cidr(text: str, version: int) -> bool:
    if "/" not in text:
        return False
    ip, _, bits = text.partition("/")
    if not bits.isdigit() or not _is_ip(ip, version):
        return False
    return 7 < int(bits) <= (32 if version == 4 else 128)


def _split_list(text: str) -> list[str]:
    return [x for x in re.split(r"[,;\s\0]+", text) if x]


def _check_named_format(fmt: str, value: str, path: str) -> None:
    """PVE's registered format validators that matter here; unknown ones pass."""
    if fmt.endswith("-list") and fmt != "pve-tag-list":
        for item in _split_list(value):
            _check_named_format(fmt[: -len("-list")], item, path)
        return
    if fmt == "pve-vmid":
        if not re.match(r"^[1-9][0-9]{2,8}$", value):
            raise FormatError("value does not look like a valid VM ID")
    elif fmt == "pve-node":
        if not re.match(r"^([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)$", value):
            raise FormatError("value does not look like a valid node name")
    elif fmt == "dns-name":
        if not _DNS_RE.match(value):
            raise FormatError("value does not look like a valid DNS name")
    elif fmt == "pve-storage-id":
        if not re.match(r"^[a-z][a-z0-9\-_.]*[a-z0-9]$", value, re.I):
            raise FormatError(f"storage ID '{value}' contains illegal characters")
    elif fmt == "pve-poolid":
        if not re.match(r"^[A-Za-z0-9_][A-Za-z0-9_\-]*(/[A-Za-z0-9_][A-Za-z0-9_\-]*)*$", value):
            raise FormatError(f"pool name '{value}' contains illegal characters")
    elif fmt == "pve-bridge-id":
        if not re.match(r"^[-_.\w\d]+$", value):
            raise FormatError(f"invalid bridge ID '{value}'")
    elif fmt == "pve-configid":
        if not re.match(r"^[a-z][a-z0-9_-]+$", value, re.I):
            raise FormatError(f"invalid configuration ID '{value}'")
    elif fmt == "pve-tag-list":
        for tag in _split_list(value):
            if not re.match(r"^[a-z0-9_][a-z0-9_\-+.]*$", tag, re.I):
                raise FormatError(f"invalid tag '{tag}'")
    elif fmt == "urlencoded":
        if not re.match(r"^[-%a-zA-Z0-9_.!~*'()]*$", value):
            raise FormatError(f"invalid urlencoded string: {value}")
    elif fmt == "mac-addr":
        if not re.match(r"^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$", value, re.I):
            raise FormatError("value does not look like a valid unicast MAC address")
    elif fmt == "ipv4":
        if not _is_ip(value, 4):
            raise FormatError("value does not look like a valid IPv4 address")
    elif fmt == "ipv6":
        if not _is_ip(value, 6):
            raise FormatError("value does not look like a valid IPv6 address")
    elif fmt == "ip":
        if not _is_ip(value):
            raise FormatError("value does not look like a valid IP address")
    elif fmt == "CIDRv4":
        if not _is_cidr(value, 4):
            raise FormatError("value does not look like a valid IPv4 CIDR network")
    elif fmt == "CIDRv6":
        if not _is_cidr(value, 6):
            raise FormatError("value does not look like a valid IPv6 CIDR network")
    elif fmt == "CIDR":
        if not (_is_cidr(value, 4) or _is_cidr(value, 6)):
            raise FormatError("value does not look like a valid CIDR network")
    elif fmt == "pve-ipv4-config":
        if value not in ("dhcp", "manual") and not _is_cidr(value, 4):
            raise FormatError("value does not look like a valid ipv4 network configuration")
    elif fmt == "pve-ipv6-config":
        if value not in ("auto", "dhcp", "manual") and not _is_cidr(value, 6):
            raise FormatError("value does not look like a valid ipv6 network configuration")
    elif fmt == "pve-userid":
        if not re.match(r"^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+$", value) or len(value) > 64:
            raise FormatError(f"value '{value}' does not look like a valid user name")
    elif fmt == "pve-realm":
        if not re.match(r"^[A-Za-z][A-Za-z0-9.\-_]+$", value):
            raise FormatError(f"value '{value}' does not look like a valid realm")
    elif fmt == "disk-size":
        parse_size(value)
    elif fmt == "pve-qm-ipconfig":
        parse_property_string(_IPCONFIG_FORMAT, value, path)


_IPCONFIG_FORMAT: dict[str, Any] = {
    "ip": {"type": "string", "format": "pve-ipv4-config", "optional": 1},
    "gw": {"type": "string", "format": "ipv4", "optional": 1},
    "ip6": {"type": "string", "format": "pve-ipv6-config", "optional": 1},
    "gw6": {"type": "string", "format": "ipv6", "optional": 1},
}

_SIZE_RE = re.compile(r"^(\d+(?:\.\d+)?)([KMGT])?$")
_UNITS = {None: 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_size(text: str) -> int:
    """``32G`` -> bytes (PVE's ``disk-size`` format)."""
    m = _SIZE_RE.match(text)
    if not m:
        raise FormatError(f"unable to parse size '{text}'")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def format_size(size: int) -> str:
    """Bytes -> ``32G``, as PVE prints ``size=`` (largest unit that divides exactly)."""
    for unit, factor in (("T", 1024**4), ("G", 1024**3), ("M", 1024**2), ("K", 1024)):
        if size and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def parse_boolean(text: str) -> int | None:
    low = text.lower()
    if low in ("1", "on", "yes", "true"):
        return 1
    if low in ("0", "off", "no", "false"):
        return 0
    return None


def parse_property_string(fmt: dict[str, Any], data: str, path: str) -> dict[str, str]:
    """Parse ``key=value,...`` as PVE does; raise FormatError with PVE's message."""
    res: dict[str, str] = {}
    default_key = next((k for k, v in fmt.items() if v.get("default_key")), None)
    for part in data.split(","):
        if not part.strip():
            continue
        if "=" in part and not part.startswith("="):
            key, _, val = part.partition("=")
            if val == "":
                raise FormatError("missing key in comma-separated list property")
            if key in res:
                raise FormatError(f"duplicate key in comma-separated list property: {key}")
            sub = fmt.get(key)
            if sub is not None and sub.get("alias"):
                if sub.get("keyAlias"):
                    res[sub["keyAlias"]] = key
                key = sub["alias"]
                sub = fmt.get(key)
            if sub is None:
                raise FormatError(f"invalid key in comma-separated list property: {key}")
            if sub.get("type") == "boolean":
                b = parse_boolean(val)
                val = str(b) if b is not None else val
            res[key] = val
        elif "=" not in part:
            if default_key is None:
                raise FormatError("value without key, but schema does not define a default key")
            if default_key in res:
                raise FormatError(f"duplicate key in comma-separated list property: {default_key}")
            res[default_key] = part
        else:
            raise FormatError("missing key in comma-separated list property")
    errors: dict[str, str] = {}
    for key, sub in fmt.items():
        if sub.get("alias"):
            continue
        sub_path = f"{path}.{key}" if path else key
        if key not in res:
            if not sub.get("optional"):
                errors[sub_path] = "property is missing and it is not optional"
            continue
        try:
            check_value(sub, res[key], sub_path)
        except FormatError as exc:
            errors[sub_path] = str(exc)
    if errors:
        detail = "".join(f"{k}: {v}\n" for k, v in sorted(errors.items()))
        raise FormatError(f"format error\n{detail}")
    return res


def check_value(prop: dict[str, Any], value: Any, path: str) -> Any:
    """Check one value against its schema; return it converted (int for integers and
    booleans, float for numbers, str otherwise). Raise FormatError with PVE's text."""
    ptype = prop.get("type")
    if ptype == "array":
        items = value if isinstance(value, list) else [value]
        sub = prop.get("items") or {}
        return [check_value(sub, item, f"{path}[{i}]") for i, item in enumerate(items)]
    if isinstance(value, list | dict):
        kind = "ARRAY" if isinstance(value, list) else "HASH"
        raise FormatError(f"type check ('{ptype}') failed - got {kind}")
    if isinstance(value, bool):
        if ptype == "boolean":
            return int(value)
        value = "1" if value else "0"
    text = (
        value
        if isinstance(value, str)
        else (repr(value) if isinstance(value, float) else str(value))
    )
    out: Any = text
    if ptype == "boolean":
        if text not in ("0", "1"):
            raise FormatError(f"type check ('boolean') failed - got '{text}'")
        out = int(text)
    elif ptype == "integer":
        if not _INT_RE.match(text):
            raise FormatError(f"type check ('integer') failed - got '{text}'")
        out = int(text)
    elif ptype == "number":
        if not _NUM_RE.match(text):
            raise FormatError(f"type check ('number') failed - got '{text}'")
        out = float(text)
    fmt = prop.get("format")
    if fmt:
        try:
            if isinstance(fmt, dict):
                parse_property_string(fmt, text, path)
            else:
                _check_named_format(fmt, text, path)
        except FormatError as exc:
            msg = str(exc)
            raise FormatError(
                f"invalid format - {msg}" + ("" if msg.endswith("\n") else "\n")
            ) from None
    pattern = prop.get("pattern")
    if pattern and not _pattern(pattern).fullmatch(text):
        raise FormatError("value does not match the regex pattern")
    if "maxLength" in prop and len(text) > prop["maxLength"]:
        raise FormatError(f"value may only be {prop['maxLength']} characters long")
    if "minLength" in prop and len(text) < prop["minLength"]:
        raise FormatError(f"value must be at least {prop['minLength']} characters long")
    if _NUM_RE.match(text):
        num = float(text)
        if "maximum" in prop and num > prop["maximum"]:
            raise FormatError(f"value must have a maximum value of {prop['maximum']}")
        if "minimum" in prop and num < prop["minimum"]:
            raise FormatError(f"value must have a minimum value of {prop['minimum']}")
    enum = prop.get("enum")
    if enum and text not in [str(e) for e in enum]:
        raise FormatError(
            f"value '{text}' does not have a value in the enumeration '{', '.join(map(str, enum))}'"
        )
    return out


def validate(method: Method, raw: dict[str, Any]) -> dict[str, Any]:
    """Check request parameters against ``method``; return them converted, or raise
    ParamError with one message per offending parameter (as PVE answers 400)."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        found = method.prop_for(key)
        if found is None:
            errors[key] = (
                "property is not defined in schema and the schema does not allow "
                "additional properties"
            )
            continue
        try:
            out[key] = check_value(found[1], value, key)
        except FormatError as exc:
            errors[key] = str(exc)
    for name, prop in method.props.items():
        if name.endswith("[n]"):
            continue
        if name not in raw and not prop.get("optional"):
            errors[name] = "property is missing and it is not optional"
        requires = prop.get("requires")
        if name in raw and isinstance(requires, str) and requires not in raw:
            errors[requires] = f"missing property - '{name}' requires this property"
    if errors:
        raise ParamError(errors)
    return out
