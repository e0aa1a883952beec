"""The plan comment's text (pure): where each planned guest comes from, and the comment
with several clusters (a section per cluster touched, the others named, none touched
said so) (issue 17)."""

from __future__ import annotations

from mycopod.forge.comment import ClusterComments, FileChange, PlanComment, render, render_clusters
from mycopod.reconcile.plan import CreateParams, Plan, make_action
from mycopod.reconcile.provenance import ParagraphSource


def _plan(guest: str, *, llm: bool = False) -> Plan:
    plan = Plan(actions=[make_action("create", id=f"{guest}#1:create", target=guest,
                                     guest_kind="vm", vmid=101, node="pve1",
                                     reason="missing: create",
                                     params=CreateParams(vmid=101, node="pve1"))])
    plan.sources = [ParagraphSource(
        guest=guest, file="site-a/web.md", line=3, text="web | 1 is a VM\nwith 2 cores",
        understood_as="web-1 is a VM with 2 cores", compiler="llm" if llm else "grammar",
        model="ollama/llama3.1" if llm else "", approval=llm)]
    return plan


def test_the_comment_says_where_each_planned_guest_comes_from() -> None:
    text = render(PlanComment(head_sha="a" * 40, files=[FileChange("site-a/web.md", "added")],
                              plan=_plan("web-1")))
    assert ("- `web-1` from `site-a/web.md:3`: \"web \\| 1 is a VM with 2 cores\" understood "
            "by grammar as: web-1 is a VM with 2 cores") in text
    llm = render(PlanComment(head_sha="a" * 40, plan=_plan("web-1", llm=True)))
    assert ("`web-1` from `site-a/web.md:3` (needs approval: from the LLM): \"web \\| 1 is "
            "a VM with 2 cores\" understood by ollama/llama3.1 as:") in llm
    # no plan, no sources section
    assert "comes from" not in render(PlanComment(head_sha="a" * 40))


def test_a_section_per_cluster_touched() -> None:
    a = PlanComment(head_sha="b" * 40, files=[FileChange("site-a/web.md", "modified")],
                    plan=_plan("web-1"))
    c = PlanComment(head_sha="b" * 40, files=[FileChange("db.md", "added")],
                    compile_error="db.md:1: not understood")
    text = render_clusters(ClusterComments(
        head_sha="b" * 40, sections=[("site-a", a), ("all", c)],
        folders={"site-a": "site-a/", "site-b": "site-b/", "all": ""}))
    assert text.startswith("<!-- mycopod:plan -->\n### MycoPod plan for `bbbbbbbbbbbb`\n")
    assert "**Clusters**: 2 of 3 touched: `site-a`, `all`" in text
    first = text.index("#### Cluster `site-a` (`site-a/`)")
    second = text.index("#### Cluster `all` (the whole repository)")
    assert first < text.index("| web-1 | create |") < second < text.index("db.md:1")
    assert "**Not touched** (no change to their folders): `site-b`" in text
    assert text.endswith("_Planned against the live clusters; nothing was applied._\n")


def test_no_cluster_touched_is_said() -> None:
    text = render_clusters(ClusterComments(head_sha="c" * 40,
                                           folders={"site-a": "site-a/", "site-b": ""}))
    assert ("**No cluster's declarations change**: this pull request changes no declaration "
            "file in any cluster's folder (`site-a/` (site-a), the whole repository "
            "(site-b)); nothing would be applied.") in text
    assert "#### Cluster" not in text and "Not touched" not in text
