"""Screenshots of every page for docs/ui/: ``pytest tests/browser/screenshots.py``
(named so that ``make test`` does not collect it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import Live
from .test_ui import _page, _sign_in

OUT = Path(__file__).resolve().parents[2] / "docs" / "ui"


def test_screenshots(live: Live, browser: Any) -> None:
    errors: list[str] = []
    page = _page(browser, live, errors)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/")
    page.screenshot(path=str(OUT / "login.png"))
    _sign_in(page, "admin")
    s = live.seeded
    shots = {"overview": "/", "runs": "/ui/runs", "run": f"/ui/runs/{s.done_run}",
             "approvals": "/ui/approvals", "guests": "/ui/guests",
             "guest": "/ui/guests/web-2", "declarations": "/ui/declarations",
             "file": f"/ui/declarations/{s.declaration_id}/file?path=db.md",
             "file-error": f"/ui/declarations/{s.bad_declaration_id}/file?path=bad.md",
             "commits": "/ui/commits", "users": "/ui/users", "settings": "/ui/settings"}
    for name, path in shots.items():
        page.goto(path)
        page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    dark = browser.new_context(base_url=live.url, color_scheme="dark",
                               storage_state=page.context.storage_state())
    dark_page = dark.new_page()
    dark_page.set_viewport_size({"width": 1280, "height": 900})
    dark_page.goto(f"/ui/runs/{s.approval_run}")
    dark_page.screenshot(path=str(OUT / "run-dark.png"), full_page=True)
    assert errors == []


pytestmark = pytest.mark.timeout(180)
