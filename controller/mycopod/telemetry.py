"""Logs and metrics: structlog set-up, secret redaction, and the one Prometheus registry.

Logs are events with fields. Context such as ``run_id``, ``commit`` and ``guest`` is
bound with :func:`bind` (structlog's contextvars), so every line written while a run is
applied carries it without being passed around. A redacting processor replaces every
configured secret value, and the value of any key that looks like a secret, before a
line is rendered: a secret must never reach a log, whatever code logs it.

All metrics live in :data:`REGISTRY`, a registry of our own (not the process-global
default), so tests can read exact values and ``/metrics`` shows only MycoPod's series.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any, TextIO

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

__all__ = ["REGISTRY", "bind", "configure_logging", "redact", "unbind"]

REDACTED = "***"
SECRET_KEY_RE = re.compile(r"(pass(word)?|secret|token|api_?key|authorization|cookie|jwt)",
                           re.IGNORECASE)
_SECRET_VALUES: list[str] = []

# --- metrics ---------------------------------------------------------------------------

REGISTRY = CollectorRegistry(auto_describe=True)

RECONCILE_RUNS = Counter(
    "mycopod_reconcile_runs_total", "Finished reconcile runs by final status and trigger",
    ["status", "trigger", "cluster"], registry=REGISTRY,
)
RECONCILE_DURATION = Histogram(
    "mycopod_reconcile_duration_seconds", "Wall time of a reconcile run", ["cluster"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600), registry=REGISTRY,
)
ACTIONS = Counter(
    "mycopod_actions_total", "Applied actions by kind and result", ["kind", "result", "cluster"],
    registry=REGISTRY,
)
# per cluster (issue 17): the ``cluster`` label is the cluster's name ("default" with a
# single [proxmox])
MANAGED_GUESTS = Gauge("mycopod_managed_guests", "Guests MycoPod owns", ["cluster"],
                       registry=REGISTRY)
DRIFTED_GUESTS = Gauge(
    "mycopod_drifted_guests", "Owned guests that differ from the spec", ["cluster"],
    registry=REGISTRY
)
ORPHANED_GUESTS = Gauge(
    "mycopod_orphaned_guests", "Owned guests missing from the spec", ["cluster"],
    registry=REGISTRY
)
RUNS_AWAITING_APPROVAL = Gauge(
    "mycopod_runs_awaiting_approval", "Runs waiting for an admin's approval", ["cluster"],
    registry=REGISTRY
)
PROXMOX_REQUESTS = Counter(
    "mycopod_proxmox_requests_total", "Requests to the Proxmox VE API",
    ["method", "path_template", "code"], registry=REGISTRY,
)
PROXMOX_LATENCY = Histogram(
    "mycopod_proxmox_request_duration_seconds", "Latency of Proxmox VE API requests",
    ["method", "path_template"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30), registry=REGISTRY,
)
LLM_REQUESTS = Counter(
    "mycopod_llm_requests_total", "Requests to the LLM by result", ["result"], registry=REGISTRY
)
LLM_TOKENS = Counter(
    "mycopod_llm_tokens_total", "Tokens used by LLM compiles", ["type"], registry=REGISTRY
)
LLM_LATENCY = Histogram(
    "mycopod_llm_request_duration_seconds", "Latency of LLM requests",
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120), registry=REGISTRY,
)
COMPILE_CACHE_HITS = Counter(
    "mycopod_compile_cache_hits_total", "Declaration files served from the compile cache",
    registry=REGISTRY,
)
COMPILE_CACHE_MISSES = Counter(
    "mycopod_compile_cache_misses_total", "Declaration files compiled (cache misses)",
    registry=REGISTRY,
)
HTTP_REQUESTS = Counter(
    "mycopod_http_requests_total", "API requests by route and status code", ["route", "code"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "mycopod_http_request_duration_seconds", "API request latency by route", ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    registry=REGISTRY,
)
LAST_SUCCESS = Gauge(
    "mycopod_last_successful_reconcile_timestamp_seconds",
    "Unix time of the last Succeeded reconcile", ["cluster"], registry=REGISTRY,
)
DECLARATIONS_INFO = Info(
    "mycopod_declarations", "The declarations commit in force", registry=REGISTRY
)
DECLARATION_COMPILES = Counter(
    "mycopod_declaration_compiles_total",
    "Commits and submitted declarations compiled, by result (ok or error)", ["result"],
    registry=REGISTRY,
)
for _result in ("ok", "error"):  # both series exist from the start, at 0
    DECLARATION_COMPILES.labels(result=_result)
REPO_LAST_FETCH = Gauge(
    "mycopod_repo_last_fetch_timestamp_seconds",
    "Unix time of the last successful fetch of the declarations repository",
    registry=REGISTRY,
)
LEADER = Gauge(
    "mycopod_leader", "1 when this process holds the cluster's reconcile lock, else 0",
    ["cluster"], registry=REGISTRY
)


# --- logging ---------------------------------------------------------------------------


def set_secret_values(values: Iterable[str]) -> None:
    """Register configured secret values; they are replaced by *** in every log line."""
    _SECRET_VALUES.clear()
    _SECRET_VALUES.extend(sorted({v for v in values if v and len(v) >= 4}, key=len,
                                 reverse=True))


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        for secret in _SECRET_VALUES:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, Mapping):
        return {k: (REDACTED if isinstance(k, str) and SECRET_KEY_RE.search(k) and v
                    else _scrub(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_scrub(v) for v in value)
    return value


def redact(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Any:
    """structlog processor: hide secret-looking keys and any configured secret value."""
    for key in list(event_dict):
        value = event_dict[key]
        if key not in ("event", "level", "timestamp") and SECRET_KEY_RE.search(key) and value:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _scrub(value)
    return event_dict


def configure_logging(
    *, level: str = "info", fmt: str = "auto", stream: TextIO | None = None,
    secrets: Iterable[str] = (),
) -> None:
    """Configure structlog (and the stdlib loggers of libraries) for this process."""
    stream = stream or sys.stdout
    set_secret_values(secrets)
    use_json = fmt == "json" or (fmt == "auto" and not stream.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    numeric = getattr(logging, level.upper(), logging.INFO)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[*shared, redact, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    # Library logs (asyncio, aiohttp, git) go through the same redaction and format.
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, redact,
                        renderer],
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(numeric, logging.INFO))
    for noisy in ("LiteLLM", "litellm", "httpx", "urllib3", "pgserver", "git"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def bind(**context: Any) -> None:
    """Attach fields (run_id, commit, guest) to every log line of the current context."""
    structlog.contextvars.bind_contextvars(**context)


def unbind(*keys: str) -> None:
    structlog.contextvars.unbind_contextvars(*keys)
