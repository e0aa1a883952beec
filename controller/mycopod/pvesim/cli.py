"""``mycopod sim``: run the Proxmox VE API simulator (light module: argparse only)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "sim",
        parents=[common],
        help="run the Proxmox VE API simulator",
        description="Serve a simulated Proxmox VE 9 cluster under /api2/json (HTTPS with a "
        "self-signed certificate unless --no-tls). Prints one line with the URL and "
        "credentials when ready; stop it with Ctrl-C.",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    p.add_argument("--port", type=int, default=8006, help="port (default: %(default)s)")
    p.add_argument("--nodes", type=int, default=3, help="number of nodes pve1..pveN (default: 3)")
    p.add_argument("--no-tls", dest="tls", action="store_false", help="serve plain HTTP")
    p.add_argument("--cert", type=Path, help="TLS certificate (PEM) instead of a self-signed one")
    p.add_argument("--key", type=Path, help="TLS private key (PEM) for --cert")
    p.add_argument("--latency-ms", type=float, default=0.0, help="latency added to every request")
    p.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        help="share of requests that fail like a loaded Proxmox (0..1)",
    )
    p.add_argument(
        "--task-fail-rate",
        type=float,
        default=0.0,
        help="share of tasks that end with an error (0..1)",
    )
    p.add_argument("--task-seconds", type=float, default=0.2, help="how long each task runs")
    p.add_argument(
        "--lock-timeout",
        type=float,
        default=10.0,
        help="how long an operation waits for a guest's config lock (default: %(default)s s)",
    )
    p.add_argument(
        "--stats-interval",
        type=float,
        default=10.0,
        help="how often guest names, status and usage refresh in /cluster/resources, "
        "as pvestatd does (default: %(default)s s; 0: at once)",
    )
    p.add_argument(
        "--ha-seconds",
        type=float,
        default=2.0,
        help="how long the HA manager takes to act on a request (default: %(default)s s)",
    )
    p.add_argument("--seed", type=int, help="seed for a repeatable fault sequence")
    p.add_argument(
        "--state",
        type=Path,
        dest="state_file",
        help="JSON file to load the cluster from and save it to",
    )
    p.add_argument(
        "--request-log",
        type=Path,
        help="append one JSON line per answered API request (method, path, status, UPID) "
        "to this file",
    )
    p.add_argument("--user", default="root@pam", help="user name (default: %(default)s)")
    p.add_argument("--password", default="mycopod", help="password (default: %(default)s)")
    p.add_argument(
        "--token-id",
        default="root@pam!mycopod",
        help="API token id USER@REALM!NAME (default: %(default)s)",
    )
    p.add_argument(
        "--token-secret", default="mycopod-token", help="API token secret (default: %(default)s)"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from mycopod.errors import UsageError
    from mycopod.pvesim.core import SimOptions
    from mycopod.pvesim.server import serve

    if bool(args.cert) != bool(args.key):
        raise UsageError("--cert and --key go together: give both or neither")
    if "!" not in args.token_id:
        raise UsageError("--token-id must look like USER@REALM!NAME, e.g. root@pam!mycopod")
    for name in ("fault_rate", "task_fail_rate"):
        if not 0 <= getattr(args, name) <= 1:
            raise UsageError(f"--{name.replace('_', '-')} must be between 0 and 1")
    options = SimOptions(
        host=args.host,
        port=args.port,
        nodes=args.nodes,
        tls=args.tls,
        cert=args.cert,
        key=args.key,
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        task_fail_rate=args.task_fail_rate,
        task_seconds=args.task_seconds,
        lock_timeout=args.lock_timeout,
        stats_interval=args.stats_interval,
        ha_seconds=args.ha_seconds,
        seed=args.seed,
        state_file=args.state_file,
        request_log=args.request_log,
        user=args.user,
        password=args.password,
        token_id=args.token_id,
        token_secret=args.token_secret,
    )
    try:
        asyncio.run(serve(options))
    except OSError as exc:
        from mycopod.errors import MycoPodError

        raise MycoPodError(
            f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}"
        ) from exc
    return 0
