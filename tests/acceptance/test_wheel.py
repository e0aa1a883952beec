"""The wheel, installed outside the checkout, is all a user needs.

One wheel is built from the checkout and installed into a fresh venv in a temporary
folder (see :mod:`tests.support.wheel`); every command then runs from another temporary
folder, with no ``MYCOPOD_*`` variable of the test run: the migrations, the PVE schema,
the templates and the examples must come out of the installed package.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import wheel as wheelmod


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[wheelmod.WheelVenv]:
    root = tmp_path_factory.mktemp("wheel")
    built = wheelmod.build_wheel(root / "dist")
    yield wheelmod.install(built, root / "venv")


def test_the_wheel_carries_every_run_time_file(installed: wheelmod.WheelVenv) -> None:
    import zipfile

    names = set(zipfile.ZipFile(installed.wheel).namelist())
    assert "mycopod/migrations/0001_initial.sql" in names
    assert "mycopod/pvesim/data/pve-api-schema.json" in names
    assert "mycopod/api/templates/status.html" in names
    assert "mycopod/data/mycopod.example.toml" in names
    assert "mycopod/data/mycopod.service" in names
    migrations = sorted(n for n in names if n.startswith("mycopod/migrations/"))
    in_checkout = sorted(p.name for p in (wheelmod.REPO / "controller/mycopod/migrations")
                         .glob("*.sql"))
    assert [n.rsplit("/", 1)[1] for n in migrations] == in_checkout
    meta = zipfile.ZipFile(installed.wheel).read(
        next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    for field in ("License-Expression: AGPL-3.0-or-later", "Classifier: ", "Project-URL: ",
                  "Requires-Python: "):
        assert field in meta, field
    entry_points = zipfile.ZipFile(installed.wheel).read(
        next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "mycopod = mycopod.cli:main" in entry_points


def test_mycopod_comes_from_the_venv_not_the_checkout(installed: wheelmod.WheelVenv,
                                                      tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(installed.python), "-c", "import mycopod; print(mycopod.__file__)"],
        cwd=tmp_path, env=installed.env(), capture_output=True, text=True, timeout=60,
        check=False)
    assert proc.returncode == 0, proc.stderr
    where = Path(proc.stdout.strip())
    assert where.is_relative_to(installed.root), where
    assert not where.is_relative_to(wheelmod.REPO)
    version = installed.run("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("mycopod "), version.stderr


@pytest.fixture
def own_tmp() -> Iterator[Path]:
    """A folder straight under the system's temporary folder: run as root, pgserver runs
    PostgreSQL as its own user, which must traverse every parent of the state folder,
    and pytest's base folder is private (and reset to 0700 by any other pytest run)."""
    path = Path(tempfile.mkdtemp(prefix="mycopod-wheel-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_migrate_up_on_embedded_postgresql_from_anywhere(installed: wheelmod.WheelVenv,
                                                         tmp_path: Path, own_tmp: Path) -> None:
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    state = own_tmp / "state"
    up = installed.run("migrate", "up", cwd=elsewhere, MYCOPOD_STATE_DIR=str(state))
    assert up.returncode == 0, up.stderr
    status = installed.run("migrate", "status", cwd=elsewhere, MYCOPOD_STATE_DIR=str(state))
    assert status.returncode == 0, status.stderr
    lines = status.stdout.strip().splitlines()
    assert lines and all(" applied " in f"{line} " for line in lines), status.stdout
    assert (state / "pgdata" / "PG_VERSION").exists()


def test_doctor_passes_against_the_simulator(installed: wheelmod.WheelVenv, tmp_path: Path,
                                             database_url: str) -> None:
    from mycopod.pvesim.testing import running_simulator
    from tests.support.doctor import remote_with, write_config

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with running_simulator(nodes=2) as sim:
        remote = remote_with(tmp_path)
        config = write_config(tmp_path, sim=sim, repo=str(remote.bare),
                              database_url=database_url)
        result = installed.run("doctor", "--config", str(config), cwd=elsewhere)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "0 failed" in result.stdout
        as_json = installed.run("doctor", "--json", "--config", str(config), cwd=elsewhere)
    import json

    data = json.loads(as_json.stdout)
    assert data["ok"] is True
    assert {c["check"] for c in data["checks"]} >= {"proxmox.privileges", "references"}
