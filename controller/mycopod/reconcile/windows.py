"""Whether a run may apply now: suspension and maintenance windows. Pure.

The reconciler asks :func:`hold` after the approval gate, once it knows whether the plan
has destructive steps; the controller asks it again for each ``Waiting`` run to decide
when to release it (the window opened, the cluster was resumed, the windows changed).
Both go through this one function, so a run is parked and released by the same rule:

- ``suspended`` holds every run that would apply something, until an Admin resumes;
- a ``deny`` window holds a run while it is open, until it closes;
- when ``allow`` windows apply to a run, it may apply only while one of them is open,
  else it waits for the next one to open;
- a window with ``applies_to = destructive`` applies only to plans with destructive steps.

Each window opens at every time its cron line names, in its own time zone, and stays
open for its duration. An Admin's override (``POST /reconcile/{id}/override``) makes the
caller skip this check for that run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from mycopod.config_gitops import Window, duration_seconds

__all__ = ["Hold", "hold", "is_open", "next_open", "open_until", "utcnow"]


@dataclass(frozen=True)
class Hold:
    """Why a run may not apply now, and when that may change (None: when an Admin acts)."""

    reason: str
    until: datetime | None


def utcnow() -> datetime:
    return datetime.now(UTC)


def _local(window: Window, now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(window.timezone))


def open_until(window: Window, now: datetime) -> datetime | None:
    """When ``window`` closes, if it is open at ``now``; else None."""
    local = _local(window, now)
    # from a second later, so a window starting exactly now counts as open
    start: datetime = croniter(window.schedule, local + timedelta(seconds=1)).get_prev(datetime)
    end = start + timedelta(seconds=duration_seconds(window.duration))
    return end if local < end else None


def is_open(window: Window, now: datetime) -> bool:
    return open_until(window, now) is not None


def next_open(window: Window, now: datetime) -> datetime:
    """The next time ``window`` opens after ``now`` (in the window's time zone)."""
    result: datetime = croniter(window.schedule, _local(window, now)).get_next(datetime)
    return result


def _when(moment: datetime, window: Window) -> str:
    return f"{moment.strftime('%a %H:%M')} {window.timezone}"


def hold(*, suspended: bool, windows: list[Window], destructive: bool,
         now: datetime | None = None) -> Hold | None:
    """Why a plan (``destructive``: it has destructive steps) may not apply at ``now``;
    None when it may."""
    if suspended:
        return Hold("suspended: nothing is applied until an Admin resumes "
                    "(mycopod resume, or PUT /settings/suspended false)", None)
    now = now or datetime.now(UTC)
    relevant = [w for w in windows if w.applies_to == "all" or destructive]
    closes = [(end, w) for w in relevant if w.kind == "deny"
              for end in [open_until(w, now)] if end is not None]
    if closes:
        end, window = max(closes, key=lambda pair: pair[0])
        return Hold(f"inside a deny window until {_when(end, window)}", end)
    allows = [w for w in relevant if w.kind == "allow"]
    if allows and not any(is_open(w, now) for w in allows):
        start, window = min(((next_open(w, now), w) for w in allows),
                            key=lambda pair: pair[0])
        return Hold(f"waiting for the window {_when(start, window)}", start)
    return None
