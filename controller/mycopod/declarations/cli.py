"""``mycopod compile``: compile declaration files, or a repository's, and print the spec.

``mycopod compile FILE... [--json]`` prints the canonical spec JSON (``--json``) or its
rendering as declaration English; ``mycopod compile --repo PATH [--commit SHA]`` compiles
the declaration files of a git repository at a commit (default: the head of the
configured branch, else HEAD), reading them from git objects as the daemon does. The
grammar compiler is used; with ``--llm`` and ``[llm] model`` configured, text the
grammar rejects goes to the LLM, paragraph by paragraph, and what each LLM-compiled
paragraph was understood as is printed to stderr with the model's name. ``mycopod
explain FILE... [--llm]`` prints every paragraph, what it was understood as (``render()``
of its compile) and by which compiler (``grammar`` or the model). What the grammar read
and deliberately did not use (``ignored as context: '...'`` ...) is printed from the
compile result (:attr:`.compiler.FileResult.notes`, each paragraph's ``ignored``): by
``compile`` on stderr as ``file:line: note``, by ``explain`` under its paragraph; each
file is compiled once. Errors go to stderr,
one ``file:line: message`` each, and the exit code is 1. Light module: heavy imports
happen inside the handlers.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "compile", parents=[common], help="compile declarations to a spec",
        description="Compile declaration files (Markdown, plain English) into the desired-"
        "state spec and print it: as canonical JSON with --json, otherwise rendered back as "
        "English. Exits 1 with the errors (file:line: message) on stderr.")
    p.add_argument("files", nargs="*", metavar="FILE", help="declaration files ('-': stdin)")
    p.add_argument("--json", action="store_true", help="print the canonical spec JSON")
    p.add_argument("--repo", metavar="PATH", help="compile the declarations of this git "
                   "repository instead of files")
    p.add_argument("--commit", metavar="SHA", help="with --repo: the commit to compile "
                   "(default: the branch head)")
    p.add_argument("--branch", metavar="NAME", help="with --repo: the branch (default: "
                   "[declarations] branch, main)")
    p.add_argument("--llm", action="store_true", help="send text the grammar rejects to the "
                   "LLM configured in [llm]")
    p.add_argument("--offline", action="store_true", help="do not ask Proxmox for the "
                   "cluster's names (a bare 'on pve3' then needs 'on node pve3')")
    p.set_defaults(handler=run)
    e = sub.add_parser(
        "explain", parents=[common], help="show how each paragraph was understood",
        description="For each paragraph of the declaration files: its text, what it was "
        "understood as (rendered back to English) and which compiler read it (grammar, or "
        "the LLM model with --llm).")
    e.add_argument("files", nargs="+", metavar="FILE", help="declaration files")
    e.add_argument("--llm", action="store_true", help="send paragraphs the grammar rejects "
                   "to the LLM configured in [llm]")
    e.add_argument("--offline", action="store_true", help="do not ask Proxmox for the "
                   "cluster's names (a bare 'on pve3' then needs 'on node pve3')")
    e.set_defaults(handler=explain)


def cluster_facts(args: argparse.Namespace) -> Any:
    """The cluster's names from Proxmox when ``[proxmox] url`` is configured and not
    ``--offline`` (a bare ``on pve3`` is read through them), else None. Proxmox not
    answering is said on stderr and the compile goes on without them."""
    import asyncio

    from mycopod.config import load_settings
    from mycopod.errors import ConfigError

    if args.offline:
        return None
    try:
        settings = load_settings(args.config)
    except ConfigError:
        return None  # compiling needs no configuration; the facts are a help
    if not settings.proxmox.url:
        return None
    from mycopod.proxmox import cluster_facts
    from mycopod.proxmox.client import ProxmoxClient

    async def read() -> Any:
        client = ProxmoxClient.from_settings(settings.proxmox, retries=1)
        try:
            return await cluster_facts.read(client)
        finally:
            await client.aclose()

    try:
        return asyncio.run(read())
    except Exception as exc:
        print(f"warning: the cluster's names could not be read from Proxmox "
              f"({settings.proxmox.url}: {exc}); a bare 'on NAME' is not understood "
              "(use --offline to skip asking)", file=sys.stderr)
        return None


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines()) or "    (nothing)"


def explain(args: argparse.Namespace) -> int:
    import asyncio
    from pathlib import Path

    import mycopod.declarations.compiler as compiler
    import mycopod.declarations.errors as errors
    from mycopod.errors import UsageError

    llm = None
    if args.llm:
        from mycopod.config import load_settings

        llm = load_settings(args.config).llm
        if not llm.model:
            raise UsageError("--llm needs [llm] model in the configuration")
    status = 0
    facts = cluster_facts(args)
    for name in args.files:
        try:
            text = Path(name).read_text(encoding="utf-8")
            result = asyncio.run(compiler.compile_file(name, text, llm=llm, facts=facts))
        except (OSError, UnicodeDecodeError) as exc:
            print(f"{name}: cannot read: {exc}", file=sys.stderr)
            status = 1
            continue
        except errors.CompileError as exc:
            print(str(exc), file=sys.stderr)
            status = 1
            continue
        for para in result.paragraphs:
            shown = "".join(f"  {m}\n" for m in para.ignored)
            print(f"{name}:{para.first}-{para.last}\n{_indent(para.text)}\n"
                  f"  understood as ({para.by}):\n{_indent(para.understood_as)}\n{shown}")
    return status


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import mycopod.declarations.compiler as compiler
    import mycopod.declarations.errors as errors
    import mycopod.declarations.render as render
    from mycopod import spec as specmod
    from mycopod.config import DEFAULT_MAX_GUESTS
    from mycopod.errors import UsageError

    if bool(args.files) == bool(args.repo):
        raise UsageError("give declaration FILEs or --repo PATH (not both)")
    if args.commit and not args.repo:
        raise UsageError("--commit needs --repo")
    files: dict[str, str] = {}
    llm = None
    max_guests = DEFAULT_MAX_GUESTS
    if args.llm or args.repo:
        from mycopod.config import load_settings

        settings = load_settings(args.config)
        llm = settings.llm if args.llm else None
        max_guests = settings.declarations.max_guests
        if args.llm and not settings.llm.model:
            raise UsageError("--llm needs [llm] model in the configuration")
    if args.repo:
        from mycopod.declarations.localrepo import read_repository

        decl = settings.declarations.model_copy(update={"repo": args.repo})
        if args.branch:
            decl = decl.model_copy(update={"branch": args.branch})
        files = read_repository(Path(args.repo), decl, commit=args.commit)
    else:
        for name in args.files:
            if name == "-":
                files["<stdin>"] = sys.stdin.read()
                continue
            try:
                files[name] = Path(name).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                print(f"{name}: cannot read: {exc}", file=sys.stderr)
                return 1
    explained: list[str] = []
    ignored: list[str] = []
    facts = cluster_facts(args)
    try:
        result = compiler.compile_files_sync(files, llm=llm, max_guests=max_guests,
                                             explained=explained, facts=facts,
                                             ignored=ignored)
    except errors.CompileError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    for line in [*explained, *ignored]:
        print(line, file=sys.stderr)
    if args.json:
        print(specmod.canonical_json(result))
    else:
        sys.stdout.write(render.render(result))
    return 0
