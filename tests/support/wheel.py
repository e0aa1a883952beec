"""A wheel built from the checkout, installed into a fresh venv outside it.

Building takes a few seconds and installing the dependencies from an index would take
minutes (and the network), so the venv is made the way a user with the dependencies
already at hand would: ``--without-pip`` plus a ``.pth`` line naming the test venv's
site-packages for the third-party libraries, and the wheel installed with
``pip --python VENV install --no-deps`` into the new venv's own site-packages, which
comes first on ``sys.path``.
That ``.pth`` line only adds a folder to the path: the checkout's editable install
(a ``.pth`` of its own in that folder) is not processed, so ``import mycopod`` in the
new venv finds the installed wheel and nothing of the checkout. The test checks that.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class WheelVenv:
    root: Path
    wheel: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def mycopod(self) -> Path:
        return self.root / "bin" / "mycopod"

    def env(self, **extra: str) -> dict[str, str]:
        """A user's environment: no MYCOPOD_* or PYTHONPATH of the test run."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("MYCOPOD_", "PYTHON", "VIRTUAL_ENV"))}
        env["PATH"] = f"{self.root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env.update(extra)
        return env

    def run(self, *args: str, cwd: Path, timeout: float = 180,
            **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.mycopod), *args], cwd=cwd, env=self.env(**env),
                              capture_output=True, text=True, timeout=timeout, check=False)


def _run(*argv: str | Path, cwd: Path | None = None) -> None:
    proc = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True,
                          timeout=600, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, argv))} failed:\n{proc.stdout}\n{proc.stderr}")


def build_wheel(out: Path) -> Path:
    """``pip wheel --no-deps`` of the checkout (an isolated PEP 517 build)."""
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", out,
         REPO)
    (wheel,) = out.glob("mycopod-*.whl")
    return wheel


def install(wheel: Path, root: Path) -> WheelVenv:
    _run(sys.executable, "-m", "venv", "--without-pip", root)
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(root),
                                                       "platbase": str(root)}))
    ours = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (purelib / "_mycopod_test_deps.pth").write_text("\n".join(ours) + "\n")
    # pip --python installs into the new venv as its own pip would: the package in its
    # site-packages, the ``mycopod`` console script from the wheel's entry points in bin/
    _run(sys.executable, "-m", "pip", "--python", root / "bin" / "python", "install",
         "--quiet", "--no-deps", "--no-index", wheel)
    return WheelVenv(root=root, wheel=wheel)
