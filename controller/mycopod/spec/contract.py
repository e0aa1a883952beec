"""The spec as data: parsing with readable errors, the printed contract, the stored form,
and the JSON Schema given to the LLM. Pure.

Two serialisations, on purpose:

- the *contract* (:func:`contract_dict`, :func:`canonical_json`): what ``mycopod compile
  --json`` prints, every field of DESIGN.md with its default, new fields null or ``[]``;
- the *stored* form (:func:`spec_dict`): only what the text stated, so a spec read back
  (:func:`parse_spec`) manages exactly what was said.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from mycopod.spec.guest import ClusterSpec, GuestSpec


class SpecError(ValueError):
    """A spec that cannot be valid, with a message naming the guest and the field."""


def _format_error(exc: ValidationError, data: Any) -> str:
    """Turn pydantic's errors into messages naming the guest and the field."""
    messages = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = ""
        if len(loc) >= 2 and loc[0] == "guests" and isinstance(loc[1], int):
            name = "?"
            try:
                name = str(data["guests"][loc[1]].get("name", "?"))
            except (KeyError, IndexError, TypeError, AttributeError):
                pass
            where = f"guest {name!r}"
            loc = loc[2:]
        field = ".".join(str(p) for p in loc)
        msg = err["msg"].removeprefix("Value error, ")
        prefix = ", ".join(p for p in (where, f"field {field}" if field else "") if p)
        messages.append(f"{prefix}: {msg}" if prefix else msg)
    return "; ".join(messages)


def parse_spec(data: Any) -> ClusterSpec:
    """Validate plain data into a ClusterSpec, raising SpecError with readable messages."""
    try:
        return ClusterSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(_format_error(exc, data)) from None


#: the fields of the original contract, always printed with their defaults
CONTRACT_FIELDS = ("name", "kind", "state", "node", "vmid", "cores", "memory_mib", "disks",
                   "networks", "source", "onboot", "tags", "pool", "description", "ssh_keys")


#: the device keys of the original contract; a device's newer options print when set
DEVICE_CONTRACT_FIELDS = {
    "disks": ("slot", "storage", "size_gib"),
    "networks": ("slot", "bridge", "vlan", "ip", "gateway", "firewall"),
}


def guest_dict(guest: GuestSpec) -> dict[str, Any]:
    """One guest as the printed contract shows it: every field, defaults filled in; the
    newer options of a disk or NIC only when they have a value."""
    data = guest.model_dump(mode="json")
    data["source"] = guest.source.as_dict() if guest.source is not None else None
    for name, keep in DEVICE_CONTRACT_FIELDS.items():
        data[name] = [{k: v for k, v in item.items() if k in keep or v is not None}
                      for item in data[name]]
    return data


def contract_dict(spec: ClusterSpec) -> dict[str, Any]:
    """The spec as the printed contract (source without null keys)."""
    return {"guests": [guest_dict(g) for g in spec.guests]}


def spec_dict(spec: ClusterSpec) -> dict[str, Any]:
    """The stored form: only what the text stated (and each guest's name and kind).

    ``parse_spec(spec_dict(spec))`` gives back a spec that manages the same settings."""
    guests = []
    for guest in spec.guests:
        data = guest.model_dump(mode="json", exclude_unset=True)
        data["name"], data["kind"] = guest.name, guest.kind
        guests.append(data)
    return {"guests": guests}


def canonical_json(spec: ClusterSpec, *, indent: int | None = 2) -> str:
    """Stable JSON: contract key order, sorted guests, so equal specs give equal text."""
    return json.dumps(contract_dict(spec), indent=indent, ensure_ascii=False)


_FIELD_NOTES = {
    "name": "lower-case DNS label, unique: a-z, 0-9 and '-', 1..63 characters",
    "memory_mib": "MiB, binary (4 GB = 4096); default 1024 for a vm, 512 for a ct",
    "disks": "default: one disk, scsi0 (vm) or rootfs (ct), on local-lvm, 32 (vm) or 8 (ct) "
             "GiB; slots: scsiN/virtioN/sataN/ideN for a vm, rootfs and mpN for a ct; "
             "a ct mount point has a path, a bind mount a host_path and no size",
    "networks": "default: one, net0 on vmbr0 with ip 'dhcp'",
    "source": "one of {'clone': template name} (vm), {'iso': 'storage:iso/file.iso'} (vm), "
              "{'ostemplate': 'storage:vztmpl/file.tar.zst'} (ct)",
    "vmid": "explicit Proxmox ID, only when the text gives one",
    "node": "only when the text names a node",
    "balloon_mib": "vm: the ballooning minimum in MiB; 0 turns ballooning off",
    "ci_password": "the NAME of a credential holding the password, never the password",
    "cdroms": "vm CD-ROM drives: slot (ide2 by default) and an ISO volume, or iso null "
              "for an empty drive",
    "boot": "vm boot order as device slots, like ['scsi0', 'ide2', 'net0']",
    "machine": "q35, pc (i440fx), or a pinned version like pc-q35-9.0",
    "pci_devices": "vm PCI passthrough by resource mapping: slot hostpciN, mapping name",
    "usb_devices": "vm USB passthrough by resource mapping: slot usbN, mapping name",
    "features": "ct features: nesting, keyctl, fuse, mknod, mount=nfs;cifs",
}


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a ClusterSpec, as given to the LLM.

    Fields whose defaults depend on the kind (memory, disks, networks) are filled in by
    validation, so the schema marks them optional and says what the defaults are. Leave
    out (or null) every setting the text does not state: unstated settings are not managed.
    """
    schema = ClusterSpec.model_json_schema()
    guest = schema["$defs"]["GuestSpec"]
    guest["required"] = ["name"]
    for name, note in _FIELD_NOTES.items():
        guest["properties"][name]["description"] = note
    return schema
