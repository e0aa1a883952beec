"""The Prometheus rules and the Grafana dashboard: valid, tested, and over real metrics.

``promtool check rules`` and ``promtool test rules`` run when promtool is installed
(Debian: ``apt install prometheus``; ``.ci/run`` installs it, so CI always runs them).
Every metric name used in the rules and the dashboard must be one MycoPod serves on
``/metrics`` (its registry, which the endpoint renders).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from mycopod import telemetry

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "config" / "prometheus" / "alerts.yml"
RULE_TESTS = REPO / "config" / "prometheus" / "alerts_test.yml"
DASHBOARD = REPO / "config" / "grafana" / "mycopod.json"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (apt install prometheus); "
    ".ci/run installs it, so CI runs these")


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], cwd=RULES.parent, capture_output=True,
                          text=True, timeout=120, check=False)


@needs_promtool
def test_promtool_check_rules() -> None:
    proc = _promtool("check", "rules", RULES.name)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@needs_promtool
def test_promtool_test_rules() -> None:
    proc = _promtool("test", "rules", RULE_TESTS.name)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def served() -> set[str]:
    """Every series name /metrics can show (histograms' _bucket/_sum/_count included)."""
    text = generate_latest(telemetry.REGISTRY).decode()
    names = {m.group(1) for m in re.finditer(r"^# (?:HELP|TYPE) (\w+)", text, re.M)}
    for family in telemetry.REGISTRY.collect():
        names.add(family.name)
        if family.type == "counter":
            names.add(f"{family.name}_total")
        if family.type == "histogram":
            names |= {f"{family.name}_{s}" for s in ("bucket", "sum", "count")}
    return names


def used(expr: str) -> set[str]:
    return set(re.findall(r"\bmycopod_\w+", expr))


def _rule_exprs() -> list[str]:
    import yaml

    data = yaml.safe_load(RULES.read_text())
    return [r["expr"] for g in data["groups"] for r in g["rules"]]


def test_every_metric_in_rules_and_dashboard_is_served() -> None:
    exprs = _rule_exprs()
    dashboard = json.loads(DASHBOARD.read_text())
    exprs += [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    names = set().union(*(used(e) for e in exprs))
    assert names, "no mycopod_ metric found in the rules and the dashboard"
    unknown = names - served()
    assert not unknown, f"not served on /metrics: {sorted(unknown)}"
