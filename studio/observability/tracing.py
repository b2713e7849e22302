"""The tracer provider of this process (OpenTelemetry SDK). Spans are made by
integrations/tracing.py everywhere; this decides where they go.

Exporting is off unless OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
is set: then spans are batched and sent over OTLP/HTTP to that collector, configured by the
standard OTEL_* variables (OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_HEADERS, ...). Without it the
provider still records spans, so a run's trace id reaches vendors in `traceparent`, but nothing
leaves the process. Tests add an in-memory exporter to the same provider."""

import os

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def exporting_enabled(environ=os.environ) -> bool:
    return any(environ.get(name, "").strip() for name in ENDPOINT_VARIABLES)


def build_provider(environ=os.environ) -> TracerProvider:
    resource = Resource.create({"service.name": environ.get("OTEL_SERVICE_NAME") or "switchboard"})
    provider = TracerProvider(resource=resource)
    if exporting_enabled(environ):
        # lazy: the exporter (and protobuf) is loaded only by processes that export
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def configure() -> TracerProvider:
    """Install this process's provider once; later calls return the installed one."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    provider = build_provider()
    trace.set_tracer_provider(provider)
    return provider
