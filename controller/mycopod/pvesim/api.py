"""All the simulator's routes: importing this module registers every handler.

``ROUTES`` maps (schema path, HTTP method) to its handler; see ``routes``.
"""

from __future__ import annotations

from mycopod.pvesim import acl, api_cluster, api_ha, api_nodes
from mycopod.pvesim.routes import ROUTES, Handler, RawJson

__all__ = ["ROUTES", "Handler", "RawJson", "acl", "api_cluster", "api_ha", "api_nodes"]
