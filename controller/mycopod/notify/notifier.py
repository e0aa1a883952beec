"""Sends notifications through Apprise, off the reconcile path: a RunHooks listener.

The poller and the run worker call :meth:`Notifier.commit_compiled` and
:meth:`Notifier.run_finished` (:mod:`mycopod.reconcile.hooks`, next to the forge
reporter), the drift ticker :meth:`Notifier.drift_checked`; each turns the event into a
message (:mod:`mycopod.notify.messages`, pure), puts it on a bounded queue and returns.
The ``notify-watch`` task (:meth:`Notifier.watch`) reads the runtime status every
second and tells a Proxmox connection or a leadership lost for ``lost_after_seconds``,
and its return (:mod:`mycopod.notify.watch` decides what is news). The ``notifier``
task (:meth:`Notifier.run`) sends the messages one at a time to every ``[notify] urls``
(Apprise sends in worker threads, within ``timeout``), so a slow or dead receiver
never delays a run:

- events not in ``[notify] events`` are not queued;
- the same news (a message's ``key``: event, commit, error) is sent once within
  ``repeat_seconds`` (drift and outages are deduplicated by state instead);
- at most ``max_per_hour`` are sent; the others are dropped and logged
  (``notify.rate_limited``), as is the oldest message when the queue is full.

The URLs are secrets (they often hold tokens): they are never logged.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import apprise
import structlog

from mycopod.notify import messages
from mycopod.notify.messages import Message
from mycopod.notify.watch import DriftMemory, Outage
from mycopod.queues import put_dropping_oldest

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mycopod.config_gitops import NotifySettings
    from mycopod.runtime import RuntimeStatus
    from mycopod.store.runs import Run

log = structlog.get_logger(__name__)

__all__ = ["Notifier"]

#: keys remembered for repeat_seconds (the oldest are forgotten first)
_REMEMBERED = 1000


def _sender(urls: list[str]) -> apprise.Apprise:
    sender = apprise.Apprise()
    for url in urls:
        if not sender.add(url):
            log.warning("notify.bad_url", note="an entry of [notify] urls is not an "
                        "Apprise URL (see the Apprise wiki); it is skipped")
    return sender


class Notifier:
    """Notifications for compiles and runs, queued and sent by a task of its own."""

    def __init__(self, settings: Callable[[], NotifySettings], *, public_url: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.public_url = public_url
        self.clock = clock
        self.queue: asyncio.Queue[Message] = asyncio.Queue(
            maxsize=settings().queue_size)
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._sent_at: deque[float] = deque()
        self.drift = DriftMemory()
        self.outages = {"proxmox": Outage(), "leadership": Outage()}
        self._has_led = False
        #: counts, for tests and the logs
        self.sent = 0
        self.failed = 0
        self.dropped = 0

    # -- RunHooks: return at once --------------------------------------------------------

    def commit_compiled(self, commit: str, *, ok: bool, error: str | None,
                        run_id: int | None) -> None:
        self.submit(messages.for_compile(commit, ok=ok, error=error))

    def run_finished(self, run: Run) -> None:
        self.submit(messages.for_run(run, base=self.public_url))

    def drift_checked(self, drifted: Mapping[str, tuple[str, ...]], tell: bool) -> None:
        """A drift check found ``drifted`` (guest → drifted settings); ``tell``: it is
        left alone (self_heal off, on the leader), so new or changed drift is news."""
        news = self.drift.news(drifted, tell=tell)
        self.submit(messages.for_drift(news, base=self.public_url))

    def check_outages(self, runtime: RuntimeStatus) -> None:
        """One look at the runtime status: a loss over the threshold, or its end."""
        now = self.clock()
        threshold = self.settings().lost_after_seconds
        self._has_led = self._has_led or runtime.leader
        states = {
            # only the leader tells of Proxmox (every replica observes it)
            "proxmox": (runtime.proxmox_ok is not False, runtime.leader),
            # only a replica that led can lose the leadership
            "leadership": (runtime.leader or not self._has_led, True),
        }
        for what, (up, may_tell) in states.items():
            outage = self.outages[what]
            seconds = outage.down_for(now)
            news = outage.step(up=up, now=now, threshold=threshold, may_tell=may_tell)
            if news is None:
                continue
            log.info("notify.outage", what=what, news=news, seconds=round(seconds, 1))
            error = runtime.proxmox_error if what == "proxmox" else None
            self.submit(messages.for_outage(what, news, seconds=seconds, error=error,
                                            cluster=runtime.cluster, base=self.public_url))

    async def watch(self, runtime: RuntimeStatus, *, every: float = 1.0) -> None:
        """Task ``notify-watch``: :meth:`check_outages` every ``every`` seconds."""
        while True:
            self.check_outages(runtime)
            await asyncio.sleep(min(every, self.settings().lost_after_seconds / 4))

    def submit(self, message: Message | None) -> None:
        """Queue a message unless it is off, already told, or the queue is full."""
        if message is None:
            return
        settings = self.settings()
        if message.event not in settings.events:
            return
        now = self.clock()
        told = self._seen.get(message.key)
        if (told is not None and now - told < settings.repeat_seconds
                and not message.repeatable):
            log.debug("notify.repeat_skipped", kind=message.event)
            return
        self._seen[message.key] = now
        self._seen.move_to_end(message.key)
        while len(self._seen) > _REMEMBERED:
            self._seen.popitem(last=False)
        for old in put_dropping_oldest(self.queue, message):
            self.dropped += 1
            log.warning("notify.dropped", kind=old.event, note="the queue is full")

    # -- the task --------------------------------------------------------------------------

    async def run(self) -> None:
        """Task ``notifier``: send queued messages until cancelled."""
        while True:
            message = await self.queue.get()
            try:
                await self._send(message)
            finally:
                self.queue.task_done()

    def _within_rate(self, settings: NotifySettings) -> bool:
        now = self.clock()
        while self._sent_at and now - self._sent_at[0] >= 3600:
            self._sent_at.popleft()
        if len(self._sent_at) >= settings.max_per_hour:
            return False
        self._sent_at.append(now)
        return True

    async def _send(self, message: Message) -> None:
        settings = self.settings()
        if not self._within_rate(settings):
            self.dropped += 1
            log.warning("notify.rate_limited", kind=message.event,
                        max_per_hour=settings.max_per_hour)
            return
        # Built in a worker thread: Apprise loads its plugins on first use, which held
        # the event loop (and so a run being applied) for about half a second.
        sender = await asyncio.to_thread(_sender, settings.url_list())
        kind = {"failure": apprise.NotifyType.FAILURE,
                "success": apprise.NotifyType.SUCCESS}.get(message.severity,
                                                           apprise.NotifyType.WARNING)
        try:
            async with asyncio.timeout(settings.timeout):
                result = await sender.async_notify(body=message.body, title=message.title,
                                                   notify_type=kind)
            ok = bool(result)
        except TimeoutError:
            ok = False
        except Exception as exc:  # a notification must never stop the task (nor the daemon)
            log.error("notify.failed", kind=message.event, error=type(exc).__name__)
            ok = False
        if ok:
            self.sent += 1
            log.info("notify.sent", kind=message.event, title=message.title)
        else:
            self.failed += 1
            log.warning("notify.failed", kind=message.event, title=message.title,
                        note="no receiver accepted it, or it took longer than "
                        "[notify] timeout")
