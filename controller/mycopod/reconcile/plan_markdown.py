"""``mycopod plan --markdown``: the pull-request plan comment, printed for other CI.

The text is the one the pull-request planner posts (:func:`mycopod.forge.pr_plans.
build_comment` renders it with :func:`mycopod.forge.comment.render`), for:

- ``--ref REF``: a ref of the declarations remote (``refs/pull/7/head``, a branch name,
  or a commit sha already fetched), fetched into the local clone;
- FILEs: those declaration files, named as given;
- otherwise the working tree of ``--tree DIR`` (default: the current directory): every
  file matching ``declarations.glob`` under it, as a CI job has checked it out.

The base it is compared with is ``--base REF`` (a pull request's base), else the head of
the followed branch (``declarations.repo`` and ``branch``); without a repository every
file counts as added. Exit code: 0 no
change to the cluster, 2 changes pending, 1 it does not compile or cannot be planned.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from mycopod.config import Settings
from mycopod.errors import MycoPodError, UsageError

__all__ = ["markdown_command", "read_tree"]

#: what a working tree's head is called when it is not a clean git checkout
WORKING_TREE = "working tree"
_HEX = re.compile(r"^[0-9a-f]{7,40}$")


def read_tree(root: Path, glob: str) -> dict[str, str]:
    """Every declaration file under ``root`` (path relative to it -> text)."""
    from mycopod.declarations.paths import glob_regex, is_declaration
    from mycopod.declarations.source import MAX_FILE_BYTES

    if not root.is_dir():
        raise MycoPodError(f"--tree {root}: not a directory")
    pattern = glob_regex(glob)
    files: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.split("/", 1)[0] == ".git" or not path.is_file():
            continue
        if not is_declaration(rel, pattern):
            continue
        if path.stat().st_size > MAX_FILE_BYTES:
            raise MycoPodError(f"{rel}: larger than {MAX_FILE_BYTES // 1024} KiB; declaration "
                               "files must be smaller")
        try:
            files[rel] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise MycoPodError(f"{rel}: not UTF-8 text (byte {exc.start}); save it as UTF-8"
                               ) from None
    return files


def _tree_head(root: Path) -> str:
    """The commit checked out in ``root`` when it is a clean git checkout."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                              text=True, timeout=30, check=True).stdout.strip()
    try:
        head = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=normal", "--", ".")
    except (OSError, subprocess.SubprocessError):
        return WORKING_TREE
    return head if _HEX.match(head) and not dirty else WORKING_TREE


def _at_ref(source: object, ref: str) -> str:
    """Fetch ``ref`` (a ref name, branch or commit sha); its commit."""
    from mycopod.declarations.source import GitSource, SourceError

    assert isinstance(source, GitSource)
    if ref.startswith("refs/"):
        return source.fetch_ref(ref, local="cli/plan")
    if _HEX.match(ref):
        source.fetch()
        try:
            return source._run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
        except SourceError:
            raise MycoPodError(f"--ref {ref}: no such commit in the declarations repository "
                               f"(branch {source.branch!r} fetched); name the ref that holds "
                               "it, e.g. --ref refs/pull/7/head") from None
    return source.fetch_ref(f"refs/heads/{ref}", local="cli/plan")


async def markdown_command(args: argparse.Namespace, settings: Settings, *,
                           several: bool = False) -> int:
    """``several`` (``settings`` of the whole deployment, with ``[[clusters]]``): the
    comment with a section per cluster touched, as the pull-request planner writes it."""
    if several:
        return await _markdown_clusters(args, settings)
    from mycopod.forge import comment as commentmod
    from mycopod.forge.pr_plans import build_comment
    from mycopod.proxmox.cluster_facts import FactsKeeper
    from mycopod.reconcile import reconciler
    from mycopod.reconcile.commands import _database, read_files

    if args.spec:
        raise UsageError("--markdown shows declaration files; it cannot be used with --spec")
    if args.ref and args.files:
        raise UsageError("give either --ref or FILEs, not both")
    source = None
    if settings.declarations.repo:
        from mycopod.declarations.source import GitSource

        source = GitSource.from_settings(settings)
    elif args.ref:
        raise MycoPodError("--ref needs declarations.repo (the repository to fetch it from)")
    if args.ref:
        head_sha = await asyncio.to_thread(_at_ref, source, args.ref)
        assert source is not None
        head = await asyncio.to_thread(source.files_at, head_sha)
    elif args.files:
        head_sha, head = WORKING_TREE, read_files(args.files)
    else:
        root = Path(args.tree).expanduser()
        head = read_tree(root, settings.declarations.glob)
        head_sha = await asyncio.to_thread(_tree_head, root)
    base: dict[str, str] = {}
    if source is not None:
        base_sha = await asyncio.to_thread(
            _at_ref, source, args.base) if args.base else await asyncio.to_thread(source.fetch)
        base = await asyncio.to_thread(source.files_at, base_sha)
    elif args.base:
        raise MycoPodError("--base needs declarations.repo (the repository to fetch it from)")
    async with _database(settings) as pool:
        engine = (reconciler.EngineContext.create(pool, settings)
                  if settings.proxmox.url else None)
        try:
            facts = await FactsKeeper(engine.client).get() if engine is not None else None
            built = await build_comment(head, base, head_sha, pool=pool, settings=settings,
                                        engine=engine, facts=facts)
        finally:
            if engine is not None:
                await engine.client.aclose()
    sys.stdout.write(commentmod.render(built))
    if built.compile_error or built.plan is None or built.plan.errors:
        return 1
    return 2 if built.plan.has_changes else 0


async def _markdown_clusters(args: argparse.Namespace, settings: Settings) -> int:
    """``mycopod plan --markdown`` with ``[[clusters]]``: every cluster reading the
    ``[declarations]`` repository (``--cluster NAME``: that one), each with its folder's
    files, compiled and planned against its own Proxmox."""
    from mycopod.declarations.source import GitSource
    from mycopod.forge import comment as commentmod
    from mycopod.forge.pr_clusters import ClusterFiles, build_cluster_comments, targets
    from mycopod.proxmox.cluster_facts import FactsKeeper
    from mycopod.reconcile import reconciler
    from mycopod.reconcile.commands import _database, of_cluster, read_files

    if args.spec:
        raise UsageError("--markdown shows declaration files; it cannot be used with --spec")
    if args.ref and args.files:
        raise UsageError("give either --ref or FILEs, not both")
    chosen = ([of_cluster(settings, args.cluster)] if getattr(args, "cluster", None)
              else targets(settings))
    if not chosen:
        raise MycoPodError("no cluster reads the [declarations] repository; name one with "
                           "--cluster NAME")
    tree: dict[str, str] = {}
    head_sha = WORKING_TREE
    if args.files:
        tree = read_files(args.files)
    elif not args.ref:
        root = Path(args.tree).expanduser()
        tree = read_tree(root, settings.declarations.glob)
        head_sha = await asyncio.to_thread(_tree_head, root)
    async with _database(settings) as pool:
        engines: list[reconciler.EngineContext] = []
        try:
            files = []
            for cluster in chosen:
                prefix = cluster.declarations.path or ""
                source = GitSource.from_settings(cluster) if cluster.declarations.repo else None
                if source is None and (args.ref or args.base):
                    raise MycoPodError(f"--ref and --base need a repository; cluster "
                                       f"{cluster.proxmox.cluster!r} has none (set "
                                       "[declarations] repo)")
                if args.ref:
                    assert source is not None
                    head_sha = await asyncio.to_thread(_at_ref, source, args.ref)
                    head = await asyncio.to_thread(source.files_at, head_sha)
                else:
                    head = {p: t for p, t in tree.items() if p.startswith(prefix)}
                base: dict[str, str] = {}
                if source is not None:
                    base_sha = await asyncio.to_thread(
                        _at_ref, source, args.base) if args.base else await asyncio.to_thread(
                        source.fetch)
                    base = await asyncio.to_thread(source.files_at, base_sha)
                engine = (reconciler.EngineContext.create(pool, cluster)
                          if cluster.proxmox.url else None)
                if engine is not None:
                    engines.append(engine)
                files.append(ClusterFiles(cluster.proxmox.cluster, prefix, head, base,
                                          cluster, engine, _facts_of(engine, FactsKeeper)))
            built = await build_cluster_comments(files, head_sha, pool=pool)
        finally:
            for engine in engines:
                await engine.client.aclose()
    sys.stdout.write(commentmod.render_clusters(built))
    parts = [c for _, c in built.sections]
    if any(c.compile_error or c.plan is None or c.plan.errors for c in parts):
        return 1
    return 2 if any(c.plan is not None and c.plan.has_changes for c in parts) else 0


def _facts_of(engine: Any, keeper: Any) -> Any:
    async def facts() -> Any:
        return await keeper(engine.client).get() if engine is not None else None
    return facts
