"""The ``mycopod`` command: one entry point, one subcommand per job.

Each area of the code registers its own subcommands from a light ``cli`` module (one
that imports only argparse at module level), so ``mycopod --help`` stays fast and a
subcommand pays only for the libraries it uses.

Exit codes: 0 ok, 1 failure, 2 usage error (some subcommands add their own, such as
``plan`` answering 2 for "changes pending"). A failure prints one line on stderr,
never a traceback, unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from mycopod import __version__
from mycopod.errors import MycoPodError

#: modules with a ``register(subparsers, common)`` function, in help order
COMMAND_MODULES = (
    "mycopod.daemon_cli",
    "mycopod.pvesim.cli",
    "mycopod.declarations.cli",
    "mycopod.reconcile.cli",
    "mycopod.reconcile.admin_cli",
    "mycopod.store.cli",
    "mycopod.doctor.cli",
    "mycopod.init_cmd.cli",
    "mycopod.brownfield.cli",
)

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n(try '{self.prog} --help')\n")


def common_options() -> argparse.ArgumentParser:
    """Options every subcommand accepts, before or after its name."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="TOML settings file (default: $MYCOPOD_CONFIG; environment variables "
        "MYCOPOD_<GROUP>__<KEY> override it)",
    )
    parent.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show full tracebacks on failure",
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = _Parser(
        prog="mycopod",
        description="Keep a Proxmox VE cluster in the state written down in plain English "
        "in a git repository.",
        epilog="Run 'mycopod COMMAND --help' for the options of a command.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"mycopod {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # an area not built yet
            raise
        module.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "config", None):
        args.config = None
    args.debug = bool(getattr(args, "debug", False))
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except MycoPodError as exc:
        if args.debug:
            raise
        print(f"mycopod: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"mycopod: unexpected error: {type(exc).__name__}: {exc} (run with --debug for "
            "the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
