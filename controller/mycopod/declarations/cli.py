"""``mycopod compile``: compile declaration files, or a repository's, and print the spec.

``mycopod compile FILE... [--json]`` prints the canonical spec JSON (``--json``) or its
rendering as declaration English; ``mycopod compile --repo PATH [--commit SHA]`` compiles
the declaration files of a git repository at a commit (default: the head of the
configured branch, else HEAD), reading them from git objects as the daemon does. The
grammar compiler is used; with ``--llm`` and ``[llm] model`` configured, text the
grammar rejects goes to the LLM. Errors go to stderr, one ``file:line: message`` each,
and the exit code is 1. Light module: heavy imports happen inside the handler.
"""

from __future__ import annotations

import argparse
import sys


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
    p.set_defaults(handler=run)


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
        import mycopod.declarations.source as source

        decl = settings.declarations.model_copy(update={"repo": args.repo})
        if args.branch:
            decl = decl.model_copy(update={"branch": args.branch})
        files = source.read_repository(Path(args.repo), decl, commit=args.commit)
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
    try:
        result = compiler.compile_files_sync(files, llm=llm, max_guests=max_guests)
    except errors.CompileError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    if args.json:
        print(specmod.canonical_json(result))
    else:
        sys.stdout.write(render.render(result))
    return 0
