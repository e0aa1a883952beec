"""How fast the Proxmox VE simulator answers, so it is never the benchmarks' bottleneck.

Runs the simulator in this process (its own thread and loop, TLS on, as tests use it)
with 1,000 and then 5,000 guests, and drives it from a second process: an aiohttp
client that keeps CONCURRENCY requests in flight for DURATION seconds, then one that
sends requests one at a time (the latency a single client sees). Prints JSON:
requests per second and median / p95 latency for ``GET /cluster/resources`` and
``GET /nodes/{node}/qemu/{vmid}/config``, and whether the target (median under 50 ms
for ``/cluster/resources`` over 5,000 guests) is met. The answer to
``/cluster/resources`` is gzipped (as pveproxy does for clients that accept it), so it
is also measured "on the wire", without decoding it in the client.

    .venv/bin/python bench/sim.py [--duration 5] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mycopod.pvesim.testing import SimHandle

TARGET_MEDIAN_MS = 50.0


async def _load(
    url: str, auth: str, paths: list[str], concurrency: int, duration: float, decompress: bool
) -> dict[str, Any]:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration
    connector = aiohttp.TCPConnector(ssl=False, limit=concurrency)
    headers = {"Authorization": auth}
    async with aiohttp.ClientSession(
        connector=connector, headers=headers, auto_decompress=decompress
    ) as session:

        async def worker(offset: int) -> None:
            nonlocal errors
            i = offset
            while time.perf_counter() < deadline:
                path = paths[i % len(paths)]
                i += concurrency
                t0 = time.perf_counter()
                async with session.get(url + path) as resp:
                    await resp.read()
                    if resp.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - t0)

        start = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": round(len(latencies) / elapsed, 1),
        "median_ms": round(statistics.median(latencies) * 1000, 2),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 2),
    }


def loadgen_main(argv: list[str]) -> None:
    url, auth, concurrency, duration, decompress, *paths = argv
    result = asyncio.run(
        _load(url, auth, paths, int(concurrency), float(duration), decompress == "1")
    )
    print(json.dumps(result))


def _drive(
    sim: SimHandle, paths: list[str], concurrency: int, duration: float, *, decompress: bool = True
) -> dict[str, Any]:
    """Run the load generator in a second process and return its figures."""
    auth = f"PVEAPIToken={sim.token_id}={sim.token_secret}"
    flag = "1" if decompress else "0"
    args = [sim.url, auth, str(concurrency), str(duration), flag, *paths]
    out = subprocess.run(
        [sys.executable, __file__, "--loadgen", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 60,
    )
    return dict(json.loads(out.stdout))


def _measure(
    sim: SimHandle, paths: list[str], *, concurrency: int, duration: float, wire: bool = False
) -> dict[str, Any]:
    out = {
        f"concurrency_{concurrency}": _drive(sim, paths, concurrency, duration),
        "sequential": _drive(sim, paths, 1, duration / 2),
    }
    if wire:
        # the same without gunzipping and reading the JSON in the client: what the
        # simulator itself can serve (the decoding client is the bottleneck otherwise)
        out[f"wire_concurrency_{concurrency}"] = _drive(
            sim, paths, concurrency, duration / 2, decompress=False
        )
        out["wire_sequential"] = _drive(sim, paths, 1, duration / 2, decompress=False)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    args = parser.parse_args()

    from mycopod.pvesim import direct
    from mycopod.pvesim.testing import running_simulator

    report: dict[str, Any] = {"cluster_resources": {}, "qemu_config": {}}
    for guests in (1000, 5000):
        with running_simulator(task_seconds=0.01) as sim:
            ids = direct.add_guests(sim.cluster, guests - 3, owned_tag="mycopod", running=True)
            assert len(sim.cluster.guests) == guests
            report["cluster_resources"][str(guests)] = _measure(
                sim,
                ["/api2/json/cluster/resources"],
                concurrency=args.concurrency,
                duration=args.duration,
                wire=True,
            )
            config_paths = [
                f"/api2/json/nodes/{direct.node_of(sim.cluster, v)}/qemu/{v}/config"
                for v in ids[:500]
            ]
            report["qemu_config"][str(guests)] = _measure(
                sim, config_paths, concurrency=args.concurrency, duration=args.duration
            )
    median_5000 = report["cluster_resources"]["5000"]["sequential"]["median_ms"]
    report["target"] = {
        "cluster_resources_5000_median_ms": median_5000,
        "cluster_resources_5000_wire_median_ms": report["cluster_resources"]["5000"][
            "wire_sequential"
        ]["median_ms"],
        "limit_ms": TARGET_MEDIAN_MS,
        "met": median_5000 < TARGET_MEDIAN_MS,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--loadgen":
        loadgen_main(sys.argv[2:])
    else:
        main()
