"""docs/operations.md lists every warning and error event the code logs."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EVENT = re.compile(r'log\.(?:warning|error|exception)\(\s*"([a-z_.]+)"')


def test_every_warning_and_error_event_is_documented() -> None:
    doc = (REPO / "docs" / "operations.md").read_text()
    events = {m.group(1) for path in (REPO / "controller").rglob("*.py")
              for m in EVENT.finditer(path.read_text())}
    missing = sorted(e for e in events if f"`{e}`" not in doc)
    assert not missing, f"add to docs/operations.md: {missing}"
