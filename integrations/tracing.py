"""Tracing (OpenTelemetry API only): one trace per run, from its queueing through every
execution, step and outbound call, and the `traceparent` header vendors receive.

A kernel module (it imports no app) because four layers emit spans with it: event intake,
the run core, the delivery sender and the connectors' HTTP client. Where spans go is decided
once at start-up by the web layer (studio/observability/tracing.py); without that set-up
every call here is a cheap no-op that still propagates the run's trace id.

One trace id per run, with no column to store it: the id is derived from the run's primary
key (`trace_id_of`), keyed by a per-deployment namespace so two deployments' run 1 never share
a trace. Every execution of a run (a run is claimed again after each wait) starts its span
under the same synthetic parent (`run_context`), so all of them, and the deliveries the run
requested, land in one trace whatever process or machine ran them. An event's intake span
stays in its own trace (one event may start several runs) and each run's trace links to it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache, wraps
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACER_NAME = "switchboard"
P = ParamSpec("P")
R = TypeVar("R")
# W3C Trace Context only: vendors get `traceparent` (and `tracestate` when set), never baggage.
_PROPAGATOR = TraceContextTextMapPropagator()


def _tracer() -> trace.Tracer:
    # Looked up per call: the provider is installed after this module is first imported.
    return trace.get_tracer(TRACER_NAME)


@cache
def _namespace() -> bytes:
    """SWITCHBOARD_TRACE_NAMESPACE, or a value derived from SECRET_KEY: stable for the
    deployment, different between deployments, and revealing nothing about the key."""
    configured = getattr(settings, "SWITCHBOARD_TRACE_NAMESPACE", "") or ""
    seed = configured or "secret-key:" + str(settings.SECRET_KEY)
    return hashlib.sha256(b"switchboard.trace-namespace:" + seed.encode()).digest()


def _derived(run_id: int, purpose: bytes, size: int) -> int:
    digest = hashlib.blake2b(b"%s:%d" % (purpose, run_id), key=_namespace(), digest_size=size).digest()
    return int.from_bytes(digest, "big") or 1  # W3C: an all-zero id is invalid


def run_trace_id(run_id: int) -> int:
    """The run's 128-bit trace id, the same in every process that handles the run."""
    return _derived(int(run_id), b"run-trace", 16)


def trace_id_of(run: Any) -> str:
    """The run's trace id as the 32 hex digits tracing back ends search by ('' without an id).
    Takes a run (or its primary key)."""
    run_id = getattr(run, "pk", run)
    return f"{run_trace_id(run_id):032x}" if run_id else ""


def run_context(run_id: int | None) -> otel_context.Context | None:
    """A context whose current span is the run's synthetic root: spans started in it belong
    to the run's trace. None (the current context) for work that belongs to no run."""
    if not run_id:
        return None
    root = SpanContext(
        trace_id=run_trace_id(run_id),
        span_id=_derived(int(run_id), b"run-root", 8),
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    return trace.set_span_in_context(NonRecordingSpan(root))


@contextmanager
def run_span(name: str, run_id: int | None, **attributes: Any) -> Iterator[trace.Span]:
    """A span of the run's trace, current while the block runs (so outbound calls made
    inside become its children). An exception marks it as an error and propagates."""
    with _tracer().start_as_current_span(
        name, context=run_context(run_id), attributes=_attributes(run_id=run_id, **attributes)
    ) as span:
        yield span


def traced(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: the function runs inside a span called `name` (in the current trace)."""

    def wrap(func: Callable[P, R]) -> Callable[P, R]:
        @wraps(func)
        def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            with _tracer().start_as_current_span(name):
                return func(*args, **kwargs)

        return inner

    return wrap


def annotate(**attributes: Any) -> None:
    """Add attributes to the current span (ignored when there is none or it records nothing)."""
    trace.get_current_span().set_attributes(_attributes(**attributes))


def runs_queued(run_ids: list[int], **attributes: Any) -> None:
    """Open each run's trace with a `run.queued` span linked to the current span (the intake
    of the event that created the runs), so the run's trace leads back to its event."""
    intake = trace.get_current_span().get_span_context()
    links = [Link(intake)] if intake.is_valid else []
    for run_id in run_ids:
        _tracer().start_span(
            "run.queued", context=run_context(run_id), links=links, attributes=_attributes(run_id=run_id, **attributes)
        ).end()


def step_spans(run_id: int, steps: list[Any], started_ns: int) -> None:
    """One span per engine step, children of the current (execution) span. The pure engine
    only measures each step's duration, so the spans are laid end to end from `started_ns`
    (when the engine was called): the durations are exact, the starts approximate."""
    tracer, at = _tracer(), started_ns
    for step in steps:
        duration_ns = int((getattr(step, "duration_ms", 0) or 0) * 1_000_000)
        span = tracer.start_span(
            f"step {step.step_id}",
            start_time=at,
            attributes=_attributes(run_id=run_id, step_id=step.step_id, step_type=step.type, status=step.status),
        )
        if step.status == "failed":
            span.set_status(Status(StatusCode.ERROR))
        at += duration_ns
        span.end(end_time=at)


@contextmanager
def outbound_span(method: str, url: str, host: str) -> Iterator[tuple[trace.Span, dict[str, str]]]:
    """A client span for one outbound HTTP call; yields it and the headers that carry its
    context to the vendor (`traceparent`). `url` must already be redacted."""
    attributes = {"http.request.method": method, "url.full": url, "server.address": host}
    with _tracer().start_as_current_span(f"{method} {host}", kind=SpanKind.CLIENT, attributes=attributes) as span:
        headers: dict[str, str] = {}
        _PROPAGATOR.inject(headers)
        yield span, headers


def now_ns() -> int:
    return time.time_ns()


def _attributes(**values: Any) -> dict[str, Any]:
    """Span attributes under the `switchboard.` prefix; None dropped, others as str/int/float/bool."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        out[f"switchboard.{key}"] = value if isinstance(value, str | int | float | bool) else str(value)
    return out
