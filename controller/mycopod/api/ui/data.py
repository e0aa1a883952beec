"""Reads several pages share: the latest guest report, the spec in force, file texts.

The guest report is the one the status page shows (:func:`routes_status._report`): the
controller's latest in memory, else the newest run summary that holds one. Where a guest
is declared is found in the text of the files at the commit: a declaration records which
file declared each guest, and the paragraph naming it is looked up in that file's text
(a range such as "web-1 through web-3" names its guests only by its ends, so the
paragraph of the range is found by its prefix).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from mycopod.api.routing import Call
from mycopod.reconcile.plan import ClusterReport, Plan, PlanIssue, PlanVersionError
from mycopod.store.declarations import Declaration, DeclarationStore
from mycopod.store.runs import Run, RunStore

FILE_MARK = re.compile(r"^<!-- file: (?P<path>.+?) -->$", re.MULTILINE)
ERROR_LINE = re.compile(r"^(?P<path>[^\n:]+):(?P<line>\d+)(?::\d+)?: (?P<message>.*)$")
#: the words the grammar starts a declaration with are plain text; a paragraph is a block
#: of non-blank lines that is not a heading, comment or fence
IGNORED_LINE = re.compile(r"^\s*(#|<!--|```)")


#: the last guest report read, by (run id, updated_at): parsing a report of 1,000 guests
#: costs tens of milliseconds, and every guest page reads the same one
_CACHE: dict[tuple[int, datetime], ClusterReport] = {}


def cluster_of(call: Call) -> str:
    """The cluster a page shows: ``?cluster=`` when it names one, else the first."""
    asked = call.request.query.get("cluster")
    views = call.ctx.views()
    if asked in views:
        return str(asked)
    return call.ctx.cluster if call.ctx.cluster in views else next(iter(views))


async def report(call: Call, cluster: str | None = None) -> tuple[ClusterReport, int | None]:
    """The freshest guest report of ``cluster`` (default: the first), and the run it
    comes from (None: the controller's)."""
    cluster = cluster or call.ctx.cluster
    runtime = call.ctx.runtime_of(cluster)
    if runtime.report is not None:
        return runtime.report, None
    store = RunStore(call.conn)
    version = await store.latest_report_version(cluster)
    if version is None:
        return ClusterReport(), None
    cached = _CACHE.get(version)
    if cached is None:
        try:
            cached = ClusterReport.model_validate(await store.summary(version[0]) or {})
        except ValidationError:  # a report of an older MycoPod
            cached = ClusterReport()
        _CACHE.clear()
        _CACHE[version] = cached
    return cached, version[0]


def plan_of(run: Run) -> Plan:
    """The run's plan; one this MycoPod cannot read shows why as its only error."""
    if not run.plan:
        return Plan()
    try:
        return Plan.from_json(run.plan)
    except (PlanVersionError, ValueError) as exc:
        return Plan(errors=[PlanIssue(guest=f"run {run.id}", message=str(exc))])


async def declaration_in_force(call: Call, cluster: str | None = None) -> Declaration | None:
    """The spec in force, without its spec (read the guests needed by name)."""
    store = DeclarationStore(call.conn, cluster or call.ctx.cluster)
    return await store.latest_good_without_spec()


@dataclass
class Paragraph:
    line: int
    text: str
    guests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: what the grammar read here and deliberately did not use ("ignored as ...")
    ignored: list[str] = field(default_factory=list)


def file_texts(declaration: Declaration) -> dict[str, str]:
    """path → text of each file stored with the declaration."""
    content = declaration.content or ""
    marks = list(FILE_MARK.finditer(content))
    if not marks:
        path = declaration.path or (declaration.files[0].path if declaration.files else "")
        return {path: content} if content else {}
    texts: dict[str, str] = {}
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(content)
        texts[mark.group("path")] = content[mark.end() + 1:end].rstrip("\n")
    return texts


def paragraphs(text: str) -> list[Paragraph]:
    """The declaration paragraphs (and list items) of a file, with their first line."""
    found: list[Paragraph] = []
    current: list[str] = []
    start = 0
    fenced = False

    def close() -> None:
        if current:
            found.append(Paragraph(line=start, text=" ".join(s.strip() for s in current)))
            current.clear()

    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith("```"):
            close()
            fenced = not fenced
            continue
        if fenced or not line.strip() or IGNORED_LINE.match(line):
            close()
            continue
        if line.lstrip().startswith(("- ", "* ")):
            close()
        if not current:
            start = number
        current.append(line.lstrip("-* ").rstrip())
    close()
    return found


NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9]|[A-Za-z0-9]")
RANGE = re.compile(r"(?<![\w-])([A-Za-z][\w.-]*?)(\d+) (?:through|to) \1(\d+)")


class _Index:
    """The names and ranges ("web-1 through web-5") a paragraph holds, read once."""

    def __init__(self, text: str) -> None:
        self.names = set(NAME.findall(text))
        self.ranges = [(m.group(1), int(m.group(2)), int(m.group(3)))
                       for m in RANGE.finditer(text)]

    def mentions(self, name: str) -> bool:
        if name in self.names:
            return True
        stem = re.match(r"^(.*?)(\d+)$", name)
        if not stem:
            return False
        prefix, number = stem.group(1), int(stem.group(2))
        return any(p == prefix and a <= number <= b for p, a, b in self.ranges)


def _mentions(paragraph: str, name: str) -> bool:
    """Does the paragraph name ``name``, itself or inside a range?"""
    return _Index(paragraph).mentions(name)


def _owner(found: list[Paragraph], at: int) -> Paragraph | None:
    """The paragraph holding line ``at`` (the last starting at or before it; else the
    first: nothing said about the file is left out)."""
    owner = None
    for p in found:
        if p.line <= at:
            owner = p
    return owner if owner is not None else (found[0] if found else None)


def annotate(text: str, guests: list[str], error: str | None,
             ignored: list[tuple[int, str]] | None = None) -> list[Paragraph]:
    """Each paragraph with the guests it declares, the compile errors at its lines and
    what the grammar did not use there (``ignored``: a file record's (line, note))."""
    found = paragraphs(text)
    for at, note in sorted(ignored or [], key=lambda n: n[0]):
        if (owner := _owner(found, at)) is not None:
            owner.ignored.append(note)
    indexes = [_Index(p.text) for p in found]
    for name in guests:
        for p, index in zip(found, indexes, strict=True):
            if index.mentions(name):
                p.guests.append(name)
                break
    for line in (error or "").splitlines():
        match = ERROR_LINE.match(line.strip())
        if not match:
            continue
        at = int(match.group("line"))
        if (owner := _owner(found, at)) is not None:
            owner.errors.append(f"line {at}: {match.group('message')}")
    return found


def where_declared(declaration: Declaration | None, name: str) -> dict[str, Any] | None:
    """{path, line, sentence} of the paragraph declaring ``name``, if it can be found."""
    if declaration is None:
        return None
    texts = file_texts(declaration)
    for record in declaration.files:
        if name not in record.guests:
            continue
        for p in paragraphs(texts.get(record.path, "")):
            if _mentions(p.text, name):
                return {"path": record.path, "line": p.line, "sentence": p.text,
                        "compiler": record.compiler, "model": record.model}
        return {"path": record.path, "line": None, "sentence": None,
                "compiler": record.compiler, "model": record.model}
    return None
