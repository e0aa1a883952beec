"""Secrets of several clusters with real processes (issue 17): one `mycopod run`, cluster
a reading a folder of the main repository, cluster b with a repository of its own whose
Proxmox token comes from a systemd credential and whose webhook secret comes from the
environment. A push to b's repository, delivered to /webhooks/github?cluster=b signed with
b's secret, is applied at once (every poll is 60 s away); the main secret still takes the
main repository's pushes; a delivery signed with the other secret is refused, and no
secret reaches the log."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.support.clusters import TOKEN_ID, TOKEN_SECRET, SimProcess, clusters_env
from tests.support.daemon import Daemon, Repo, free_port, push_delivery, wait_until

pytestmark = pytest.mark.timeout(180)

MAIN_HOOK = "main-hook-secret-7f3a"
B_HOOK = "b-hook-secret-91c2"
#: far under the 60 s polls: a fetch, a compile and an update included
AT_ONCE = 15.0

CONFIG = """
[database]
url = "{database}"
[declarations]
repo = "{main}"
poll_seconds = 60.0
webhook_secret = "{main_hook}"
[[clusters]]
name = "a"
path = "site-a/"
[clusters.proxmox]
url = "{sim_a}"
token_id = "{token_id}"
token_secret = "{token_secret}"
verify_tls = false
[[clusters]]
name = "b"
repo = "{b}"
[clusters.proxmox]
url = "{sim_b}"
token_id = "{token_id}"
verify_tls = false
"""


def deliver(daemon: Daemon, commit: str, secret: str, cluster: str | None) -> int:
    body, headers = push_delivery(commit, secret=secret)
    resp = requests.post(f"{daemon.url}/webhooks/github", data=body, headers=headers,
                         params={"cluster": cluster} if cluster else {}, timeout=10)
    return resp.status_code


def cores(sim: SimProcess, name: str) -> int:
    return int(sim.guests().get(name, {}).get("cores", 0))


def test_a_cluster_repository_with_its_own_secrets(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "main").mkdir()
    (tmp_path / "b").mkdir()
    main, own = Repo(tmp_path / "main"), Repo(tmp_path / "b")
    (main.work / "site-a").mkdir()
    main.push({"site-a/app.md": "web-1 is a VM with 1 core and 1 GB of RAM.\n"})
    own.push({"app.md": "db-1 is a VM with 1 core and 1 GB of RAM.\n"})
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "clusters_b_proxmox_token_secret").write_text(TOKEN_SECRET + "\n")
    (creds / "clusters_b_proxmox_token_secret").chmod(0o600)
    sim_a = SimProcess(tmp_path / "sim-a.log").start()
    sim_b = SimProcess(tmp_path / "sim-b.log").start()
    config = tmp_path / "mycopod.toml"
    config.write_text(CONFIG.format(database=database_url, main=main.bare, b=own.bare,
                                    main_hook=MAIN_HOOK, sim_a=sim_a.url, sim_b=sim_b.url,
                                    token_id=TOKEN_ID, token_secret=TOKEN_SECRET))
    config.chmod(0o600)
    env = clusters_env(config=config, state_dir=tmp_path / "state", port=free_port(),
                       CREDENTIALS_DIRECTORY=str(creds),
                       MYCOPOD_CLUSTERS__B__WEBHOOK_SECRET=B_HOOK)
    daemon = Daemon("secrets", env, tmp_path)
    try:
        daemon.start()
        daemon.wait_healthy()
        # b's Proxmox answers with the token from the credential
        wait_until(lambda: cores(sim_a, "web-1") == 1 and cores(sim_b, "db-1") == 1,
                   timeout=60, what=f"both clusters applied:\n{daemon.tail()}")

        commit = own.push({"app.md": "db-1 is a VM with 2 cores and 1 GB of RAM.\n"})
        assert deliver(daemon, commit, MAIN_HOOK, "b") == 401  # not b's secret
        assert deliver(daemon, commit, B_HOOK, None) == 401    # b's is not the main one
        assert deliver(daemon, commit, B_HOOK, "b") == 200
        wait_until(lambda: cores(sim_b, "db-1") == 2, timeout=AT_ONCE,
                   what=f"b's push applied at once:\n{daemon.tail()}")
        assert cores(sim_a, "web-1") == 1

        commit = main.push({"site-a/app.md": "web-1 is a VM with 3 cores and 1 GB of RAM.\n"})
        assert deliver(daemon, commit, MAIN_HOOK, None) == 200
        wait_until(lambda: cores(sim_a, "web-1") == 3, timeout=AT_ONCE,
                   what=f"the main repository's push applied at once:\n{daemon.tail()}")
    finally:
        daemon.stop()
        sim_a.stop()
        sim_b.stop()
    log = daemon.log_path.read_text()
    assert '"event": "webhook.refused"' in log and '"cluster": "b"' in log
    for secret in (MAIN_HOOK, B_HOOK, TOKEN_SECRET):
        assert secret not in log
