"""The web UI: server-rendered pages behind the status page's cookie session.

Pages live under ``/ui/`` (the status page itself is ``/``, the Overview), the only paths
whose cookies the server honours; the JSON API never reads them. One module per part of
the navigation: :mod:`.runs` (Runs, a run, Approvals), :mod:`.guests`,
:mod:`.declarations`, :mod:`.admin` (Users, Settings); :mod:`.core` holds the session,
CSRF and template plumbing they share and :mod:`.data` the reads several pages need.
"""

from __future__ import annotations

from aiohttp import web

from mycopod.api.ui import admin, core, declarations, guests, runs


def register(app: web.Application) -> None:
    """Add every page, form and the static files (no JSON API route is touched)."""
    for module in (runs, guests, declarations, admin):
        for method, path, handler in module.ROUTES:
            app.router.add_route(method, path, handler)
    app.router.add_static("/ui/static", core.STATIC, append_version=False)
