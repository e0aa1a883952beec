"""The engine fixtures of the reconcile tests (simulator, EngineContext)."""

from tests.integration.reconcile.conftest import make_ctx, sim  # noqa: F401
