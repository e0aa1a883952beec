"""The plan contract: what the planner decided, as typed and versioned values.

A plan is stored (``reconciliation_runs.plan``), read again when a run is approved (the
approval covers the steps of the stored plan), printed by the CLI and shown by the API
and the status page. So it is one set of pydantic models rather than dictionaries that
every reader interprets on its own:

- an action is one of eleven models, discriminated by ``kind``; each carries the typed
  parameters of its kind (:class:`CreateParams`, ...), which the executor reads;
- orphans and conflicts are :class:`GuestIssue`, plan errors and notes :class:`PlanIssue`,
  pending restarts :class:`PendingRestart`, a User's unapproved change
  :class:`PlannedUserChange`, each guest's paragraph ``ParagraphSource`` (provenance);
- :class:`ClusterReport` is the status-page view of a plan (``reconciler.report``), stored
  as the run's ``summary``.

The stored JSON keeps the shape it always had (``{"actions": [{"id", "kind", "target",
..., "params": {...}}], "orphans": [...], ...}``) plus ``version``. A plan stored
before the version existed reads as version 0, whose shape is version 1's; a plan of a
later version is refused with :class:`PlanVersionError` rather than misread. Bump
:data:`PLAN_VERSION` when a change would make an older reader misread a plan, and teach
:meth:`Plan.from_json` to upgrade the older shape.

Pure: pydantic and the standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
)

from mycopod.errors import MycoPodError
from mycopod.reconcile.provenance import ParagraphSource

#: the version of the stored JSON this code writes, and the newest it reads
PLAN_VERSION = 3

ActionKind = Literal[
    "create", "clone", "configure", "resize_disk", "start", "stop", "delete", "migrate",
    "tag_adopt", "remove_device", "set_pool", "adopt",
]
GuestKind = Literal["vm", "ct"]
GuestStatus = Literal["in-sync", "drifted", "missing", "pending-restart", "locked", "orphan",
                      "conflict"]
#: always destructive; a ``configure`` is when it replaces an EFI/TPM state volume or
#: changes the firmware (:mod:`mycopod.reconcile.changes`)
DESTRUCTIVE_KINDS = frozenset({"delete", "migrate", "remove_device"})
#: the actions that make a new guest (one per guest)
CREATE_KINDS = frozenset({"create", "clone"})


class PlanVersionError(MycoPodError):
    """A stored plan this MycoPod cannot read (written by a newer one, or damaged)."""


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- the parameters of each kind of action ------------------------------------------------


class Params(_Value):
    """The base of every kind's parameters."""


class NoParams(Params):
    """start, stop and delete: the guest (vmid, node) is all they need."""


class CreateParams(Params):
    vmid: int
    node: str
    #: a container's LXC template volume; None for a VM
    ostemplate: str | None = None

    @model_serializer(mode="wrap")
    def _without_vm_template(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("ostemplate") is None:  # a VM's create stores {vmid, node}, as always
            data.pop("ostemplate", None)
        return data


class CloneParams(Params):
    template_vmid: int
    template_node: str
    newid: int
    #: the node the clone lands on
    target: str
    #: storage of the clone's disks (the first declared disk's), None: the template's
    storage: str | None = None
    pool: str | None = None


class ConfigureParams(Params):
    #: the managed fields that differ (for a fresh clone: every declared one)
    fields: tuple[str, ...] = ()
    #: the Proxmox config keys this step writes (the executor writes no other);
    #: None (plans before version 2): every non-destructive difference
    keys: tuple[str, ...] | None = None
    #: a fresh clone: every stated setting, disks grown too
    fresh: bool = False

    @model_serializer(mode="wrap")
    def _compact(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("keys") is None:  # stored as before version 2 when not used
            data.pop("keys", None)
        if not data.get("fresh"):
            data.pop("fresh", None)
        return data


class RemoveDeviceParams(Params):
    #: the device keys to remove (``scsi1``, ``net1``, ``mp0``, ...)
    keys: tuple[str, ...]


class SetPoolParams(Params):
    pool: str
    #: the pool the guest is in now (None: none)
    old: str | None = None


class ResizeDiskParams(Params):
    disk: str
    #: Proxmox's size, e.g. ``40G``
    size: str


class MigrateParams(Params):
    target: str
    #: the guest was running when planned (the executor checks again)
    online: bool = False


class TagAdoptParams(Params):
    #: the whole tags value to write (the ownership tag included)
    tags: str


class AdoptParams(TagAdoptParams):
    #: the guest's tags plus the ownership tag; and the config keys (or node, state) the
    #: declaration would change once the guest is MycoPod's (shown, not done by adopt)
    would_change: tuple[str, ...] = ()


# --- actions ----------------------------------------------------------------------------


class _Step(_Value):
    """One step on one guest. ``target`` is the guest's name."""

    id: str
    kind: ActionKind
    target: str
    guest_kind: GuestKind = "vm"
    vmid: int | None = None
    node: str | None = None
    params: Params = Params()
    reason: str = ""
    destructive: bool = False
    depends_on: tuple[str, ...] = ()


class CreateAction(_Step):
    kind: Literal["create"] = "create"
    params: CreateParams


class CloneAction(_Step):
    kind: Literal["clone"] = "clone"
    params: CloneParams


class ConfigureAction(_Step):
    kind: Literal["configure"] = "configure"
    params: ConfigureParams = ConfigureParams()


class ResizeDiskAction(_Step):
    kind: Literal["resize_disk"] = "resize_disk"
    params: ResizeDiskParams


class StartAction(_Step):
    kind: Literal["start"] = "start"
    params: NoParams = NoParams()


class StopAction(_Step):
    kind: Literal["stop"] = "stop"
    params: NoParams = NoParams()


class DeleteAction(_Step):
    kind: Literal["delete"] = "delete"
    params: NoParams = NoParams()


class MigrateAction(_Step):
    kind: Literal["migrate"] = "migrate"
    params: MigrateParams


class TagAdoptAction(_Step):
    kind: Literal["tag_adopt"] = "tag_adopt"
    params: TagAdoptParams


class AdoptAction(_Step):
    kind: Literal["adopt"] = "adopt"
    params: AdoptParams


class RemoveDeviceAction(_Step):
    kind: Literal["remove_device"] = "remove_device"
    params: RemoveDeviceParams


class SetPoolAction(_Step):
    kind: Literal["set_pool"] = "set_pool"
    params: SetPoolParams


Action = Annotated[
    CreateAction | CloneAction | ConfigureAction | ResizeDiskAction | StartAction
    | StopAction | DeleteAction | MigrateAction | TagAdoptAction | RemoveDeviceAction
    | SetPoolAction | AdoptAction,
    Field(discriminator="kind"),
]
_ACTION_TYPES: dict[str, type[_Step]] = {
    cls.model_fields["kind"].default: cls
    for cls in (CreateAction, CloneAction, ConfigureAction, ResizeDiskAction, StartAction,
                StopAction, DeleteAction, MigrateAction, TagAdoptAction, RemoveDeviceAction,
                SetPoolAction, AdoptAction)
}


def make_action(kind: ActionKind, *, id: str, target: str, guest_kind: GuestKind,
                vmid: int | None, node: str | None, reason: str,
                params: Params | None = None,
                depends_on: tuple[str, ...] = (), destructive: bool = False) -> Action:
    """The action of ``kind``; ``params`` must be that kind's (checked: a
    :class:`CreateParams` given to a ``start`` is a ValidationError). ``destructive``
    marks a step of a usually safe kind (a configure that replaces a state volume)."""
    return cast("Action", _ACTION_TYPES[kind].model_validate({
        "id": id, "kind": kind, "target": target, "guest_kind": guest_kind, "vmid": vmid,
        "node": node, "params": params if params is not None else {}, "reason": reason,
        "destructive": destructive or kind in DESTRUCTIVE_KINDS, "depends_on": depends_on,
    }))


# --- what the plan reports besides its actions --------------------------------------------


# The planner makes one GuestReport and two GuestFacts per guest on every pass (3,000
# objects per drift tick at 1,000 guests). As pydantic models their validation doubled a
# no-op steady tick (bench/reconcile.py); as slotted dataclasses they cost a tenth of that.
# Pydantic still validates them where they come from outside (Plan.from_json),
# serializes them and describes them in the OpenAPI document.


@dataclass(slots=True)
class GuestFacts:
    """The few settings the status page compares, declared or observed."""

    cores: int | None = None
    memory_mib: int | None = None
    state: str | None = None
    node: str | None = None
    vmid: int | None = None


@dataclass(slots=True)
class GuestReport:
    """One guest as the status page shows it: declared vs observed, drift marked."""

    name: str
    status: GuestStatus
    kind: GuestKind
    vmid: int | None = None
    node: str | None = None
    declared: GuestFacts | None = None
    observed: GuestFacts | None = None
    drift: list[str] = field(default_factory=list)
    #: config keys MycoPod never manages (raw ``args``, ``lxc.*`` lines, the hookscript,
    #: device nodes): kept as they are; stored only when there are any
    left_alone: Annotated[list[str], Field(exclude_if=lambda v: not v)] = field(
        default_factory=list)


class GuestIssue(_Value):
    """An orphan (owned, not declared) or a conflict (declared, not MycoPod's)."""

    name: str
    vmid: int
    node: str
    message: str


class PlanIssue(_Value):
    """A plan error (nothing is planned for that guest) or a note."""

    guest: str
    message: str


class PendingRestart(_Value):
    """Changes a running guest only takes at its next restart (restart_on_change off)."""

    name: str
    vmid: int | None
    changes: tuple[str, ...]


class PlannedUserChange(_Value):
    """A User's submission no Admin approved yet; approving the plan covers it."""

    declaration_id: int
    commit_sha: str
    path: str
    user_id: int | None = None
    username: str | None = None
    submitted_at: datetime


class Plan(BaseModel):
    """The ordered actions of one reconcile, and what it found on the way."""

    version: int = PLAN_VERSION
    actions: list[Action] = Field(default_factory=list)
    guests: list[GuestReport] = Field(default_factory=list)
    orphans: list[GuestIssue] = Field(default_factory=list)
    conflicts: list[GuestIssue] = Field(default_factory=list)
    pending_restart: list[PendingRestart] = Field(default_factory=list)
    errors: list[PlanIssue] = Field(default_factory=list)
    notes: list[PlanIssue] = Field(default_factory=list)
    #: why this plan needs a person's approval; empty when it does not
    approval_reasons: list[str] = Field(default_factory=list)
    #: the creates are over a budget: an approval must cover each of them
    creates_need_approval: bool = False
    #: adoptions wait for an admin (adopt_needs_approval); stored only when true
    adoptions_need_approval: bool = Field(False, exclude_if=lambda v: not v)
    #: Users' changes waiting for an Admin (the engine fills it in, not the planner)
    user_changes: list[PlannedUserChange] = Field(default_factory=list)
    #: the paragraph each guest acted on comes from, "understood as" (the engine's)
    sources: list[ParagraphSource] = Field(default_factory=list, exclude_if=lambda v: not v)

    @property
    def has_changes(self) -> bool:
        return bool(self.actions)

    @property
    def destructive(self) -> list[Action]:
        return [a for a in self.actions if a.destructive]

    def destructive_keys(self) -> set[tuple[str, str]]:
        return {(a.kind, a.target) for a in self.actions if a.destructive}

    def approval_keys(self) -> set[tuple[str, str]]:
        """The steps an approval of this plan vouches for (kind, target): the destructive
        ones, the creates over a budget, adoptions, and those from LLM paragraphs."""
        keys = self.destructive_keys()
        gated = {s.guest for s in self.sources if s.approval}
        keys |= {(a.kind, a.target) for a in self.actions if a.target in gated}
        if self.creates_need_approval:
            keys |= {(a.kind, a.target) for a in self.actions if a.kind in CREATE_KINDS}
        if self.adoptions_need_approval:
            keys |= {(a.kind, a.target) for a in self.actions if a.kind == "adopt"}
        return keys

    def to_json(self) -> dict[str, Any]:
        """The stored form (plain JSON values)."""
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Plan:
        """A stored plan: of this version, or of an older one (upgraded on the way).
        Raises :class:`PlanVersionError` for a newer MycoPod's plan, or not a plan."""
        if not data:
            return cls()
        version = data.get("version", 0)
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise PlanVersionError(f"the stored plan has an invalid version {version!r}; "
                                   "reconcile again to make a new plan")
        if version > PLAN_VERSION:
            raise PlanVersionError(
                f"the stored plan is of version {version}, written by a newer MycoPod; "
                f"this one reads plans up to version {PLAN_VERSION}: upgrade MycoPod, or "
                "reconcile again to make a new plan")
        # version 0 (stored before plans carried a version) has version 1's shape, and
        # version 1's is version 2's minus the new kinds and optional fields
        try:
            return cls.model_validate({**data, "version": PLAN_VERSION})
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            raise PlanVersionError(f"the stored plan is not readable ({where}: "
                                   f"{first['msg']}); reconcile again to make a new "
                                   "plan") from None


# --- the status-page report ---------------------------------------------------------------


class AppliedSummary(BaseModel):
    """What the executor did with a plan (added to the report once applied)."""

    actions: int
    succeeded: list[str] = Field(default_factory=list)
    #: guest name → first error message
    failed: dict[str, str] = Field(default_factory=dict)


class ClusterReport(BaseModel):
    """The status-page view of a plan: guests (declared vs observed, drift), orphans,
    conflicts, pending restarts and plan errors, with counts. Stored as a run's
    ``summary``."""

    managed: int = 0
    drifted: int = 0
    orphaned: int = 0
    conflicts: list[GuestIssue] = Field(default_factory=list)
    orphans: list[GuestIssue] = Field(default_factory=list)
    pending_restart: list[PendingRestart] = Field(default_factory=list)
    errors: list[PlanIssue] = Field(default_factory=list)
    guests: list[GuestReport] = Field(default_factory=list)
    #: how many actions the plan holds
    actions: int = 0
    #: when the cluster was observed (Unix time)
    observed_at: float = 0.0
    applied: AppliedSummary | None = None

    def to_json(self) -> dict[str, Any]:
        """The stored form; ``applied`` only once there is something to say."""
        return self.model_dump(mode="json",
                               exclude={"applied"} if self.applied is None else None)
