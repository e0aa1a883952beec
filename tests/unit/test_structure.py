"""The shape of the code (issue 10): what the pure modules import, no import cycles in
the simulator, and module sizes. Read from the source with ``ast``; nothing is imported."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "controller" / "mycopod"
MAX_LINES = 450
#: the packaged PVE schema loader is allowed over the limit (issue 10)
OVER_LIMIT = {"pvesim/schema.py"}
#: libraries that do I/O; the pure core imports none of them
IO_LIBRARIES = {"aiohttp", "asyncio", "asyncpg", "git", "http", "litellm", "os", "pathlib",
                "proxmoxer", "requests", "shutil", "socket", "ssl", "subprocess", "urllib3"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside functions. The package imports
    absolutely (``from mycopod.pvesim import state``), so names are full names."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: a relative import"
            assert node.module is not None
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def project_imports(path: Path) -> set[str]:
    known = {module_name(p) for p in PACKAGE.rglob("*.py")}
    return {name for name in imports(path) if name in known and name != module_name(path)}


SPEC = sorted(str(p.relative_to(PACKAGE)) for p in (PACKAGE / "spec").glob("*.py"))


@pytest.mark.parametrize("module", SPEC)
def test_spec_imports_nothing_of_the_project_but_itself_and_errors(module: str) -> None:
    outside = {n for n in project_imports(PACKAGE / module) if not n.startswith("mycopod.spec")}
    assert outside <= {"mycopod", "mycopod.errors"}, module


#: the grammar compiler: every module of the sub-package
GRAMMAR = sorted(str(p.relative_to(PACKAGE))
                 for p in (PACKAGE / "declarations" / "grammar").glob("*.py"))


@pytest.mark.parametrize("module", [*SPEC, "proxmox/translate.py", "proxmox/payloads.py",
                                    "proxmox/describe.py",
                                    "reconcile/planner.py", "reconcile/plan.py",
                                    "reconcile/renamed.py",
                                    "reconcile/guest_facts.py",
                                    "reconcile/approval_rules.py", "reconcile/placement.py",
                                    "reconcile/fairshare_rules.py",
                                    "notify/watch.py", "notify/messages.py",
                                    *GRAMMAR])
def test_pure_modules_import_no_io_library(module: str) -> None:
    top = {name.split(".")[0] for name in imports(PACKAGE / module)}
    assert not top & IO_LIBRARIES


@pytest.mark.parametrize("module", GRAMMAR)
def test_the_grammar_imports_of_the_project_only_what_its_version_hashes(module: str) -> None:
    """grammar_version() hashes the sub-package, spec.py and declarations/errors.py: a
    grammar module that used any other module could change results under the same version."""
    outside = {n for n in project_imports(PACKAGE / module)
               if not n.startswith("mycopod.declarations.grammar")}
    assert {n for n in outside if not n.startswith("mycopod.spec.")} <= {
        "mycopod", "mycopod.spec", "mycopod.declarations.errors",
                       "mycopod.errors"}, module


def test_the_simulator_has_no_import_cycle() -> None:
    graph = {module_name(p): project_imports(p) for p in (PACKAGE / "pvesim").glob("*.py")}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            raise AssertionError("import cycle: " + " -> ".join([*path[path.index(name):], name]))
        if name in done:
            return
        for dep in sorted(graph.get(name, ())):
            if dep.startswith("mycopod.pvesim."):
                visit(dep, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_no_module_is_over_the_size_limit() -> None:
    over = {str(p.relative_to(PACKAGE)): len(p.read_text(encoding="utf-8").splitlines())
            for p in PACKAGE.rglob("*.py")}
    over = {name: lines for name, lines in over.items() if lines > MAX_LINES}
    assert set(over) <= OVER_LIMIT, {k: v for k, v in over.items() if k not in OVER_LIMIT}


#: what loading the pure core must never bring in (checked in a fresh interpreter)
NETWORK_LIBRARIES = ["aiohttp", "asyncpg", "git", "litellm", "proxmoxer", "requests"]


def test_the_pure_core_loads_no_io_library_even_indirectly() -> None:
    """spec, the planner, the translation and the grammar, with all they import."""
    code = (
        "import sys\n"
        "import mycopod.spec, mycopod.reconcile.planner, mycopod.proxmox.translate\n"
        "import mycopod.proxmox.payloads, mycopod.declarations.grammar\n"
        f"print(sorted(m for m in {NETWORK_LIBRARIES!r} if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_the_reconcile_layer_does_not_import_the_api() -> None:
    """The composition root (daemon.py) adds the API as one more runnable."""
    for path in (PACKAGE / "reconcile").glob("*.py"):
        assert not {n for n in imports(path) if n.startswith("mycopod.api")}, path


def test_the_run_and_demo_commands_share_the_root_without_importing_each_other() -> None:
    cli, demo = PACKAGE / "daemon_cli.py", PACKAGE / "demo.py"
    assert "mycopod.daemon_cli" not in project_imports(demo)
    assert "mycopod.daemon" in project_imports(demo)
    assert "mycopod.daemon" in project_imports(cli)
