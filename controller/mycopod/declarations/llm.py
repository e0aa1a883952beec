"""The LLM compiler (litellm): declaration text the grammar rejects -> a validated spec.

Interface: ``await compile_paragraph(paragraph, *, filename, heading, context, settings,
facts) -> ClusterSpec`` (one paragraph the grammar refused: what the pipeline uses) and
``await compile_with_llm(text, *, filename, settings: LlmSettings, facts) -> ClusterSpec``
(a whole text), raising :class:`LlmError` (``permanent`` tells the cache whether the
failure may be remembered).

How and why:

- Only used when ``[llm] model`` is set, and only for paragraphs the grammar rejects
  (:mod:`.hybrid`).
- The prompt (:mod:`.prompt`) carries few-shot examples compiled by the grammar, the
  spec's JSON Schema, the cluster's facts (nodes, storages, bridges, templates, ISO and
  LXC template volumes) and the text; temperature 0; the answer is asked for as JSON
  Schema structured output, or JSON mode when the model does not support schemas.
- The answer goes through the same pydantic validation as the grammar's, plus a check
  against the facts (an unknown storage is an error) and, for a paragraph, the grounding
  checks (:mod:`.grounding`: its names, numbers and state changes are the paragraph's).
  A failed check is sent back with the reason, at most twice; then the compile fails
  with the last reason.
- Timeouts (``[llm] timeout``, default 60 s) fail the compile; rate limits, 5xx and
  connection errors are retried with exponential backoff (tenacity).
- Token usage, latency and results are Prometheus metrics.
- A compile never applies anything: the planner and the approval rules still stand
  between the LLM and the cluster.

litellm is slow to import and, by default, fetches a model cost map from the internet,
so it is imported lazily, with ``LITELLM_LOCAL_MODEL_COST_MAP=True`` and its telemetry and
callbacks off.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable
from typing import Any

import structlog

from mycopod import spec as specmod
from mycopod import telemetry
from mycopod.config import LlmSettings
from mycopod.declarations import facts as factsmod
from mycopod.declarations import grounding, prompt
from mycopod.errors import MycoPodError

__all__ = ["PROMPT_VERSION", "LlmError", "build_messages", "compile_paragraph",
           "compile_with_llm", "shutdown"]

build_messages = prompt.build_messages

log = structlog.get_logger(__name__)

#: part of the compile cache key: change it whenever the prompt or its handling changes
PROMPT_VERSION = "llm-4"
MAX_FEEDBACK = 2
RETRY_ATTEMPTS = 4
#: first backoff delay in seconds (doubles per retry, with jitter, up to 20 s)
RETRY_INITIAL_WAIT = 0.5

class LlmError(MycoPodError):
    """The LLM could not compile the text; ``permanent`` failures may be cached."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def _litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("LITELLM_TELEMETRY", "False")
    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    litellm.callbacks = []
    litellm.success_callback = []
    litellm.failure_callback = []
    return litellm


async def shutdown() -> None:
    """Stop litellm's background logging task in this loop (daemon shutdown, tests)."""
    if "litellm" not in sys.modules:
        return
    try:
        from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER
    except ImportError:  # pragma: no cover - an older litellm without the worker
        return
    await GLOBAL_LOGGING_WORKER.stop(discard_pending=True, timeout=5)


#: the grounding check of an answer: its problems (empty: grounded)
Grounding = Callable[[specmod.ClusterSpec], list[str]]

_FENCE_RE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def _validate(content: str, facts: factsmod.ClusterFacts | None,
              ground: Grounding | None = None) -> specmod.ClusterSpec:
    """The answer as a spec, or ValueError with the reason to send back."""
    fenced = _FENCE_RE.match(content)
    if fenced:
        content = fenced.group(1)
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the answer is not valid JSON ({exc.msg} at line {exc.lineno} "
                         f"column {exc.colno})") from None
    if isinstance(data, dict) and set(data) == {"error"}:
        raise _Refusal(str(data["error"]))
    try:
        spec = specmod.parse_spec(data)
    except specmod.SpecError as exc:
        raise ValueError(f"the answer does not match the schema: {exc}") from None
    if facts is not None:
        problems = factsmod.check(spec, facts)
        if problems:
            raise ValueError("the answer names things the cluster does not have: "
                             + "; ".join(problems))
    if ground is not None and (problems := ground(spec)):
        telemetry.LLM_REQUESTS.labels(result="ungrounded").inc()
        raise ValueError("the answer says more than the text: " + "; ".join(problems))
    return spec


class _Refusal(Exception):
    """The LLM said the text cannot be expressed."""


def _is_transient(exc: BaseException) -> bool:
    litellm = _litellm()
    transient = tuple(
        getattr(litellm, name) for name in (
            "RateLimitError", "InternalServerError", "ServiceUnavailableError",
            "APIConnectionError", "BadGatewayError")
        if hasattr(litellm, name))
    timeout = getattr(litellm, "Timeout", ())
    return isinstance(exc, transient) and not (timeout and isinstance(exc, timeout))


async def _complete(settings: LlmSettings, messages: list[dict[str, str]]) -> Any:
    """One completion, retrying rate limits / 5xx / connection errors with backoff."""
    import tenacity

    litellm = _litellm()
    assert settings.model is not None
    kwargs: dict[str, Any] = {
        "model": settings.model, "messages": messages, "temperature": 0,
        "timeout": settings.timeout, "response_format": prompt.response_format(
            litellm, settings.model),
        "num_retries": 0, "max_retries": 0,
    }
    if settings.api_base:
        kwargs["api_base"] = settings.api_base
    if settings.api_key is not None:
        kwargs["api_key"] = settings.api_key.get_secret_value()

    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        telemetry.LLM_REQUESTS.labels(result="retry").inc()
        log.warning("llm.retry", model=settings.model, attempt=state.attempt_number,
                    error=type(exc).__name__ if exc else None)

    retrying = tenacity.AsyncRetrying(
        retry=tenacity.retry_if_exception(_is_transient),
        stop=tenacity.stop_after_attempt(RETRY_ATTEMPTS),
        wait=tenacity.wait_exponential_jitter(multiplier=RETRY_INITIAL_WAIT, max=20,
                                              jitter=RETRY_INITIAL_WAIT),
        before_sleep=before_sleep, reraise=True)
    async for attempt in retrying:
        with attempt:
            started = time.monotonic()
            try:
                response = await litellm.acompletion(**kwargs)
            finally:
                telemetry.LLM_LATENCY.observe(time.monotonic() - started)
            return response
    raise AssertionError("unreachable")  # pragma: no cover


async def compile_with_llm(text: str, *, filename: str, settings: LlmSettings,
                           facts: factsmod.ClusterFacts | None = None) -> specmod.ClusterSpec:
    """Ask the LLM for the spec of ``text``; validated and grounded in ``text``, with up
    to two feedback rounds."""
    return await _ask(prompt.build_messages(text, facts), filename=filename,
                      settings=settings, facts=facts,
                      ground=lambda spec: grounding.problems(spec, text))


async def compile_paragraph(paragraph: str, *, filename: str, heading: str = "",
                            context: str = "", settings: LlmSettings,
                            facts: factsmod.ClusterFacts | None = None
                            ) -> specmod.ClusterSpec:
    """The spec of one paragraph the grammar refused, grounded in that paragraph only
    (``context``, what the rest of the file declares, is shown but grounds nothing)."""
    messages = prompt.paragraph_messages(paragraph, heading=heading, context=context,
                                         facts=facts)
    return await _ask(messages, filename=filename, settings=settings, facts=facts,
                      ground=lambda spec: grounding.problems(spec, paragraph,
                                                             context=heading))


async def _ask(messages: list[dict[str, str]], *, filename: str, settings: LlmSettings,
               facts: factsmod.ClusterFacts | None, ground: Grounding
               ) -> specmod.ClusterSpec:
    if not settings.model:
        raise LlmError("no LLM is configured ([llm] model)", permanent=True)
    litellm = _litellm()
    reason = "no answer"
    for round_ in range(MAX_FEEDBACK + 1):
        try:
            response = await _complete(settings, messages)
        except Exception as exc:
            timeout = getattr(litellm, "Timeout", None)
            if timeout is not None and isinstance(exc, timeout):
                telemetry.LLM_REQUESTS.labels(result="timeout").inc()
                raise LlmError(f"the LLM did not answer within {settings.timeout:g} s",
                               permanent=False) from None
            telemetry.LLM_REQUESTS.labels(result="error").inc()
            message = str(getattr(exc, "message", "") or exc).splitlines()[0][:300]
            raise LlmError(f"the LLM request failed: {type(exc).__name__}: {message}",
                           permanent=False) from None
        usage = getattr(response, "usage", None)
        if usage is not None:
            telemetry.LLM_TOKENS.labels(type="prompt").inc(
                getattr(usage, "prompt_tokens", 0) or 0)
            telemetry.LLM_TOKENS.labels(type="completion").inc(
                getattr(usage, "completion_tokens", 0) or 0)
        content = response.choices[0].message.content or ""
        try:
            spec = _validate(content, facts, ground)
        except _Refusal as exc:
            telemetry.LLM_REQUESTS.labels(result="refused").inc()
            raise LlmError(f"the LLM says it cannot be expressed: {exc}",
                           permanent=True) from None
        except ValueError as exc:
            reason = str(exc)
            telemetry.LLM_REQUESTS.labels(result="invalid").inc()
            log.info("llm.invalid_answer", file=filename, round=round_ + 1, reason=reason)
            messages = [*messages, {"role": "assistant", "content": content},
                        {"role": "user", "content": f"That answer is invalid: {reason}. "
                         "Answer again with corrected JSON only."}]
            continue
        telemetry.LLM_REQUESTS.labels(result="ok").inc()
        log.info("llm.compiled", file=filename, model=settings.model, rounds=round_ + 1,
                 guests=len(spec.guests))
        return spec
    raise LlmError(f"its answer was still invalid after {MAX_FEEDBACK} corrections: {reason}",
                   permanent=True)
