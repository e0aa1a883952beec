"""A shim so hypothesis-jsonschema 0.23 (used by schemathesis 3.x) runs on new Hypothesis.

hypothesis-jsonschema builds JSON objects with Hypothesis's private ``many`` helper and
its old ``while elements.more(): ...`` protocol; Hypothesis 6.15x replaced that protocol
with ``with many(...) as elements: for _ in elements:``, and schemathesis then fails to
generate any request body ("'many' object has no attribute 'more'"). This gives
hypothesis-jsonschema's module an object-generation helper with the old protocol, built
on the same public-to-Hypothesis ConjectureData calls; nothing else is affected.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis.internal.conjecture import utils as cu


class LegacyMany:
    def __init__(self, data: Any, min_size: int, max_size: float, average_size: float, *,
                 forced: int | None = None, observe: bool = True) -> None:
        self.data = data
        self.min_size = min_size
        self.max_size = max_size
        self.forced_size = forced
        self.p_continue = cu._calc_p_continue(average_size - min_size, max_size - min_size)
        self.count = 0
        self.rejections = 0
        self.drawn = False
        self.force_stop = False
        self.rejected = False
        self.observe = observe

    def more(self) -> bool:
        if self.drawn and self.observe:
            self.data.stop_span(discard=self.rejected)
        self.drawn = True
        self.rejected = False
        if self.observe:
            self.data.start_span(cu.ONE_FROM_MANY_LABEL)
        if self.min_size == self.max_size:
            should_continue = self.count < self.min_size
        else:
            forced: bool | None = None
            if self.force_stop:
                forced = False
            elif self.count < self.min_size:
                forced = True
            elif self.count >= self.max_size:
                forced = False
            should_continue = self.data.draw_boolean(self.p_continue, forced=forced,
                                                     observe=self.observe)
        if should_continue:
            self.count += 1
            return True
        if self.observe:
            self.data.stop_span()
        return False

    def reject(self, why: str | None = None) -> None:
        self.count -= 1
        self.rejections += 1
        self.rejected = True
        if self.rejections > max(3, 2 * self.count):
            if self.count < self.min_size:
                self.data.mark_invalid(why)
            else:
                self.force_stop = True


def install() -> None:
    """Point hypothesis-jsonschema at the legacy helper when Hypothesis lacks it."""
    from hypothesis_jsonschema import _from_schema

    if hasattr(cu.many, "more"):
        return
    names = {name: getattr(cu, name) for name in dir(cu) if not name.startswith("__")}
    names["many"] = LegacyMany
    _from_schema.cu = SimpleNamespace(**names)  # type: ignore[assignment]
