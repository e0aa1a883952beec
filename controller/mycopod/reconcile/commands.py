"""What ``mycopod plan`` and ``mycopod reconcile --once`` do, and how a plan is printed.

The one-shot reconcile takes the cluster's leader lock (the same PostgreSQL advisory
lock the daemon holds), so it never runs beside a daemon that is applying; holding it,
it marks runs left Planning/InProgress by a dead process as Interrupted, exactly as the
daemon does at start-up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

import asyncpg

from mycopod.config import Settings, load_settings
from mycopod.declarations.facts import ClusterFacts
from mycopod.errors import MycoPodError, UsageError
from mycopod.proxmox.cluster_facts import FactsKeeper
from mycopod.reconcile import reconciler
from mycopod.reconcile.cli import EXIT_AWAITING, EXIT_CHANGES
from mycopod.reconcile.plan import Action, GuestIssue, PendingRestart, Plan, PlanIssue
from mycopod.spec import SpecError, parse_spec
from mycopod.store import locks
from mycopod.store.actions import ActionStore
from mycopod.store.declarations import Declaration
from mycopod.store.runs import Run, RunStore


def _settings(args: argparse.Namespace, *, whole: bool = False) -> Settings:
    """The settings of the cluster ``--cluster`` names (``whole``: of the deployment)."""
    from mycopod import telemetry

    settings = load_settings(args.config)
    level = "debug" if getattr(args, "debug", False) else "warning"
    telemetry.configure_logging(level=level, fmt=settings.logging.format, stream=sys.stderr,
                                secrets=settings.secret_values())
    return settings if whole else of_cluster(settings, getattr(args, "cluster", None))


def of_cluster(settings: Settings, name: str | None) -> Settings:
    """The settings of the cluster ``--cluster`` names (its proxmox, declarations folder
    or repository, and policy); without it the only cluster. UsageError otherwise."""
    units = {unit.proxmox.cluster: unit for unit in settings.per_cluster()}
    if name is None:
        if len(units) > 1:
            raise UsageError(f"several clusters are configured: name one with --cluster "
                             f"NAME ({', '.join(units)})")
        return next(iter(units.values()))
    if name not in units:
        raise UsageError(f"--cluster {name!r} is not configured; the clusters are: "
                         f"{', '.join(units)}")
    return units[name]


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    from mycopod.store import db, migrate

    async with db.open_database(settings.database, state_dir=settings.state_dir) as database:
        async with database.pool.acquire() as conn:
            await migrate.up(conn)
        yield database.pool


@asynccontextmanager
async def _leader_lock(pool: asyncpg.Pool, cluster: str) -> AsyncIterator[None]:
    from mycopod.reconcile.leader import lock_key

    key = lock_key(cluster)
    async with pool.acquire() as conn:
        if not await locks.try_lock(conn, key):
            raise MycoPodError(f"another MycoPod process is reconciling cluster {cluster!r} "
                               "(the daemon holds the leader lock); ask it with "
                               "POST /reconcile instead")
        try:
            yield
        finally:
            await locks.unlock(conn, key)


def read_files(names: list[str]) -> dict[str, str]:
    """The declaration files named on the command line, by name; a clear error for one
    that cannot be read."""
    files = {}
    for name in names:
        try:
            files[name] = Path(name).read_text(encoding="utf-8")
        except OSError as exc:
            raise MycoPodError(f"cannot read {name}: {exc.strerror}") from None
    return files


async def load_spec(args: argparse.Namespace, settings: Settings, pool: asyncpg.Pool, *,
                    facts: ClusterFacts | None = None
                    ) -> tuple[reconciler.LoadedSpec, Declaration | None]:
    """The spec from ``--spec``, from FILEs, or from the repository's head commit, and the
    declaration it was compiled from (which paragraph each guest comes from, and how it
    was understood). ``facts``: the cluster's names a bare ``on pve3`` is read with."""
    from mycopod.declarations import pipeline

    if args.spec:
        try:
            data = json.loads(Path(args.spec).read_text(encoding="utf-8"))
            return reconciler.LoadedSpec(spec=parse_spec(data)), None
        except OSError as exc:
            raise MycoPodError(f"cannot read {args.spec}: {exc.strerror}") from None
        except (json.JSONDecodeError, SpecError) as exc:
            raise MycoPodError(f"{args.spec}: not a valid spec: {exc}") from None
    if args.files:
        files = read_files(args.files)
        done = await pipeline.compile_files_cached(
            files, pool=pool, llm=settings.llm if settings.llm.model else None, facts=facts,
            max_guests=settings.declarations.max_guests)
        if done.error or done.spec is None:
            raise MycoPodError(done.error or "the declarations do not compile")
        return reconciler.LoadedSpec(spec=done.spec), pipeline.unrecorded(files, done)
    if not settings.declarations.repo:
        raise MycoPodError("no declarations: set declarations.repo, or give declaration "
                           "FILEs or --spec SPEC.json")
    from mycopod.declarations.source import GitSource

    source = GitSource.from_settings(settings)
    head = await asyncio.to_thread(source.fetch)
    declaration = await pipeline.compile_commit(source, head, pool=pool, settings=settings,
                                                facts=facts)
    if not declaration.ok or declaration.spec is None:
        raise MycoPodError(f"commit {head[:12]} does not compile: "
                           f"{declaration.compile_error or 'unknown error'}")
    return reconciler.LoadedSpec(spec=declaration.spec, declaration_id=declaration.id,
                                 commit_sha=head), declaration


# --- plan ---------------------------------------------------------------------------------


async def plan_command(args: argparse.Namespace) -> int:
    if getattr(args, "markdown", False):
        from mycopod.reconcile.plan_markdown import markdown_command

        # with [[clusters]]: the pull-request comment of every cluster (or the one named)
        whole = _settings(args, whole=True)
        if whole.clusters:
            return await markdown_command(args, whole, several=True)
        return await markdown_command(args, of_cluster(whole, getattr(args, "cluster", None)))
    settings = _settings(args)
    if args.ref or args.base:
        raise UsageError("--ref and --base are for --markdown (plain plans use FILEs or "
                         "--spec)")
    async with _database(settings) as pool:
        ctx = reconciler.EngineContext.create(pool, settings)
        try:
            facts = await FactsKeeper(ctx.client).get()
            loaded, origin = await load_spec(args, settings, pool, facts=facts)
            await ctx.refresh_policy()
            _, plan = await reconciler.observe_and_plan(ctx, loaded.spec, origin=origin)
        finally:
            await ctx.client.aclose()
    if args.json:
        json.dump(plan.to_json(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        render_plan(plan, sys.stdout)
    if plan.errors and not plan.actions:
        return 1
    return EXIT_CHANGES if plan.has_changes else 0


def render_plan(plan: Plan, out: TextIO) -> None:
    """The plan as a person reads it: grouped per guest, destructive steps marked."""
    guests: dict[str, list[Action]] = {}
    sources = {s.guest: s for s in plan.sources}
    for action in plan.actions:
        guests.setdefault(action.target, []).append(action)
    destructive = len(plan.destructive)
    head = (f"{len(plan.actions)} action(s) on {len(guests)} guest(s)"
            + (f", {destructive} destructive" if destructive else "")
            if plan.actions else "No changes: the cluster matches the declarations.")
    out.write(f"MycoPod plan: {head}\n")
    for name, actions in guests.items():
        first = actions[0]
        sign = "+" if first.kind in ("create", "clone") else (
            "-" if any(a.kind == "delete" for a in actions) else "~")
        where = f"{first.guest_kind} {first.vmid}" + (f" on {first.node}" if first.node else "")
        out.write(f"\n  {sign} {name} ({where})\n")
        source = sources.get(name)
        for action in actions:
            mark = "!" if action.destructive or (source and source.approval) else " "
            tail = ("   [destructive: needs approval]" if action.destructive else
                    f"   [from the LLM ({source.by}): needs approval]"
                    if source and source.approval else "")
            out.write(f"    {mark} {action.kind:<12} {action.reason}{tail}\n")
        if source is not None:
            said = " ".join(source.text.split())
            out.write(f"      from {source.file}:{source.line}: \"{said}\"\n"
                      f"      understood by {source.by} as: "
                      f"{' '.join(source.understood_as.split())}\n")
            for note in source.ignored:
                out.write(f"      {' '.join(note.split())}\n")
    def on_guest(item: GuestIssue) -> str:
        return f"{item.name} (VMID {item.vmid} on {item.node}): {item.message}"

    def restart(item: PendingRestart) -> str:
        return f"{item.name}: {', '.join(item.changes)}"

    def issue(item: PlanIssue) -> str:
        return f"{item.guest}: {item.message}"

    sections: list[tuple[str, Sequence[Any], Callable[[Any], str]]] = [
        ("Orphans (owned, not declared)", plan.orphans, on_guest),
        ("Conflicts (not MycoPod's, not touched)", plan.conflicts, on_guest),
        ("Pending restart (restart_on_change is off)", plan.pending_restart, restart),
        ("Errors", plan.errors, issue),
        ("Notes", plan.notes, issue),
    ]
    for title, items, fmt in sections:
        if items:
            out.write(f"\n{title}:\n")
            for item in items:
                out.write(f"  {fmt(item)}\n")
    if plan.approval_reasons:
        out.write("\nApproval needed before applying:\n")
        for reason in plan.approval_reasons:
            out.write(f"  - {reason}\n")


# --- reconcile --once ---------------------------------------------------------------------


async def reconcile_command(args: argparse.Namespace) -> int:
    settings = _settings(args)
    async with _database(settings) as pool:
        cluster = settings.proxmox.cluster
        async with _leader_lock(pool, cluster):
            runs = RunStore(pool)
            interrupted = await runs.mark_interrupted(cluster)
            if interrupted:
                print(f"marked interrupted: run(s) {', '.join(map(str, interrupted))}",
                      file=sys.stderr)
            ctx = reconciler.EngineContext.create(pool, settings)
            try:
                facts = await FactsKeeper(ctx.client).get()
                loaded, origin = await load_spec(args, settings, pool, facts=facts)
                run = await runs.create(trigger="manual", cluster=cluster,
                                        declaration_id=loaded.declaration_id,
                                        commit_sha=loaded.commit_sha, dry_run=args.dry_run)
                run = await _claim(runs, run.id)
                final = await reconciler.execute_run(run, ctx=ctx, spec=loaded.spec,
                                                 declaration_id=loaded.declaration_id,
                                                 commit_sha=loaded.commit_sha, origin=origin)
                if final.status == "AwaitingApproval" and args.approve:
                    approved = await runs.approve(final.id, None)
                    assert approved is not None
                    final = await reconciler.execute_run(
                        await _claim(runs, final.id), ctx=ctx, spec=loaded.spec,
                        declaration_id=loaded.declaration_id, commit_sha=loaded.commit_sha,
                        origin=origin)
            finally:
                await ctx.client.aclose()
            actions = await ActionStore(pool).list_for_run(final.id)
    _print_run(final, actions, as_json=args.json)
    if final.status == "Succeeded":
        return 0
    if final.status in ("AwaitingApproval", "Waiting"):
        return EXIT_AWAITING
    return 1


async def _claim(runs: RunStore, run_id: int) -> Run:
    run = await runs.claim(run_id)
    if run is None:
        raise MycoPodError(f"run {run_id} was taken by another process")
    return run


def _print_run(run: Run, actions: list[Any], *, as_json: bool) -> None:
    if as_json:
        data = run.model_dump(mode="json")
        data["actions"] = [a.model_dump(mode="json") for a in actions]
        json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    plan = Plan.from_json(run.plan)
    out = sys.stdout
    out.write(f"Run {run.id}: {run.status}" + (f" — {run.error}" if run.error else "") + "\n")
    if run.status == "AwaitingApproval":
        render_plan(plan, out)
        out.write(f"\nApprove with: POST /reconcile/{run.id}/approve, or run "
                  "'mycopod reconcile --once --approve'\n")
        return
    if run.status == "Waiting":
        render_plan(plan, out)
        out.write(f"\nNothing applied: {run.waiting_reason}. The daemon applies it when it "
                  f"may; an Admin can run it now: mycopod override {run.id} (or POST "
                  f"/reconcile/{run.id}/override)\n")
        return
    counts: dict[str, int] = {}
    for action in actions:
        counts[action.result] = counts.get(action.result, 0) + 1
    if actions:
        out.write("Actions: " + ", ".join(f"{n} {r}" for r, n in sorted(counts.items()))
                  + "\n")
    for action in actions:
        if action.result != "Success":
            out.write(f"  {action.result:<8} {action.target} {action.kind}: "
                      f"{action.message or action.action_description}\n")
    if not plan.actions:
        out.write("Nothing to do: the cluster matches the declarations.\n")
    for item in plan.orphans:
        out.write(f"  orphan   {item.name} (VMID {item.vmid}): {item.message}\n")
    for item in plan.conflicts:
        out.write(f"  conflict {item.name} (VMID {item.vmid}): {item.message}\n")
    for error in plan.errors:
        out.write(f"  error    {error.guest}: {error.message}\n")
