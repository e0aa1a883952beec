"""The desired-state model: what the owner's words compile to. Pure: no I/O.

This is the contract between the compilers (grammar and LLM) and the planner, and the
shape ``mycopod compile --json`` prints (see DESIGN.md, "The spec contract"). Guests and
their devices are sorted and tags are normalised, so two specs that mean the same
compare equal with ``==``. What the text stated is recorded (:func:`stated`): only that
is managed. Limits come from the Proxmox VE API schema: a spec that validates here is
one Proxmox would accept.

- :mod:`.limits`: formats and bounds; :mod:`.base`: stated-ness;
- :mod:`.devices`: disks, CD-ROMs, NICs, EFI/TPM, passthrough, startup, source;
- :mod:`.guest`: a guest and the cluster; :mod:`.checks`: checks across fields;
- :mod:`.defaults`: the creation defaults; :mod:`.contract`: parsing and serialising.
"""

from pydantic import ValidationError

from mycopod.spec.base import SpecModel, stated
from mycopod.spec.contract import (
    CONTRACT_FIELDS,
    SpecError,
    canonical_json,
    contract_dict,
    guest_dict,
    json_schema,
    parse_spec,
    spec_dict,
)
from mycopod.spec.defaults import CREATION_DEFAULTS, CT_MOUNT_ROOT
from mycopod.spec.devices import (
    CdromSpec,
    CloudInitDriveSpec,
    DiskSpec,
    EfiDiskSpec,
    NetworkSpec,
    PassthroughSpec,
    Source,
    StartupSpec,
    TpmSpec,
)
from mycopod.spec.guest import CT_ONLY, KIND_DEFAULTS, VM_ONLY, ClusterSpec, GuestSpec, Kind, State
from mycopod.spec.limits import (
    CORES_MAX,
    CORES_MIN,
    DEFAULT_BRIDGE,
    DEFAULT_STORAGE,
    DISK_MAX_GIB,
    DISK_MIN_GIB,
    MEMORY_MAX_MIB,
    MEMORY_MIN_MIB,
    NAME_RE,
    NET_SLOT_RE,
    NODE_RE,
    SSH_KEY_RE,
    TAG_RE,
    VLAN_MAX,
    VLAN_MIN,
    VMID_MAX,
    VMID_MIN,
)

#: the kind-dependent contract defaults (memory, first disk), by their old name
DEFAULTS = KIND_DEFAULTS

__all__ = [
    "CONTRACT_FIELDS", "CORES_MAX", "CORES_MIN", "CREATION_DEFAULTS", "CT_MOUNT_ROOT",
    "CT_ONLY", "DEFAULTS", "DEFAULT_BRIDGE", "DEFAULT_STORAGE", "DISK_MAX_GIB",
    "DISK_MIN_GIB", "KIND_DEFAULTS", "MEMORY_MAX_MIB", "MEMORY_MIN_MIB", "NAME_RE",
    "NET_SLOT_RE", "NODE_RE", "SSH_KEY_RE", "TAG_RE", "VLAN_MAX", "VLAN_MIN", "VMID_MAX",
    "VMID_MIN", "VM_ONLY", "CdromSpec", "CloudInitDriveSpec", "ClusterSpec", "DiskSpec",
    "EfiDiskSpec", "GuestSpec",
    "Kind", "NetworkSpec", "PassthroughSpec", "Source", "SpecError", "SpecModel", "StartupSpec",
    "State", "TpmSpec", "ValidationError", "canonical_json", "contract_dict", "guest_dict",
    "json_schema", "parse_spec", "spec_dict", "stated",
]
