"""The text of a pull request's plan comment (Markdown). Pure: values in, text out.

One comment per pull request, updated in place at each push: it starts with a hidden
marker naming the pull request, then shows the files the pull request changes, how each
paragraph of them was understood, the compile errors with ``file:line``, and the plan
against the live cluster as a table (guest, action, reason, change class, approval).
The same text is what ``mycopod plan --markdown`` prints for other CI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mycopod.reconcile.plan import Plan

__all__ = ["ClusterComments", "FileChange", "Paragraph", "PlanComment", "change_class",
           "render", "render_clusters"]

MARKER = "<!-- mycopod:plan -->"
#: rows of the plan table shown; the rest are counted
MAX_ROWS = 100


@dataclass(frozen=True)
class FileChange:
    path: str
    #: added, modified or removed
    change: str


@dataclass(frozen=True)
class Paragraph:
    path: str
    line: int
    text: str
    #: how it was understood: one rendered declaration per guest
    understood: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    #: what the grammar read here and deliberately did not use ("ignored as ...")
    ignored: tuple[str, ...] = ()


@dataclass
class PlanComment:
    head_sha: str
    files: list[FileChange] = field(default_factory=list)
    paragraphs: list[Paragraph] = field(default_factory=list)
    #: the compile error (every problem names file:line); None: it compiles
    compile_error: str | None = None
    plan: Plan | None = None
    #: why there is no plan when it compiles (no cluster configured, Proxmox unreachable)
    plan_unavailable: str | None = None
    number: int | None = None


@dataclass
class ClusterComments:
    """The comment with several clusters: one :class:`PlanComment` per cluster whose
    folder the pull request touches, in the configured order."""

    head_sha: str
    #: (cluster name, its plan comment) for each cluster touched
    sections: list[tuple[str, PlanComment]] = field(default_factory=list)
    #: cluster name -> its folder ("site-a/"; "" for the whole repository), every cluster
    #: planned for this repository, touched or not
    folders: dict[str, str] = field(default_factory=dict)
    number: int | None = None

    @property
    def untouched(self) -> list[str]:
        touched = {name for name, _ in self.sections}
        return [name for name in self.folders if name not in touched]


def change_class(plan: Plan, kind: str, target: str, destructive: bool) -> str:
    if destructive:
        return "destructive"
    if kind in ("create", "clone"):
        return "create"
    if kind in ("start", "stop"):
        return "power"
    if kind == "migrate":
        return "heavy"
    if kind == "configure":
        restart = {p.name for p in plan.pending_restart}
        return "restart" if target in restart else "live"
    return "live" if kind == "resize_disk" else kind


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


#: what Markdown (GitHub's, CommonMark) could read as markup or HTML in a line of text
_MARKUP = re.compile(r"([\\`*_\[\]<>|~&])")


def _literal(text: str) -> str:
    """``text`` on one line, every character that Markdown could take for markup or HTML
    backslash-escaped: a ``<b>`` or a backtick in it is shown as written."""
    return _MARKUP.sub(r"\\\1", " ".join(text.split()))


def _short(note: str) -> str:
    """A grammar note under "ignored:": ``ignored as context: 'x'`` as ``as context: 'x'``."""
    return note.removeprefix("ignored ")


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.strip().splitlines())


def render(comment: PlanComment) -> str:
    out = [MARKER, f"### MycoPod plan for `{comment.head_sha[:12]}`", ""]
    out += _body(comment)
    out.append("_Planned against the live cluster; nothing was applied._")
    return "\n".join(out) + "\n"


def _folder(path: str) -> str:
    return f"`{path}`" if path else "the whole repository"


def render_clusters(comment: ClusterComments) -> str:
    """The comment with several clusters: a section per cluster touched, headed by its
    name; the clusters not touched are listed."""
    out = [MARKER, f"### MycoPod plan for `{comment.head_sha[:12]}`", ""]
    if not comment.sections:
        where = ", ".join(f"{_folder(path)} ({name})" for name, path in comment.folders.items())
        out += ["**No cluster's declarations change**: this pull request changes no "
                f"declaration file in any cluster's folder ({where}); nothing would be "
                "applied.", ""]
    else:
        names = ", ".join(f"`{name}`" for name, _ in comment.sections)
        out += [f"**Clusters**: {len(comment.sections)} of {len(comment.folders)} touched: "
                f"{names}", ""]
    for name, section in comment.sections:
        out += [f"#### Cluster `{name}` ({_folder(comment.folders.get(name, ''))})", ""]
        out += _body(section)
    if comment.sections and comment.untouched:
        out += ["**Not touched** (no change to their folders): "
                + ", ".join(f"`{name}`" for name in comment.untouched), ""]
    out.append("_Planned against the live clusters; nothing was applied._")
    return "\n".join(out) + "\n"


def _body(comment: PlanComment) -> list[str]:
    out: list[str] = []
    if comment.files:
        out.append(f"**Files changed** ({len(comment.files)})")
        out += [f"- `{f.path}` ({f.change})" for f in comment.files]
    else:
        out.append("**Files changed**: no declaration file")
    out.append("")
    if comment.compile_error:
        out += ["**Does not compile**: nothing would be applied from this commit.", "", "```"]
        out += comment.compile_error.strip().splitlines()[:100]
        out += ["```", ""]
    if comment.paragraphs:
        out += ["<details><summary>How each paragraph was understood</summary>", ""]
        for p in comment.paragraphs:
            out.append(f"`{p.path}:{p.line}`")
            out.append(_quote(p.text))
            out.append("")
            for text in p.understood:
                out.append(f"understood as: {_cell(text)}")
            for error in p.errors:
                out.append(f"error: {_cell(error)}")
            if p.ignored:
                out.append("ignored: " + "; ".join(_literal(_short(n)) for n in p.ignored))
            out.append("")
        out += ["</details>", ""]
    if comment.plan is not None:
        out += _plan(comment.plan)
    elif comment.plan_unavailable:
        out += [f"**No plan**: {comment.plan_unavailable}", ""]
    return out


def _plan(plan: Plan) -> list[str]:
    if not plan.actions:
        out = ["**Plan**: no change to the cluster.", ""]
    else:
        gated = plan.approval_keys()
        out = [f"**Plan**: {len(plan.actions)} action(s)", "",
               "| guest | action | reason | change class | needs approval |",
               "|---|---|---|---|---|"]
        for action in plan.actions[:MAX_ROWS]:
            needs = "yes" if (action.kind, action.target) in gated else "no"
            out.append(f"| {_cell(action.target)} | {action.kind} | {_cell(action.reason)} | "
                       f"{change_class(plan, action.kind, action.target, action.destructive)}"
                       f" | {needs} |")
        if len(plan.actions) > MAX_ROWS:
            out.append(f"\n… and {len(plan.actions) - MAX_ROWS} more actions")
        out.append("")
    if plan.sources:
        out += ["<details><summary>Where each planned guest comes from</summary>", ""]
        for source in plan.sources[:MAX_ROWS]:
            mark = " (needs approval: from the LLM)" if source.approval else ""
            out.append(f"- `{_cell(source.guest)}` from `{source.file}:{source.line}`{mark}: "
                       f"\"{_cell(source.text)}\" understood by {_cell(source.by)} as: "
                       f"{_cell(source.understood_as)}")
        if len(plan.sources) > MAX_ROWS:
            out.append(f"\n… and {len(plan.sources) - MAX_ROWS} more guests")
        out += ["", "</details>", ""]
    if plan.approval_reasons:
        out += ["**Needs approval**:"] + [f"- {_cell(r)}" for r in plan.approval_reasons] + [""]
    if plan.errors:
        out += ["**Plan errors**:"] + [f"- {_cell(e.guest)}: {_cell(e.message)}"
                                       for e in plan.errors] + [""]
    return out
