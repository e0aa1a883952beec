"""The planner: whole desired state against whole observed state, into ordered actions.

``plan(spec, observed, policy) -> Plan`` is a pure function (no I/O, no clock), so every
rule of DESIGN.md's "Reconciliation rules" is a table test, and the Hypothesis
properties (idempotence, never an unowned guest, never a delete without policy or
approval, unique vmids) hold by construction.

Rules, in the order the code applies them:

- Guests match by name. Templates are never managed. An owned guest carries the
  ownership tag or is in the inventory; a declared name held by an unowned guest is a
  conflict, reported and untouched unless ``adopt_existing``.
- ``state = absent`` deletes an owned guest; an owned guest missing from the spec is an
  orphan, deleted only with ``prune``.
- A guest locked by a create or clone that is not MycoPod's by tag or inventory (no
  name yet, or not the recorded one) is half-created: a create cut short (Proxmox
  killed mid-task) or one in progress. It cannot be identified, so it is reported and
  never touched. If the inventory records its vmid for a declared name, that name is a
  conflict and is not created again (no duplicate when the create does finish); else
  the guest is an orphan.
- A declared name missing by name while a guest positively ours (the inventory records
  its vmid for that name, and it carries the ownership tag) is under another name is
  never created: :mod:`mycopod.reconcile.renamed` reports a wait (its placeholder name,
  config unread) or a conflict (renamed by hand), never an action.
- Only the settings a declaration states are managed: they are compared against the
  config with pending changes applied, and each difference is classified by
  :mod:`mycopod.reconcile.changes` (live, pending until a restart, cloud-init, destructive,
  heavy) and planned by :mod:`mycopod.reconcile.steps`. Disks only grow: a shrink or a
  storage change is a plan error. A change a running guest only takes after a restart
  is reported as pending unless ``restart_on_change`` (then stop and start are planned).
  Destructive changes (a declared disk or NIC removed, a new EFI/TPM state volume, a
  firmware change) need approval like deletions.
- A declared node change is a migration. A new guest's node and vmid come from
  :mod:`mycopod.reconcile.placement`.
- Delete and migrate are destructive. Whether the plan needs a person's approval
  (destructive steps, budgets on creates and deletions, an empty spec) is decided by
  :mod:`mycopod.reconcile.approval_rules` once every guest is planned.

The plan itself is the typed contract of :mod:`mycopod.reconcile.plan`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from mycopod.config import PolicySettings
from mycopod.proxmox import translate
from mycopod.proxmox.model import ObservedCluster, ObservedGuest
from mycopod.reconcile import approval_rules, renamed, steps
from mycopod.reconcile.approval_rules import Recent, approval_needed
from mycopod.reconcile.guest_facts import (
    declared_facts,
    default_ct_template,
    observed_facts,
    unfinished,
)
from mycopod.reconcile.placement import Placement, Unplaceable
from mycopod.reconcile.plan import (
    CREATE_KINDS,
    DESTRUCTIVE_KINDS,
    Action,
    AdoptParams,
    CloneParams,
    ConfigureParams,
    CreateParams,
    GuestIssue,
    GuestReport,
    MigrateParams,
    PendingRestart,
    Plan,
    PlanIssue,
    TagAdoptParams,
)
from mycopod.reconcile.plan_memo import PlanMemo
from mycopod.spec import ClusterSpec, GuestSpec, stated

__all__ = ["CREATE_KINDS", "DESTRUCTIVE_KINDS", "UNFINISHED_LOCKS", "Action", "GuestReport",
           "Plan", "Recent", "approval_needed", "plan"]

#: Proxmox's locks while a guest is being made: its config is not complete yet
UNFINISHED_LOCKS = frozenset({"create", "clone"})


# --- the planner -------------------------------------------------------------------------


class _Planner:
    def __init__(self, spec: ClusterSpec, observed: ObservedCluster,
                 policy: PolicySettings, recent: Recent,
                 llm_guests: Mapping[str, str] | None = None,
                 memo: PlanMemo | None = None) -> None:
        self.spec = spec
        self.memo = memo
        self.llm_guests = llm_guests
        self.observed = observed
        self.policy = policy
        self.recent = recent
        self.tag = policy.ownership_tag
        self.plan = Plan()
        self.placement = Placement(spec, observed, policy)
        self.templates = observed.templates()
        guests = [g for g in observed.guests if not g.template]
        self.owned: dict[str, list[ObservedGuest]] = {}
        self.unowned: dict[str, list[ObservedGuest]] = {}
        for guest in sorted(guests, key=lambda g: g.vmid):
            bucket = self.owned if guest.owned else self.unowned
            bucket.setdefault(guest.name, []).append(guest)
        #: half-created guests (see the module doc), and those of them whose vmid the
        #: inventory records for a name: that name's create, never finished
        self.unfinished = [g for g in sorted(guests, key=lambda g: g.vmid)
                           if not g.owned and g.lock in UNFINISHED_LOCKS]
        self.unfinished_for: dict[str, ObservedGuest] = {}
        for guest in reversed(self.unfinished):  # the lowest vmid wins a shared name
            if guest.recorded_name:
                self.unfinished_for[guest.recorded_name] = guest
        #: guests of ours under another name than the inventory's (module doc)
        self.renamed = renamed.index(guests, ownership_tag=self.tag,
                                     declared={g.name for g in spec.guests})
        #: vmids already reported as a conflict (or a wait)
        self.reported: set[int] = set()

    # -- entry ---------------------------------------------------------------------------

    def run(self) -> Plan:
        declared = {g.name for g in self.spec.guests}
        for guest in self.spec.guests:
            self._plan_guest(guest)
        for name in sorted(self.owned):
            extras = self.owned[name] if name not in declared else self.owned[name][1:]
            for extra in (e for e in extras if e.vmid not in self.reported):
                self._orphan(extra, duplicate=name in declared)
        for half in self.unfinished:
            if half.vmid not in self.reported:
                self._unfinished_orphan(half)
        approval_rules.gate(self.plan, self.policy, self.recent,
                            spec_empty=not self.spec.guests,
                            owns_guests=any(self.owned.values()),
                            llm_guests=self.llm_guests)
        return self.plan

    # -- one declared guest --------------------------------------------------------------

    def _pick_owned(self, guest: GuestSpec) -> ObservedGuest | None:
        found = self.owned.get(guest.name, [])
        if not found:
            return None
        if guest.vmid is not None:
            for candidate in found:
                if candidate.vmid == guest.vmid:
                    found.remove(candidate)
                    found.insert(0, candidate)
                    break
        return found[0]

    def _plan_guest(self, guest: GuestSpec) -> None:
        owned = self._pick_owned(guest)
        unowned = self.unowned.get(guest.name, [])
        if guest.state == "absent":
            if owned is not None:
                self._delete(owned, reason="declared absent")
            elif unowned:
                self._conflict(guest, unowned[0], "declared absent, but the guest is not "
                               "MycoPod's; left alone")
            return
        if owned is not None:
            self._converge_memo(guest, owned)
            return
        if unowned:
            other = unowned[0]
            if (guest.adopt or self.policy.adopt_existing) and other.lock is None:
                self._adopt(guest, other)
            else:
                self._conflict(guest, other, "a guest with this name exists and is not "
                               "MycoPod's; declare that it already exists (or set "
                               "adopt_existing) to adopt it")
            return
        for moved in self.renamed.get(guest.name, []):
            if moved.vmid not in self.reported:  # ours, under another name: never again
                self.reported.add(moved.vmid)
                renamed.report(self.plan, guest, moved, ownership_tag=self.tag)
                return
        held = self.unfinished_for.get(guest.name)
        if held is not None:
            self._conflict(guest, held, f"VMID {held.vmid} was being created for it and "
                           f"is still half-made ({unfinished(held)}); MycoPod neither "
                           "creates it again nor deletes that guest: once Proxmox "
                           "finishes it, it is used, else remove it by hand "
                           f"(qm unlock {held.vmid}; qm destroy {held.vmid})")
            return
        if guest.adopt and self.observed.reserved_names.get(guest.vmid or -1) != guest.name:
            self._error(guest.name, "declared as already existing, but no such guest was "
                        "found; remove 'already exists' to create it")
            return
        self._create(guest)  # a guest adopted before and gone since is rebuilt

    def _adopt(self, guest: GuestSpec, seen: ObservedGuest) -> None:
        """One ``adopt`` action: the ownership tag and the inventory row, nothing else;
        what the declaration would change afterwards is shown (report and params)."""
        change = steps.would_change(guest, seen, ownership_tag=self.tag)
        why = "declared as already existing" if guest.adopt else "adopt_existing"
        drift = [f"adopt ({why}): add the ownership tag and record it"]
        drift.append("after adoption the declaration changes: " + ", ".join(change)
                     if change else "after adoption the declaration changes nothing")
        self.plan.guests.append(GuestReport(
            name=guest.name, status="drifted", kind=guest.kind, vmid=seen.vmid,
            node=seen.node, declared=declared_facts(guest), observed=observed_facts(seen),
            drift=drift))
        builder = steps.Builder(guest, guest.kind)
        tags = translate.format_tags({*seen.tags, self.tag})
        builder.add("adopt", vmid=seen.vmid, node=seen.node, reason=drift[0],
                    params=AdoptParams(tags=tags, would_change=change))
        self.plan.actions.extend(builder.actions)

    def _conflict(self, guest: GuestSpec, other: ObservedGuest, message: str) -> None:
        self.reported.add(other.vmid)
        self.plan.conflicts.append(GuestIssue(name=guest.name, vmid=other.vmid,
                                              node=other.node, message=message))
        self.plan.guests.append(GuestReport(
            name=guest.name, status="conflict", kind=guest.kind, vmid=other.vmid,
            node=other.node, declared=declared_facts(guest), observed=observed_facts(other),
            drift=[message],
        ))

    def _orphan(self, guest: ObservedGuest, *, duplicate: bool) -> None:
        if guest.recorded_name and guest.recorded_name != guest.name:
            # renamed by hand: the inventory knows this vmid under another name, so the
            # guest cannot be positively identified as the one MycoPod made: never pruned
            renamed.renamed_orphan(self.plan, guest)
            return
        why = "a second guest with a declared name" if duplicate else "not in the spec"
        self.plan.orphans.append(GuestIssue(
            name=guest.name, vmid=guest.vmid, node=guest.node,
            message=why + ("; deleting (prune)" if self.policy.prune else
                           "; kept (prune is off)")))
        self.plan.guests.append(GuestReport(
            name=guest.name, status="orphan", kind=guest.kind, vmid=guest.vmid,
            node=guest.node, observed=observed_facts(guest), drift=[why],
        ))
        if self.policy.prune:
            self._delete(guest, reason=f"orphan ({why}), prune is on", report=False)

    def _unfinished_orphan(self, guest: ObservedGuest) -> None:
        """A half-created guest no declared name waits for: reported, never deleted
        (whatever ``prune`` says: nothing shows it is MycoPod's)."""
        whose = (f"MycoPod's create of {guest.recorded_name!r} never finished"
                 if guest.recorded_name else
                 "a create cut short (MycoPod's, if its record was lost) or in progress")
        why = (f"half-created ({unfinished(guest)}): {whose}; it cannot be identified, "
               "so MycoPod never deletes it: inspect it and remove it by hand")
        label = guest.name or f"VMID {guest.vmid}"
        self.plan.orphans.append(GuestIssue(name=label, vmid=guest.vmid, node=guest.node,
                                            message=why))
        self.plan.guests.append(GuestReport(
            name=label, status="orphan", kind=guest.kind, vmid=guest.vmid,
            node=guest.node, observed=observed_facts(guest), drift=[why],
        ))

    def _delete(self, guest: ObservedGuest, *, reason: str, report: bool = True) -> None:
        if guest.lock is not None:
            self._note(guest.name, f"locked ({guest.lock}); delete skipped")
            return
        builder = steps.Builder(guest, guest.kind)
        if guest.running:
            builder.add("stop", vmid=guest.vmid, node=guest.node,
                        reason=f"stop before delete ({reason})")
        builder.add("delete", vmid=guest.vmid, node=guest.node,
                    reason=f"{reason}: delete VMID {guest.vmid} and its disks")
        self.plan.actions.extend(builder.actions)
        if report:
            self.plan.guests.append(GuestReport(
                name=guest.name, status="drifted", kind=guest.kind, vmid=guest.vmid,
                node=guest.node, observed=observed_facts(guest), drift=[reason],
            ))

    # -- existing guest ------------------------------------------------------------------

    def _converge_memo(self, guest: GuestSpec, seen: ObservedGuest) -> None:
        context = (self.tag, self.policy.restart_on_change)  # what else _converge reads
        if self.memo is None or not self.memo.replay(self.plan, guest, seen, context):
            marks = PlanMemo.mark(self.plan)
            self._converge(guest, seen, adopt=False)
            if self.memo is not None:
                self.memo.record(self.plan, marks, guest, seen, context)

    def _converge(self, guest: GuestSpec, seen: ObservedGuest, *, adopt: bool) -> None:
        report = GuestReport(name=guest.name, status="in-sync", kind=guest.kind,
                             vmid=seen.vmid, node=seen.node, declared=declared_facts(guest),
                             observed=observed_facts(seen))
        self.plan.guests.append(report)
        if seen.kind != guest.kind:
            self._error(guest.name, f"declared a {guest.kind} but VMID {seen.vmid} is a "
                        f"{seen.kind}; delete it or change the declaration")
            report.status = "drifted"
            report.drift.append("kind differs")
            return
        if seen.lock is not None:
            report.status = "locked"
            report.drift.append(f"locked ({seen.lock}); skipped this run")
            self._note(guest.name, f"locked ({seen.lock}); skipped this run")
            return
        config = seen.effective
        builder = steps.Builder(guest, guest.kind)
        vmid, node = seen.vmid, seen.node
        if guest.vmid is not None and guest.vmid != seen.vmid:
            self._note(guest.name, f"declared ID {guest.vmid} but it exists as {seen.vmid}; "
                       "IDs are kept once assigned")
        if adopt or self.tag not in seen.tags:
            want = translate.desired_tags(guest, self.tag)
            builder.add("tag_adopt", vmid=vmid, node=node,
                        params=TagAdoptParams(tags=translate.format_tags(want)),
                        reason="adopt existing guest (adopt_existing)" if adopt else
                        f"ownership tag {self.tag} missing: restore it")
        if config is None:
            if not adopt:
                self._error(guest.name, "its config could not be read; retried next run")
            self.plan.actions.extend(builder.actions)
            return
        if guest.node is not None and guest.node != seen.node:
            builder.add("migrate", vmid=vmid, node=node,
                        params=MigrateParams(target=guest.node, online=seen.running),
                        reason=f"node {seen.node} → {guest.node}")
            node = guest.node
        if guest.state == "stopped" and seen.running:
            builder.add("stop", vmid=vmid, node=node, reason="state running → stopped")
        settings = steps.plan_settings(guest, seen, config, builder, report, node=node,
                                       ownership_tag=self.tag)
        for error in settings.errors:
            self._error(guest.name, error)
        restart_fields = settings.restart
        will_run = seen.running and guest.state == "running"
        if will_run and restart_fields:
            if self.policy.restart_on_change:
                builder.add("stop", vmid=vmid, node=node,
                            reason="restart to apply " + ", ".join(restart_fields))
                builder.add("start", vmid=vmid, node=node,
                            reason="restart to apply " + ", ".join(restart_fields))
            else:
                self.plan.pending_restart.append(PendingRestart(
                    name=guest.name, vmid=vmid, changes=tuple(restart_fields)))
                report.drift.append("pending restart: " + ", ".join(restart_fields))
                if report.status == "in-sync":
                    report.status = "pending-restart"
        if guest.state == "running" and not seen.running:
            builder.add("start", vmid=vmid, node=node,
                        reason=f"state {seen.status} → running")
        if builder.actions:
            report.status = "drifted"
            report.drift.extend(a.reason for a in builder.actions)
        self.plan.actions.extend(builder.actions)

    # -- new guest -------------------------------------------------------------------

    def _create(self, guest: GuestSpec) -> None:
        report = GuestReport(name=guest.name, status="missing", kind=guest.kind,
                             declared=declared_facts(guest))
        self.plan.guests.append(report)
        try:
            vmid = self.placement.allocate(guest)
        except Unplaceable as exc:
            self._error(guest.name, str(exc))
            return
        source = guest.source
        template: ObservedGuest | None = None
        if source is not None and source.clone is not None:
            template = self.templates.get(source.clone)
            if template is None:
                self._error(guest.name, f"template {source.clone!r} not found in the "
                            "cluster; create it or fix the name")
                return
            if template.kind != guest.kind:
                self._error(guest.name, f"template {source.clone!r} is a {template.kind}, "
                            f"declared a {guest.kind}")
                return
        # a clone lands on its template's node unless a node is declared: the template's
        # disks are there, and may not be on shared storage
        try:
            node = self.placement.place(guest, near=template.node if template else None)
        except Unplaceable as exc:
            self._error(guest.name, str(exc))
            return
        report.vmid, report.node = vmid, node
        builder = steps.Builder(guest, guest.kind)
        if source is not None and template is not None:
            builder.add("clone", vmid=vmid, node=node, params=CloneParams(
                template_vmid=template.vmid, template_node=template.node, newid=vmid,
                target=node, storage=guest.disks[0].storage if guest.disks else None,
                pool=guest.pool,
            ), reason=f"missing: create from template {source.clone}")
            builder.add("configure", vmid=vmid, node=node, params=ConfigureParams(
                fields=tuple(sorted(stated(guest) - {"name", "kind", "state", "node",
                                                     "vmid", "source", "pool"})),
                fresh=True),
                        reason=f"apply declared settings to the clone ({guest.cores} "
                        f"core{'s' if guest.cores != 1 else ''}, {guest.memory_mib} MiB, "
                        + ", ".join(f"{d.slot} {d.size_gib} GiB" for d in guest.disks) + ")")
        else:
            ostemplate: str | None = None
            cores = f"{guest.cores} core" + ("s" if guest.cores != 1 else "")
            what = f"{cores}, {guest.memory_mib} MiB, " + ", ".join(
                f"{d.slot} {d.size_gib} GiB on {d.storage}" for d in guest.disks)
            if guest.kind == "ct":
                template_volume = source.ostemplate if source is not None else None
                if template_volume is None:
                    template_volume = default_ct_template(self.observed.ct_templates)
                    if template_volume is None:
                        self._error(guest.name, "no LXC template declared and none found "
                                    "on any storage; declare one (from the template "
                                    "local:vztmpl/...)")
                        return
                ostemplate = template_volume
                reason = f"missing: create container from LXC template {template_volume} ({what})"
            elif source is not None and source.iso is not None:
                reason = f"missing: create VM booting ISO {source.iso} ({what})"
            else:
                reason = f"missing: create VM ({what})"
            builder.add("create", vmid=vmid, node=node, reason=reason,
                        params=CreateParams(vmid=vmid, node=node, ostemplate=ostemplate))
        if guest.state == "running":
            builder.add("start", vmid=vmid, node=node, reason="state none → running")
        report.drift.extend(a.reason for a in builder.actions)
        self.plan.actions.extend(builder.actions)

    def _error(self, name: str, message: str) -> None:
        self.plan.errors.append(PlanIssue(guest=name, message=message))

    def _note(self, name: str, message: str) -> None:
        self.plan.notes.append(PlanIssue(guest=name, message=message))


def plan(spec: ClusterSpec, observed: ObservedCluster, policy: PolicySettings, *,
         recent: Recent | None = None, llm_guests: Mapping[str, str] | None = None,
         memo: PlanMemo | None = None) -> Plan:
    """The ordered actions that take ``observed`` to ``spec`` under ``policy`` (pure).

    ``recent``: what was deleted and created within the budget window (none if omitted);
    ``llm_guests``: the guests LLM-compiled paragraphs declare (name -> model);
    ``memo``: per-guest results of the last pass, replayed where nothing changed.
    """
    recent = recent or Recent()
    inputs = (recent, dict(llm_guests) if llm_guests is not None else None)
    if memo is not None and (same := memo.whole(spec, observed, policy, inputs)) is not None:
        return same  # nothing changed since the last plan: that plan again
    with memo.pass_() if memo is not None else contextlib.nullcontext():
        made = _Planner(spec, observed, policy, recent, llm_guests, memo).run()
    if memo is not None:
        memo.keep_whole(made, spec, observed, policy, inputs)
    return made
