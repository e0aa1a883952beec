"""``SimServer`` embedded in the test's own event loop (for aiohttp-native tests)."""

from __future__ import annotations

import aiohttp

from mycopod.pvesim.core import SimOptions
from mycopod.pvesim.server import SimServer


async def test_sim_server_in_the_running_loop() -> None:
    server = SimServer(SimOptions(port=0, tls=False, task_seconds=0.01))
    await server.start()
    try:
        assert server.url.startswith("http://127.0.0.1:") and server.port != 0
        headers = {"Authorization": "PVEAPIToken=root@pam!mycopod=mycopod-token"}
        async with aiohttp.ClientSession(headers=headers) as session:
            async with session.get(f"{server.url}/api2/json/cluster/resources") as resp:
                assert resp.status == 200
                rows = (await resp.json())["data"]
            assert {"qemu/100", "qemu/9000", "qemu/9001"} <= {r["id"] for r in rows}
            async with session.post(
                f"{server.url}/api2/json/nodes/pve1/qemu/100/status/stop"
            ) as resp:
                upid = (await resp.json())["data"]
            assert upid.startswith("UPID:pve1:")
    finally:
        await server.stop()
