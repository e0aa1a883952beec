"""What the notifier tells of drift and of outages, and only once (pure state, and the
notifier's queue with an injected clock)."""

from __future__ import annotations

from mycopod.config_gitops import NotifySettings
from mycopod.notify import messages
from mycopod.notify.notifier import Notifier
from mycopod.notify.watch import DriftMemory, Outage
from mycopod.runtime import RuntimeStatus


def test_drift_is_news_once_until_it_changes_and_again_after_it_cleared() -> None:
    memory = DriftMemory()
    assert memory.news({"web-1": ("cores 7 → 2",)}, tell=True) == {"web-1": ("cores 7 → 2",)}
    assert memory.news({"web-1": ("cores 7 → 2",)}, tell=True) == {}
    # another guest drifting is news about that guest only
    both = {"web-1": ("cores 7 → 2",), "db-1": ("state stopped → running",)}
    assert memory.news(both, tell=True) == {"db-1": ("state stopped → running",)}
    # the set of settings changed (order does not matter, the set does)
    changed = {"web-1": ("memory 4096 MiB → 2048 MiB", "cores 7 → 2"),
               "db-1": ("state stopped → running",)}
    assert memory.news(changed, tell=True) == {
        "web-1": ("cores 7 → 2", "memory 4096 MiB → 2048 MiB")}
    assert memory.news(changed, tell=True) == {}
    # cleared, then back: news again
    assert memory.news({}, tell=True) == {}
    assert memory.news(changed, tell=True) == {
        "db-1": ("state stopped → running",),
        "web-1": ("cores 7 → 2", "memory 4096 MiB → 2048 MiB")}


def test_drift_not_told_is_not_learnt_but_a_clearing_is() -> None:
    memory = DriftMemory()
    drift = {"web-1": ("cores 7 → 2",)}
    assert memory.news(drift, tell=False) == {}  # self-heal on: nothing is news
    assert memory.news(drift, tell=True) == drift  # self-heal turned off: news
    assert memory.news({}, tell=False) == {}  # healed by a run
    assert memory.news(drift, tell=True) == drift


def test_an_outage_is_news_past_the_threshold_and_its_end_only_if_told() -> None:
    outage = Outage()
    assert outage.step(up=True, now=0, threshold=60) is None
    assert outage.step(up=False, now=10, threshold=60) is None
    assert outage.step(up=False, now=69, threshold=60) is None
    assert outage.down_for(69) == 59
    assert outage.step(up=False, now=70, threshold=60) == "lost"
    assert outage.step(up=False, now=500, threshold=60) is None  # told once
    assert outage.step(up=True, now=501, threshold=60) == "recovered"
    assert outage.step(up=True, now=502, threshold=60) is None
    # a blip shorter than the threshold: neither lost nor recovered
    assert outage.step(up=False, now=600, threshold=60) is None
    assert outage.step(up=True, now=630, threshold=60) is None
    # not allowed to tell (a standby): the loss waits until it may be told
    assert outage.step(up=False, now=700, threshold=60, may_tell=False) is None
    assert outage.step(up=False, now=800, threshold=60, may_tell=False) is None
    assert outage.step(up=False, now=801, threshold=60) == "lost"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def queued(notifier: Notifier) -> list[messages.Message]:
    out = []
    while not notifier.queue.empty():
        out.append(notifier.queue.get_nowait())
        notifier.queue.task_done()
    return out


def test_leadership_lost_longer_than_the_threshold_is_told_and_its_return() -> None:
    clock = Clock()
    config = NotifySettings.model_validate({"urls": "json://localhost/x",
                                            "lost_after_seconds": 60})
    notifier = Notifier(lambda: config, public_url="https://m.lab", clock=clock)
    runtime = RuntimeStatus(cluster="lab", leader=False)
    # a standby that never led has nothing to lose
    notifier.check_outages(runtime)
    clock.now += 600
    notifier.check_outages(runtime)
    assert queued(notifier) == []
    runtime.leader = True
    notifier.check_outages(runtime)
    runtime.leader = False
    clock.now += 1
    notifier.check_outages(runtime)
    clock.now += 59.5
    notifier.check_outages(runtime)
    assert queued(notifier) == []
    clock.now += 1
    notifier.check_outages(runtime)
    clock.now += 30
    notifier.check_outages(runtime)
    [lost] = queued(notifier)
    assert lost.title == "MycoPod: lost the leadership (lab)"
    assert "lost for 60 s" in lost.body and "https://m.lab/" in lost.body
    runtime.leader = True
    clock.now += 10
    notifier.check_outages(runtime)
    [back] = queued(notifier)
    assert back.title == "MycoPod: the leadership recovered (lab)"
    assert "back after 100 s" in back.body and back.severity == "success"
    # the next loss is told again, however soon (not held back by repeat_seconds)
    runtime.leader = False
    notifier.check_outages(runtime)
    clock.now += 61
    notifier.check_outages(runtime)
    assert [m.title for m in queued(notifier)] == ["MycoPod: lost the leadership (lab)"]


def test_proxmox_lost_is_told_by_the_leader_only() -> None:
    clock = Clock()
    config = NotifySettings.model_validate({"urls": "json://localhost/x",
                                            "lost_after_seconds": 5})
    standby = Notifier(lambda: config, public_url="https://m.lab", clock=clock)
    runtime = RuntimeStatus(cluster="lab", leader=False, proxmox_ok=False,
                            proxmox_error="ConnectionRefusedError: [Errno 111]")
    standby.check_outages(runtime)
    clock.now += 10
    standby.check_outages(runtime)
    assert queued(standby) == []
    runtime.leader = True
    standby.check_outages(runtime)
    [lost] = queued(standby)
    assert lost.title == "MycoPod: lost the Proxmox connection (lab)"
    assert "(ConnectionRefusedError: [Errno 111])" in lost.body


def test_events_left_out_of_the_settings_are_not_queued() -> None:
    clock = Clock()
    config = NotifySettings.model_validate({"urls": "json://localhost/x",
                                            "events": ["run_failed"]})
    notifier = Notifier(lambda: config, public_url="https://m.lab", clock=clock)
    notifier.drift_checked({"web-1": ("cores 7 → 2",)}, True)
    runtime = RuntimeStatus(leader=True, proxmox_ok=False)
    notifier.check_outages(runtime)
    clock.now += 3600
    notifier.check_outages(runtime)
    assert queued(notifier) == []


def test_a_drift_message_names_each_guest_and_links_the_guests_page() -> None:
    news = {f"g-{i:02d}": ("cores 7 → 2",) for i in range(25)}
    message = messages.for_drift(news, base="https://m.lab/")
    assert message is not None
    assert message.title == "MycoPod: drift on 25 guests not self-healed"
    assert "- g-00: cores 7 → 2" in message.body and "- and 5 more" in message.body
    assert message.body.endswith("https://m.lab/ui/guests")
    assert messages.for_drift({}, base="https://m.lab") is None


def test_the_new_settings_are_checked_and_the_events_on_by_default() -> None:
    import pydantic
    import pytest

    defaults = NotifySettings()
    assert defaults.lost_after_seconds == 60.0
    assert {"drift_unhealed", "connection_lost"} <= set(defaults.events)
    with pytest.raises(pydantic.ValidationError, match="lost_after_seconds"):
        NotifySettings.model_validate({"lost_after_seconds": 0})
    with pytest.raises(pydantic.ValidationError, match="'drift_unhealed'"):
        NotifySettings.model_validate({"events": ["drift"]})
