"""The route table: which (schema path, HTTP method) the simulator serves, and how.

Every key of ``ROUTES`` is a path and method of the PVE schema (a test walks this
table against the schema file); anything else answers 501 as PVE does. Handlers take
the ``Sim`` and the checked request and return the ``data`` of the answer. The handlers
live in ``api_cluster`` (version, access, cluster, pools, storage definitions) and
``api_nodes`` (nodes, storages, network, tasks, guests); importing ``api`` registers
them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mycopod.pvesim import resources
from mycopod.pvesim.core import Request, Sim

Handler = Callable[[Sim, Request], Any]


class RawJson:
    """An answer already serialised (the cached ``/cluster/resources``)."""

    def __init__(self, body: resources.Body) -> None:
        self.body = body


ROUTES: dict[tuple[str, str], Handler] = {}


def route(path: str, *methods: str) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        for m in methods:
            ROUTES[(path, m)] = fn
        return fn

    return deco


def subdirs(*names: str) -> list[dict[str, str]]:
    return [{"subdir": n} for n in names]
