"""Policy llm_changes_need_approval: actions on guests an LLM paragraph declares wait."""

from __future__ import annotations

from mycopod import spec as specmod
from mycopod.reconcile import planner
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
