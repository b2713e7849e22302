"""Tracing: one trace per run from the event's intake through every execution, step and
outbound call, its id shown by `trace_id_of` and sent to vendors in `traceparent`; nothing
exported unless OTEL_EXPORTER_OTLP_ENDPOINT is set. Spans are caught by an in-memory
exporter added to the provider studio.observability installs (no network)."""

import httpx
import pytest
from django.template import Context, Template
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from integrations import tracing
from integrations.connectors.errors import ConnectorError
from integrations.connectors.http import HttpClient
from integrations.deliveries.models import Delivery
from integrations.deliveries.sender import deliver_one
from integrations.events.services import ingest_event
from integrations.runs.batch import chunks
from integrations.runs.models import Run, RunChunk
from integrations.runs.services import execute_run
from studio.observability import tracing as setup
from tests.runtime import conftest as runtime

# The runtime suite's fixtures (an ERP simulator, a published invoice flow), used here too.
crm, doorbells, erp, invoice_flow, sim = runtime.crm, runtime.doorbells, runtime.erp, runtime.invoice_flow, runtime.sim
erp_offline = runtime.erp_offline
# A page of invoices, one run split into chunks of two (as in tests/runtime/test_batch_flows.py).
INVOICE_PAGE_FLOW = {
    "trigger": {"type": "event", "connection": "crm", "event": "invoice.page"},
    "for_each": {"path": "$.invoices", "chunk_size": 2},
    "steps": [
        {**runtime.INVOICE_FLOW["steps"][0], "fields": runtime.INVOICE_FLOW["steps"][0]["fields"][:2]},
        runtime.INVOICE_FLOW["steps"][1],
    ],
}

EXPORTER = InMemorySpanExporter()


class CollectWhileOn(SimpleSpanProcessor):
    """Keeps spans only while a test asks for them: the processor stays on the process's
    provider for the rest of the session, and must not hoard every later test's spans."""

    on = False

    def on_end(self, span) -> None:
        if self.on:
            super().on_end(span)


COLLECTOR = CollectWhileOn(EXPORTER)


@pytest.fixture
def spans():
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider), "studio.observability installs the SDK provider at start-up"
    if COLLECTOR not in provider._active_span_processor._span_processors:
        provider.add_span_processor(COLLECTOR)
    EXPORTER.clear()
    COLLECTOR.on = True
    yield EXPORTER
    COLLECTOR.on = False
    EXPORTER.clear()


def named(exporter, name):
    return [s for s in exporter.get_finished_spans() if s.name == name]


def hex_trace(span) -> str:
    return f"{span.context.trace_id:032x}"


def test_a_run_has_one_stable_trace_id_per_deployment(settings):
    first = tracing.trace_id_of(41)
    assert len(first) == 32 and int(first, 16) and first == tracing.trace_id_of(41)
    assert tracing.trace_id_of(42) != first
    settings.SWITCHBOARD_TRACE_NAMESPACE = "another-firm"
    tracing._namespace.cache_clear()
    try:
        assert tracing.trace_id_of(41) != first  # another deployment's run 41 is another trace
    finally:
        tracing._namespace.cache_clear()
    assert tracing.trace_id_of(None) == ""


def test_the_template_filter_shows_the_runs_trace_id(db):
    run = Run(pk=7)
    html = Template("{% load observability %}{{ run|trace_id_of }}").render(Context({"run": run}))
    assert html == tracing.trace_id_of(7)


def test_outbound_calls_send_traceparent_of_their_client_span(spans, settings):
    settings.SWITCHBOARD_ALLOW_PRIVATE_ORIGINS = ["http://vendor.test"]
    seen = []

    def vendor(request):
        seen.append(request.headers.get("traceparent"))
        return httpx.Response(503 if "down" in request.url.path else 200, json={})

    client = HttpClient(base_url="http://vendor.test", transport=httpx.MockTransport(vendor), secrets=["s3cr3t"])
    with tracing.run_span("delivery.attempt", 41):
        client.request("GET", "http://vendor.test/ok?api_key=s3cr3t")
        client.request("GET", "http://vendor.test/down")
    (get_ok, get_down) = named(spans, "GET vendor.test")
    (parent,) = named(spans, "delivery.attempt")
    assert hex_trace(get_ok) == hex_trace(parent) == tracing.trace_id_of(41)
    assert get_ok.parent.span_id == parent.context.span_id
    # W3C: version-traceid-parentid-flags, the parent being the client span itself.
    assert seen[0] == f"00-{tracing.trace_id_of(41)}-{get_ok.context.span_id:016x}-01"
    assert "s3cr3t" not in get_ok.attributes["url.full"]
    assert get_ok.attributes["http.response.status_code"] == 200
    assert get_down.status.status_code == trace.StatusCode.ERROR


def test_a_refused_destination_is_an_error_span_and_sends_nothing(spans):
    client = HttpClient(base_url="https://vendor.example.com", transport=httpx.MockTransport(lambda r: 1 / 0))
    with pytest.raises(ConnectorError):
        client.request("GET", "https://elsewhere.example.com/")
    (span,) = named(spans, "GET elsewhere.example.com")
    assert span.status.status_code == trace.StatusCode.ERROR


def test_one_trace_from_intake_through_run_steps_delivery_and_vendor_call(
    spans, invoice_flow, erp, sim, doorbells, django_capture_on_commit_callbacks
):
    result = ingest_event(
        source="crm", type="invoice.approved", external_id="evt-t1", payload={"id": "T-1", "amount": 3}
    )
    run_id = result.runs[0].pk
    with django_capture_on_commit_callbacks(execute=True):
        execute_run(run_id)
    for delivery in Delivery.objects.filter(run_id=run_id):
        with django_capture_on_commit_callbacks(execute=True):
            deliver_one(delivery.pk)
    with django_capture_on_commit_callbacks(execute=True):
        execute_run(run_id)  # resumed after the delivery
    assert Run.objects.get(pk=run_id).status == "succeeded"
    assert len(sim.postings()) == 1

    expected = tracing.trace_id_of(run_id)
    (intake,) = named(spans, "event.intake")
    (queued,) = named(spans, "run.queued")
    executions = named(spans, "run.execute")
    (attempt,) = named(spans, "delivery.attempt")
    posts = [s for s in spans.get_finished_spans() if s.name.startswith("POST ")]
    assert len(executions) == 2 and len(posts) == 1
    for span in (queued, *executions, attempt, *posts):
        assert hex_trace(span) == expected, span.name
    assert hex_trace(intake) != expected  # the intake has its own trace, linked from the run's
    assert [link.context.span_id for link in queued.links] == [intake.context.span_id]
    assert intake.attributes["switchboard.event_id"] == result.event.pk
    assert posts[0].parent.span_id == attempt.context.span_id
    steps = [s for s in spans.get_finished_spans() if s.name.startswith("step ")]
    assert {s.name for s in steps} >= {"step shape", "step post"}
    assert all(s.parent.span_id in {e.context.span_id for e in executions} for s in steps)


def test_each_chunk_of_a_batch_run_is_a_span_of_the_runs_trace(
    spans, personas, crm, erp_offline, doorbells, monkeypatch
):
    monkeypatch.setattr("integrations.runs.doorbell.enqueue_chunks", lambda ids: None)
    runtime.publish_flow(personas["analyst"], INVOICE_PAGE_FLOW, key="invoice-pages")
    invoices = [{"id": f"INV-{i}", "amount": i} for i in range(5)]
    result = ingest_event(source="crm", type="invoice.page", external_id="page-t", payload={"invoices": invoices})
    run_id = result.runs[0].pk
    execute_run(run_id)  # splits the page into chunks of 2
    for chunk_id in RunChunk.objects.filter(run_id=run_id).values_list("pk", flat=True):
        chunks.execute(chunk_id)
    executed = named(spans, "chunk.execute")
    assert len(executed) == 3
    assert {hex_trace(s) for s in executed} == {tracing.trace_id_of(run_id)}
    assert sorted(s.attributes["switchboard.records"] for s in executed) == [1, 2, 2]


def test_exporting_is_off_unless_an_otlp_endpoint_is_set():
    assert not setup.exporting_enabled({})
    quiet = setup.build_provider({})
    assert not quiet._active_span_processor._span_processors
    loud = setup.build_provider({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector.invalid:4318"})
    (processor,) = loud._active_span_processor._span_processors
    assert isinstance(processor, BatchSpanProcessor)
    loud.shutdown()
