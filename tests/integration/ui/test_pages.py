"""Every page renders for its role from a seeded database; forms follow the API's rules."""

from __future__ import annotations

import pytest

from mycopod.store.runs import RunStore
from mycopod.store.settings import SettingsStore
from mycopod.store.users import UserStore
from tests.integration.api.conftest import Api
from tests.support import ui_seed

from .conftest import csrf, page, post, sign_in

PAGES = ["/", "/ui/runs", "/ui/runs?status=Failed&trigger=commit", "/ui/approvals",
         "/ui/guests", "/ui/guests?q=web-2", "/ui/guests/web-2", "/ui/guests/old-test",
         "/ui/declarations", "/ui/commits"]


async def test_signed_out_pages_send_the_browser_to_the_login_form(api: Api) -> None:
    for path in ["/ui/runs", "/ui/guests", "/ui/users", "/ui/settings"]:
        async with api.client.get(path, allow_redirects=False) as resp:
            assert resp.status == 303 and resp.headers["Location"] == "/"
    text = await page(api, "/")
    assert 'action="/ui/login"' in text and "<nav" not in text


async def test_every_page_renders_with_the_navigation(api: Api,
                                                      seeded: ui_seed.Seeded) -> None:
    await sign_in(api, "admin")
    for path in [*PAGES, f"/ui/runs/{seeded.done_run}", f"/ui/runs/{seeded.approval_run}",
                 f"/ui/declarations/{seeded.declaration_id}/file?path=fleet.md",
                 f"/ui/declarations/{seeded.bad_declaration_id}/file?path=bad.md",
                 "/ui/users", "/ui/settings"]:
        text = await page(api, path)
        for label in ("Overview", "Runs", "Guests", "Declarations", "Approvals", "Users",
                      "Settings"):
            assert f">{label}</a>" in text, (path, label)
        assert 'aria-current="page"' in text, path
        assert "<time datetime=" in text, path
        assert "style=" not in text, path  # the CSP allows no inline style


async def test_a_run_shows_header_plan_timeline_and_understood_as(
        api: Api, seeded: ui_seed.Seeded) -> None:
    await sign_in(api, "admin")
    text = await page(api, f"/ui/runs/{seeded.done_run}")
    assert "Declare the web fleet and the database" in text  # the commit message
    assert "storage &#39;local-lvm&#39; is full" in text and "TASK ERROR" in text
    assert "new guest" in text  # change class
    assert "Understood as" in text and "openai/gpt-4o-mini" in text and "db-1" in text
    waiting = await page(api, f"/ui/runs/{seeded.approval_run}")
    assert 'class="destructive"' in waiting and "Approve run" in waiting


async def test_guest_page_compares_and_says_where_it_is_declared(
        api: Api, seeded: ui_seed.Seeded) -> None:
    await sign_in(api, "alice")
    text = await page(api, "/ui/guests/web-2")
    assert 'class="differs"' in text and "fleet.md:3" in text
    assert "Create 5 web servers named web-1 through web-5" in text
    assert "Recent history" in text and "local-lvm" in text  # web-2's create attempt
    assert "<th scope=\"col\">Who</th>" in text and "by Owner" in text  # the commit's author
    restart = await page(api, "/ui/guests/web-1")
    assert "take effect at the next restart" in restart
    listed = await page(api, "/ui/guests?status=orphan")
    assert "old-test" in listed and "web-3" not in listed
    await page(api, "/ui/guests/nobody", expect=404)


async def test_declaration_file_shows_errors_at_their_line(
        api: Api, seeded: ui_seed.Seeded) -> None:
    await sign_in(api, "alice")
    text = await page(api, f"/ui/declarations/{seeded.bad_declaration_id}/file?path=bad.md")
    assert 'id="line-5"' in text and "line 5: the words" in text
    good = await page(api, f"/ui/declarations/{seeded.declaration_id}/file?path=db.md")
    assert "by the LLM openai/gpt-4o-mini" in good
    commits = await page(api, "/ui/commits")
    assert "Try a spaceship" in commits and f"/ui/runs/{seeded.approval_run}" in commits


async def test_runs_are_filtered_and_paged(api: Api, seeded: ui_seed.Seeded) -> None:
    await sign_in(api, "alice")
    text = await page(api, "/ui/runs?status=Cancelled")
    assert "Failed</span>" not in text and "Older runs" not in text
    first = await page(api, "/ui/runs")
    assert "Older runs" in first
    await page(api, "/ui/runs?cursor=garbage", expect=422)


async def test_a_user_sees_no_admin_control_and_is_refused_them(
        api: Api, seeded: ui_seed.Seeded) -> None:
    await sign_in(api, "alice")
    for path in ["/", "/ui/runs", "/ui/approvals", f"/ui/runs/{seeded.approval_run}"]:
        text = await page(api, path)
        assert "approve-run" not in text and ">Users</a>" not in text, path
        assert "Run now" not in text and "/ui/settings" not in text, path
    await page(api, "/ui/users", expect=403)
    await page(api, "/ui/settings", expect=403)
    token = await csrf(api)
    for path, data in [(f"/ui/runs/{seeded.approval_run}/approve-run", {}),
                       (f"/ui/runs/{seeded.approval_run}/reject-run", {}),
                       ("/ui/users", {"username": "eve", "password": "x" * 12, "role": "admin"}),
                       (f"/ui/users/{api.users['alice'].id}", {"role": "admin"}),
                       ("/ui/settings/prune", {"value": "true"}),
                       ("/ui/reconcile", {})]:
        await post(api, path, {"csrf": token, **data}, expect=403)
    run = await RunStore(api.pool).get(seeded.approval_run)
    assert run is not None and run.status == "AwaitingApproval"
    assert (await UserStore(api.pool).get(api.users["alice"].id)).role == "User"  # type: ignore[union-attr]


@pytest.mark.parametrize("token", ["", "0" * 32])
async def test_a_form_without_its_token_is_refused(api: Api, seeded: ui_seed.Seeded,
                                                   token: str) -> None:
    await sign_in(api, "admin")
    data = {"csrf": token} if token else {}
    _, text = await post(api, f"/ui/runs/{seeded.approval_run}/approve-run", data, expect=403)
    assert "no valid token" in text
    run = await RunStore(api.pool).get(seeded.approval_run)
    assert run is not None and run.status == "AwaitingApproval"


async def test_admin_approves_and_manages_users_and_settings(
        api: Api, seeded: ui_seed.Seeded) -> None:
    await sign_in(api, "admin")
    token = await csrf(api)
    location, _ = await post(api, f"/ui/runs/{seeded.approval_run}/approve-run",
                             {"csrf": token}, expect=303)
    assert location == f"/ui/runs/{seeded.approval_run}?n=approved"
    run = await RunStore(api.pool).get(seeded.approval_run)
    assert run is not None and run.status == "Pending"
    assert run.approved_by == api.users["admin"].id
    _, text = await post(api, "/ui/users", {"csrf": token, "username": "carol",
                                            "password": "short", "role": "user"}, expect=422)
    assert "field-error" in text and "10 characters" in text
    await post(api, "/ui/users", {"csrf": token, "username": "carol",
                                  "password": "long enough pw", "role": "user"}, expect=303)
    carol = await UserStore(api.pool).get_by_name("carol")
    assert carol is not None
    await post(api, f"/ui/users/{carol.id}", {"csrf": token, "disabled": "true"}, expect=303)
    assert (await UserStore(api.pool).get(carol.id)).disabled  # type: ignore[union-attr]
    await post(api, f"/ui/users/{carol.id}/password", {"csrf": token,
                                                       "password": "another long one"},
               expect=303)
    _, text = await post(api, "/ui/settings/max_deletions_per_run",
                         {"csrf": token, "value": "-3"}, expect=422)
    assert 'aria-invalid="true"' in text and "max_deletions_per_run" in text
    await post(api, "/ui/settings/four_eyes", {"csrf": token, "value": "true"}, expect=303)
    policy = await SettingsStore(api.pool).effective_policy(api.ctx.settings.policy)
    assert policy.four_eyes is True
    # the last Admin cannot demote themself: the API's rule, shown at the row
    _, text = await post(api, f"/ui/users/{api.users['admin'].id}",
                         {"csrf": token, "role": "user"}, expect=409)
    assert "last enabled Admin" in text


async def test_sign_out_everywhere_ends_every_session(api: Api) -> None:
    await sign_in(api, "alice")
    token = await csrf(api)
    location, _ = await post(api, "/ui/logout-all", {"csrf": token}, expect=303)
    assert location == "/?n=sessions_ended"
    async with api.client.get("/ui/runs", allow_redirects=False) as resp:
        assert resp.status == 303


async def test_pages_send_a_strict_content_security_policy(api: Api) -> None:
    await sign_in(api, "alice")
    async with api.client.get("/ui/runs") as resp:
        policy = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    async with api.client.get("/ui/static/mycopod.css") as resp:
        assert resp.status == 200 and "prefers-color-scheme: dark" in await resp.text()


async def test_a_waiting_run_shows_why_and_an_admin_overrides_it(
        api: Api, seeded: ui_seed.Seeded) -> None:
    store = RunStore(api.pool)
    run = await store.create(trigger="commit", commit_sha="9" * 40)
    await store.park(run.id, "waiting for the window Sat 02:00 UTC", until=None,
                     supersede=[])
    await sign_in(api, "alice")
    text = await page(api, f"/ui/runs/{run.id}")
    assert "waiting for the window Sat 02:00 UTC" in text and "override-run" not in text
    await post(api, f"/ui/runs/{run.id}/override-run", {"csrf": await csrf(api)}, expect=403)
    await sign_in(api, "admin")
    text = await page(api, f"/ui/runs/{run.id}")
    assert f"/ui/runs/{run.id}/override-run" in text
    token = await csrf(api)
    location, _ = await post(api, f"/ui/runs/{run.id}/override-run", {"csrf": token},
                             expect=303)
    assert location == f"/ui/runs/{run.id}?n=overridden"
    after = await store.get(run.id)
    assert after is not None and after.status == "Pending"
    assert after.override_by == api.users["admin"].id
    assert "Overridden by" in await page(api, f"/ui/runs/{run.id}")
    # windows are edited as JSON on the settings page, refused with the entry named
    window = '[{"kind": "deny", "schedule": "0 2 * * 6", "duration": "2h"}]'
    await post(api, "/ui/settings/windows", {"csrf": token, "value": window}, expect=303)
    policy = await SettingsStore(api.pool).effective_policy(api.ctx.settings.policy)
    assert [w.kind for w in policy.windows] == ["deny"]
    _, text = await post(api, "/ui/settings/windows",
                         {"csrf": token, "value": window.replace("2h", "soon")}, expect=422)
    assert "windows[0].duration" in text
    assert "&#34;schedule&#34;: &#34;0 2 * * 6&#34;" in await page(api, "/ui/settings")


async def test_an_admin_suspends_and_resumes_from_the_overview(
        api: Api, seeded: ui_seed.Seeded) -> None:
    await sign_in(api, "alice")
    assert "Suspend applying" not in await page(api, "/")  # a User has no such button
    await sign_in(api, "admin")
    text = await page(api, "/")
    assert "Suspend applying" in text and "Suspended:" not in text
    token = await csrf(api, "/")
    location, _ = await post(api, "/ui/settings/suspended",
                             {"csrf": token, "value": "true", "back": "overview"}, expect=303)
    assert location.startswith("/?")
    policy = await SettingsStore(api.pool).effective_policy(api.ctx.settings.policy)
    assert policy.suspended is True
    text = await page(api, location)
    assert "Suspended: nothing is applied" in text and "Resume applying" in text
    await post(api, "/ui/settings/suspended",
               {"csrf": token, "value": "false", "back": "overview"}, expect=303)
    policy = await SettingsStore(api.pool).effective_policy(api.ctx.settings.policy)
    assert policy.suspended is False
