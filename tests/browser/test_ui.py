"""A person at a browser: sign in, follow the navigation, approve a pending deletion.

Every page visited on the way is checked for browser console errors (a script error, a
resource the CSP blocked, a missing file). A User sees no admin control and the server
refuses them anyway; a form without its CSRF token is refused.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api.conftest import PASSWORD

from .conftest import Live

# ``live`` comes before ``browser`` in every test: the database fixture uses asyncio.run,
# which cannot run once Playwright's sync API holds the thread's event loop
pytestmark = pytest.mark.timeout(120)


def _page(browser: Any, live: Live, errors: list[str]) -> Any:
    context = browser.new_context(base_url=live.url, timezone_id="Europe/Berlin")
    page = context.new_page()
    page.on("console", lambda m: errors.append(f"{page.url}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    return page


def _sign_in(page: Any, username: str) -> None:
    page.goto("/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
    assert page.get_by_role("heading", name="Overview").is_visible()


def _nav(page: Any, label: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=label).click()
    page.wait_for_load_state()


def test_an_admin_follows_the_navigation_and_approves_a_deletion(live: Live,
                                                                 browser: Any) -> None:
    errors: list[str] = []
    page = _page(browser, live, errors)
    _sign_in(page, "admin")
    for label in ("Users", "Settings"):
        assert page.get_by_role("navigation", name="Main").get_by_role(
            "link", name=label).is_visible()

    _nav(page, "Runs")
    run = live.seeded.done_run
    page.get_by_role("link", name=f"#{run}", exact=True).click()
    assert page.get_by_role("heading", name=f"Run #{run}").is_visible()
    assert page.get_by_text("TASK ERROR: allocation failed").is_visible()
    # the time is shown in the viewer's timezone by the clock script
    assert "UTC" not in page.locator("dd time").first.inner_text()

    _nav(page, "Guests")
    page.get_by_label("Name, vmid or node").fill("web-2")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="web-2", exact=True).click()
    assert page.get_by_role("heading", name="web-2").is_visible()
    assert page.locator("tr.differs").count() >= 1
    assert page.get_by_text("fleet.md:3").is_visible()

    _nav(page, "Declarations")
    page.get_by_role("link", name="fleet.md").click()
    assert page.get_by_role("heading", name="Paragraphs and how they were understood"
                            ).is_visible()
    assert page.get_by_text("Understood as, by the grammar").first.is_visible()

    _nav(page, "Approvals")
    waiting = live.seeded.approval_run
    assert page.locator("tr.destructive", has_text="old-test").is_visible()
    page.get_by_role("button", name=f"Approve run #{waiting}").click()
    page.wait_for_url(f"**/ui/runs/{waiting}?n=approved")
    assert page.get_by_role("status").inner_text().startswith("Run approved")
    assert live.fetch("SELECT status FROM reconciliation_runs WHERE id = $1",
                      waiting) == "Pending"
    assert live.fetch("SELECT approved_by FROM reconciliation_runs WHERE id = $1",
                      waiting) == live.users["admin"]
    assert errors == []


def test_a_user_sees_no_admin_control_and_the_server_refuses_them(live: Live,
                                                                  browser: Any) -> None:
    errors: list[str] = []
    page = _page(browser, live, errors)
    _sign_in(page, "alice")
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Users").count() == 0
    assert nav.get_by_role("link", name="Settings").count() == 0
    _nav(page, "Approvals")
    waiting = live.seeded.approval_run
    assert page.get_by_role("button", name=f"Approve run #{waiting}").count() == 0
    assert page.get_by_text("An Admin approves or rejects this run.").is_visible()
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    assert errors == []

    # typed by hand, the admin pages and forms are refused by the server
    for path in ("/ui/users", "/ui/settings"):
        assert page.goto(path).status == 403
    refused = page.request.post(f"/ui/runs/{waiting}/approve-run", form={"csrf": token},
                                max_redirects=0)
    assert refused.status == 403
    refused = page.request.post("/ui/settings/prune", form={"csrf": token, "value": "true"},
                                max_redirects=0)
    assert refused.status == 403
    assert live.fetch("SELECT status FROM reconciliation_runs WHERE id = $1",
                      waiting) == "AwaitingApproval"


def test_a_form_without_its_csrf_token_is_refused(live: Live, browser: Any) -> None:
    errors: list[str] = []
    page = _page(browser, live, errors)
    _sign_in(page, "admin")
    waiting = live.seeded.approval_run
    page.goto(f"/ui/runs/{waiting}")
    form = page.locator(f"form[action='/ui/runs/{waiting}/approve-run']")
    form.locator("input[name=csrf]").evaluate("input => input.remove()")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=f"Approve run #{waiting}").click()
    assert navigation.value.status == 403
    assert page.get_by_text("This form has no valid token").is_visible()
    assert live.fetch("SELECT status FROM reconciliation_runs WHERE id = $1",
                      waiting) == "AwaitingApproval"
