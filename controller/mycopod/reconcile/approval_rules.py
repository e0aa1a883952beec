"""When a plan needs a person's approval, and whether an approval covers it (pure).

DESIGN.md's rules, in the order the reasons are listed:

- Budgets on creates: more than ``max_creates_per_run`` guests to create, or going over
  ``max_creates_per_window`` counted with what was created in the last
  ``budget_window_seconds`` (:class:`Recent`, which the engine reads from the database),
  so a limit cannot be dodged by splitting a change over several commits. An approval
  then covers the creates too: a re-plan with a create the approved plan did not hold
  waits again.
- Budgets on deletions: ``max_deletions_per_run`` and ``max_deletions_per_window``, the
  same way.
- An empty spec while MycoPod owns guests, with anything destructive planned.
- Destructive steps (delete, migrate) unless ``auto_approve_destructive``.
- Adopting an existing guest, unless ``adopt_needs_approval`` is off.
- Any action on a guest an LLM-compiled paragraph declares (``llm_guests``), unless
  ``llm_changes_need_approval`` is off: a model's reading is shown, never trusted.

Who may approve, and what approving does, is :mod:`mycopod.reconcile.approvals`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mycopod.config import PolicySettings
from mycopod.reconcile.plan import CREATE_KINDS, Plan


@dataclass(frozen=True)
class Recent:
    """Guests deleted and created in the cluster within the policy's budget window, as
    the database recorded them (the window budgets count these with the plan's own)."""

    deletions: int = 0
    creates: int = 0


def gate(plan: Plan, policy: PolicySettings, recent: Recent, *, spec_empty: bool,
         owns_guests: bool, llm_guests: Mapping[str, str] | None = None) -> None:
    """Set ``plan.approval_reasons`` and ``plan.creates_need_approval`` from its actions.

    ``spec_empty``: nothing is declared; ``owns_guests``: MycoPod owns guests now;
    ``llm_guests``: guest name -> the model whose paragraph declares it.
    """
    window = f"the last {policy.budget_window_seconds} s (budget_window_seconds)"
    reasons: list[str] = []
    creates = sum(1 for a in plan.actions if a.kind in CREATE_KINDS)
    if creates > policy.max_creates_per_run:
        reasons.append(f"{creates} guests to create exceed max_creates_per_run "
                       f"({policy.max_creates_per_run})")
    if creates and recent.creates + creates > policy.max_creates_per_window:
        reasons.append(f"{creates} guests to create, after {recent.creates} created in "
                       f"{window}, exceed max_creates_per_window "
                       f"({policy.max_creates_per_window})")
    plan.creates_need_approval = bool(reasons)
    adopted = sorted(a.target for a in plan.actions if a.kind == "adopt")
    if adopted and policy.adopt_needs_approval:
        plan.adoptions_need_approval = True
        reasons.append(f"adopting existing guests ({', '.join(adopted[:10])}"
                       f"{', ...' if len(adopted) > 10 else ''}) needs an admin's approval "
                       "(adopt_needs_approval)")
    destructive = plan.destructive
    deletions = sum(1 for a in destructive if a.kind == "delete")
    if deletions > policy.max_deletions_per_run:
        reasons.append(f"{deletions} deletions exceed max_deletions_per_run "
                       f"({policy.max_deletions_per_run})")
    if deletions and recent.deletions + deletions > policy.max_deletions_per_window:
        reasons.append(f"{deletions} deletion(s), after {recent.deletions} executed in "
                       f"{window}, exceed max_deletions_per_window "
                       f"({policy.max_deletions_per_window})")
    if destructive and spec_empty and owns_guests:
        reasons.append("the spec is empty while MycoPod owns guests")
    if destructive and not policy.auto_approve_destructive:
        kinds = sorted({a.kind for a in destructive})
        reasons.append(f"destructive steps ({', '.join(kinds)}) need approval "
                       "(auto_approve_destructive is off)")
    from_llm = sorted({a.target for a in plan.actions if a.target in (llm_guests or {})})
    if from_llm and policy.llm_changes_need_approval:
        models = sorted({(llm_guests or {})[t] for t in from_llm})
        reasons.append(f"changes to guests declared by paragraphs the LLM ({', '.join(models)})"
                       f" compiled ({', '.join(from_llm[:10])}"
                       f"{', ...' if len(from_llm) > 10 else ''}) need an admin's approval "
                       "(llm_changes_need_approval)")
    plan.approval_reasons = reasons


def approval_needed(plan: Plan, approved: set[tuple[str, str]] | None) -> bool:
    """True when the plan needs approval and ``approved`` (the approval keys of an
    approved plan, :meth:`Plan.approval_keys`) does not cover every step it gates."""
    if not plan.approval_reasons:
        return False
    if approved is None:
        return True
    return not plan.approval_keys() <= approved
