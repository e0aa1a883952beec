"""``/declarations`` (filled in once the declarations store exists)."""

from __future__ import annotations

from mycopod.api.routing import Endpoint

ENDPOINTS: list[Endpoint] = []
