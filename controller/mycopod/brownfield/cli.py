"""``mycopod import``: write the existing cluster down as declarations.

Light on purpose: only argparse at module level.

``mycopod import [--out DIR] [--all | --guest NAME... | --pool P | --tag T | --node N]``
reads the cluster, and writes one Markdown file per pool (per node when no guest is in a
pool) stating each guest's settings, its vmid and MAC addresses, and that it exists
already and is to be adopted. The files compile offline with the built-in grammar.
Without ``--out`` they go to the declarations repository when it is a local working
copy (``declarations.repo``). Exit 0: written; 1: failure.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    imp = sub.add_parser(
        "import", parents=[common], help="write existing guests down as declarations",
        description="Read the cluster and write plain-English declarations of its guests "
        "(templates excepted), saying each exists already and is to be adopted.")
    imp.add_argument("--out", metavar="DIR",
                     help="where to write the files (default: the declarations repository's "
                     "local working copy)")
    imp.add_argument("--all", action="store_true",
                     help="every guest MycoPod does not manage yet (the default)")
    imp.add_argument("--guest", nargs="+", metavar="NAME", default=[],
                     help="only these guests")
    imp.add_argument("--pool", help="only guests in this pool")
    imp.add_argument("--tag", help="only guests with this tag")
    imp.add_argument("--node", help="only guests on this node")
    imp.set_defaults(handler=_import)


def _import(args: argparse.Namespace) -> int:
    import asyncio
    import sys
    from pathlib import Path

    from mycopod.brownfield import importer
    from mycopod.config import load_settings
    from mycopod.errors import MycoPodError
    from mycopod.proxmox.client import ProxmoxClient

    settings = load_settings(args.config)
    out = args.out
    if out is None:
        repo = settings.declarations.repo
        if repo is None or "://" in repo or not Path(repo).is_dir():
            raise MycoPodError("give --out DIR: declarations.repo is not a local working "
                               "copy to write into")
        out = repo
    selection = importer.Selection(guests=tuple(args.guest), pool=args.pool, tag=args.tag,
                                   node=args.node)

    async def run() -> importer.ImportResult:
        client = ProxmoxClient.from_settings(settings.proxmox)
        try:
            return await importer.import_cluster(
                client, selection=selection, ownership_tag=settings.policy.ownership_tag)
        finally:
            await client.aclose()

    result = asyncio.run(run())
    written = importer.write(result, Path(out))
    for path in written:
        print(path)
    for item in result.skipped:
        print(f"not imported: {item}", file=sys.stderr)
    print(f"{len(result.guests)} guest(s) in {len(written)} file(s)", file=sys.stderr)
    return 0
