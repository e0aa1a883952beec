"""Policy llm_changes_need_approval: actions on guests an LLM paragraph declares wait."""

from __future__ import annotations

from mycopod import spec as specmod
from mycopod.reconcile import planner
from mycopod.reconcile.approval_rules import approval_needed
from mycopod.reconcile.plan import Plan
from mycopod.reconcile.provenance import ParagraphSource
from tests.support.plans import cluster, observed_guest, policy

SPEC = specmod.parse_spec({"guests": [{"name": "web-1", "kind": "vm", "cores": 2},
                                      {"name": "web-2", "kind": "vm", "cores": 4}]})


def test_a_change_from_an_llm_paragraph_waits_for_approval() -> None:
    plan = planner.plan(SPEC, cluster(), policy(), llm_guests={"web-2": "openai/m"})
    assert [r for r in plan.approval_reasons if "llm_changes_need_approval" in r] == [
        "changes to guests declared by paragraphs the LLM (openai/m) compiled (web-2) need "
        "an admin's approval (llm_changes_need_approval)"]


def test_the_policy_off_or_grammar_only_guests_do_not_wait() -> None:
    llm = {"web-2": "openai/m"}
    assert planner.plan(SPEC, cluster(), policy(llm_changes_need_approval=False),
                        llm_guests=llm).approval_reasons == []
    assert planner.plan(SPEC, cluster(), policy(), llm_guests={}).approval_reasons == []


def test_an_llm_guest_already_as_declared_needs_nothing() -> None:
    web2 = observed_guest(SPEC.guests[1], 101, running=True)
    web1 = observed_guest(SPEC.guests[0], 100, running=True)
    plan = planner.plan(SPEC, cluster(web1, web2), policy(), llm_guests={"web-2": "m"})
    assert plan.actions == [] and plan.approval_reasons == []


def _source(guest: str, compiler: str, *, approval: bool) -> ParagraphSource:
    return ParagraphSource(guest=guest, file="w.md", line=3, text=f"{guest} is beefy.",
                           understood_as=f"{guest} is a VM.", compiler=compiler,
                           model="openai/m" if compiler == "llm" else "", approval=approval)


def test_an_approval_covers_exactly_the_llm_sourced_actions_it_showed() -> None:
    plan = planner.plan(SPEC, cluster(), policy(), llm_guests={"web-2": "openai/m"})
    plan.sources = [_source("web-1", "grammar", approval=False),
                    _source("web-2", "llm", approval=True)]
    shown = {("create", "web-2"), ("start", "web-2")}
    assert plan.approval_keys() == shown
    # stored and read back (an approval re-reads the stored plan), the keys are the same
    assert Plan.from_json(plan.to_json()).approval_keys() == shown
    assert not approval_needed(plan, shown)
    # an approval of a plan that did not show this LLM action does not cover it
    assert approval_needed(plan, set())
    # grammar-sourced actions, or the policy off (approval False), vouch for nothing
    plan.sources = [_source("web-2", "llm", approval=False)]
    assert plan.approval_keys() == set()


def test_a_drift_check_leaves_llm_sourced_corrections_to_an_approved_run() -> None:
    """check_drift queues only the targets outside approval_keys()."""
    web1 = observed_guest(SPEC.guests[0], 100, running=True)
    drifted = observed_guest(SPEC.guests[1].model_copy(update={"cores": 2}), 101,
                             running=True)
    plan = planner.plan(SPEC, cluster(web1, drifted), policy(),
                        llm_guests={"web-2": "openai/m"})
    assert [a.target for a in plan.actions] == ["web-2"]
    plan.sources = [_source("web-2", "llm", approval=True)]
    gated = {t for _k, t in plan.approval_keys()}
    assert {a.target for a in plan.actions} - gated == set()
