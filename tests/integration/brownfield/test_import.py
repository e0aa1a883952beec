"""``mycopod import`` against a varied brownfield cluster in the simulator: the files
compile offline with the built-in grammar, and each compiled guest states exactly what
Proxmox has (no difference but the ownership tag)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from mycopod.brownfield import importer
from mycopod.cli import main
from mycopod.declarations import grammar
from mycopod.proxmox import payloads
from mycopod.pvesim import direct
from mycopod.pvesim.testing import SimHandle, running_simulator
from mycopod.spec import ClusterSpec
from tests.integration.reconcile.conftest import make_settings
from tests.support import brownfield

IMPORTED = {"win-desk", "ci-web", "db-big", "files", "dns", "ci-clone", "legacy-app"}


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    with running_simulator(task_seconds=0.02, seed=7) as handle:
        brownfield.build(handle)
        yield handle


def compile_dir(out: Path) -> ClusterSpec:
    guests = []
    for path in sorted(out.glob("*.md")):
        guests.extend(grammar.compile_text(path.read_text(), filename=path.name).guests)
    return ClusterSpec(guests=guests)


def run_import(sim: SimHandle, out: Path, *extra: str) -> ClusterSpec:
    config = out.parent / "mycopod.toml"
    config.write_text(f'[proxmox]\nurl = "{sim.url}"\nuser = "{sim.user}"\n'
                      f'password = "{sim.password}"\nverify_tls = false\n')
    assert main(["import", "--config", str(config), "--out", str(out), *extra]) == 0
    return compile_dir(out)


def test_import_compiles_to_what_proxmox_has(sim: SimHandle, tmp_path: Path) -> None:
    out = tmp_path / "decl"
    spec = run_import(sim, out)
    assert {g.name for g in spec.guests} == IMPORTED  # templates are not imported
    assert sorted(p.name for p in out.glob("*.md")) == ["no-pool.md", "office.md", "web.md"]
    for guest in spec.guests:
        raw = direct.config(sim.cluster, guest.name, current=True)
        found = payloads.differences(guest, raw, ownership_tag="mycopod")
        assert set(found.values) <= {"tags"}, (guest.name, found)
        assert not found.resizes and not found.errors
        assert guest.adopt is True and guest.source is None
        assert guest.vmid == direct.find_guest(sim.cluster, guest.name).vmid  # type: ignore[union-attr]
        assert guest.node == direct.node_of(sim.cluster, guest.name)
        assert all(n.mac for n in guest.networks)
    web = (out / "web.md").read_text()
    assert "<!-- ci-web: left alone by MycoPod" in web and "hookscript: local:snippets" in web
    assert "dev0: /dev/net/tun" in web
    assert "args: -no-hpet" in (out / "office.md").read_text()
    assert spec.guest("ci-web").state == "running"  # type: ignore[union-attr]


@pytest.mark.parametrize(("args", "want"), [
    (["--guest", "dns", "files"], {"dns", "files"}),
    (["--pool", "web"], {"ci-web", "db-big", "dns"}),
    (["--tag", "prod"], {"ci-web"}),
    (["--node", "pve3"], {"db-big"}),
])
def test_selectors(sim: SimHandle, tmp_path: Path, args: list[str], want: set[str]) -> None:
    spec = run_import(sim, tmp_path / "decl", *args)
    assert {g.name for g in spec.guests} == want


def test_managed_guests_are_not_imported(sim: SimHandle) -> None:
    settings = make_settings(sim)
    from mycopod.proxmox.client import ProxmoxClient
    from tests.support.pvesim import proxmox

    proxmox(sim).nodes("pve2").qemu(102).config.put(tags="web;mycopod")

    async def go() -> importer.ImportResult:
        client = ProxmoxClient.from_settings(settings.proxmox)
        try:
            return await importer.import_cluster(client, selection=importer.Selection(),
                                                 ownership_tag="mycopod")
        finally:
            await client.aclose()

    result = asyncio.run(go())
    assert "ci-web" not in importer.names(result.guests)
