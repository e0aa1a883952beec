"""Suspension and maintenance windows: when a plan may apply (mycopod.reconcile.windows)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mycopod.config_gitops import Window
from mycopod.reconcile import windows
from mycopod.store.settings import SettingError, validate

# Saturday 28 November 2026
SAT_0230 = datetime(2026, 11, 28, 2, 30, tzinfo=UTC)
SAT_0500 = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)
SUN_1500 = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)


def window(kind: str = "allow", **fields: Any) -> Window:
    return Window.model_validate({"kind": kind, "schedule": "0 2 * * 6", "duration": "2h",
                                  **fields})


@pytest.mark.parametrize(("windows_", "destructive", "now", "reason"), [
    ([], True, SUN_1500, None),
    ([window()], False, SAT_0230, None),
    ([window()], False, SUN_1500, "waiting for the window Sat 02:00 UTC"),
    ([window()], False, SAT_0500, "waiting for the window Sat 02:00 UTC"),
    # the window's start is open at once
    ([window()], False, datetime(2026, 11, 28, 2, 0, tzinfo=UTC), None),
    ([window("deny")], False, SAT_0230, "inside a deny window until Sat 04:00 UTC"),
    ([window("deny")], False, SUN_1500, None),
    # destructive-only windows hold only plans with destructive steps
    ([window(applies_to="destructive")], False, SUN_1500, None),
    ([window(applies_to="destructive")], True, SUN_1500,
     "waiting for the window Sat 02:00 UTC"),
    ([window("deny", applies_to="destructive")], True, SAT_0230,
     "inside a deny window until Sat 04:00 UTC"),
    # two allow windows: the earliest next start; either open lets it through
    ([window(), window(schedule="0 22 * * *", duration="1h")], False, SUN_1500,
     "waiting for the window Sun 22:00 UTC"),
    ([window(), window(schedule="0 22 * * *", duration="1h")], False, SAT_0230, None),
    # a deny window inside an allow window wins
    ([window(), window("deny", schedule="0 2 28 11 *", duration="1h")], False, SAT_0230,
     "inside a deny window until Sat 03:00 UTC"),
    # the window's own time zone: 02:00 in Paris is 01:00 UTC in November
    ([window(timezone="Europe/Paris")], False, datetime(2026, 11, 28, 1, 30, tzinfo=UTC),
     None),
    ([window(timezone="Europe/Paris")], False, SAT_0500,
     "waiting for the window Sat 02:00 Europe/Paris"),
])
def test_hold(windows_: list[Window], destructive: bool, now: datetime,
              reason: str | None) -> None:
    held = windows.hold(suspended=False, windows=windows_, destructive=destructive, now=now)
    assert (held.reason if held else None) == reason


def test_hold_says_until_when() -> None:
    held = windows.hold(suspended=False, windows=[window()], destructive=False, now=SUN_1500)
    assert held is not None and held.until == datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
    held = windows.hold(suspended=False, windows=[window("deny")], destructive=False,
                        now=SAT_0230)
    assert held is not None and held.until == datetime(2026, 11, 28, 4, 0, tzinfo=UTC)


def test_suspended_holds_everything_until_an_admin_resumes() -> None:
    held = windows.hold(suspended=True, windows=[], destructive=False, now=SAT_0230)
    assert held is not None and held.until is None
    assert "PUT /settings/suspended false" in held.reason


@pytest.mark.parametrize(("value", "message"), [
    ([{"kind": "deny", "schedule": "0 25 * * *", "duration": "2h"}],
     "setting windows[0].schedule: schedule '0 25 * * *' is not a cron line"),
    ([{"kind": "deny", "schedule": "0 0 31 2 *", "duration": "2h"}],
     "setting windows[0].schedule: schedule '0 0 31 2 *' never happens"),
    ([{"kind": "deny", "schedule": "0 2 * * *", "duration": "2h"},
      {"kind": "deny", "schedule": "0 2 * * *", "duration": "two hours"}],
     "setting windows[1].duration: duration 'two hours': write it as hours and minutes"),
    ([{"kind": "allow", "schedule": "0 2 * * *", "duration": "2h", "timezone": "Mars/Base"}],
     "setting windows[0].timezone: timezone 'Mars/Base' is not an IANA time zone"),
    ([{"kind": "sometimes", "schedule": "0 2 * * *", "duration": "2h"}],
     "setting windows[0].kind: Input should be 'allow' or 'deny'"),
    ("yes", "setting suspended: Input should be a valid boolean"),
])
def test_a_bad_setting_names_the_entry_and_the_field(value: Any, message: str) -> None:
    key = "suspended" if value == "yes" else "windows"
    with pytest.raises(SettingError) as caught:
        validate(key, value)
    assert str(caught.value).startswith(message)


def test_windows_are_stored_as_json_with_their_defaults() -> None:
    assert validate("windows", [{"kind": "deny", "schedule": "0 2 * * 6",
                                 "duration": "90m"}]) == [
        {"kind": "deny", "schedule": "0 2 * * 6", "duration": "90m", "timezone": "UTC",
         "applies_to": "all"}]
