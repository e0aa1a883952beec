"""``/``: the status page (to come)."""

from __future__ import annotations

from mycopod.api.routing import Endpoint

ENDPOINTS: list[Endpoint] = []
