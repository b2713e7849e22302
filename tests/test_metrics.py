"""GET /metrics: a bearer token or nothing; what a scraper reads (runs by flow and status,
step durations, deliveries by state and attempt outcome, open exceptions, backlog age,
throttle deferrals and circuit state per connection) comes from the database in a fixed
number of queries, and no label carries a secret, a payload or a business key."""

from datetime import timedelta

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from integrations.connections.models import Connection
from integrations.deliveries.models import Delivery, DeliveryAttempt, ThrottleEvent
from integrations.runs.models import Run, RunChunk, RunException, StepRun
from tests.runtime.conftest import INVOICE_FLOW, publish_flow

URL = "/metrics"
TOKEN = "scrape-token-for-tests"
SECRET = "s3cr3t-credential-value"
PAYLOAD_MARK = "PAYLOAD-MARKER-0042"
BUSINESS_KEY = "BK-CLIENT-ACME"
MAX_QUERIES = 12


@pytest.fixture
def token(settings):
    settings.SWITCHBOARD_METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client) -> dict:
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return {"text": text, "samples": samples}


def value(result, name, **labels):
    return result["samples"].get((name, tuple(sorted(labels.items()))))


def make_connection(name, **fields):
    connection = Connection(name=name, kind="generic_rest", base_url=f"https://{name}.example.com", **fields)
    connection.set_credentials({"api_key": SECRET})
    connection.save()
    return connection


def make_run(version, status, *, created=None, due=None, steps=(), business_key=BUSINESS_KEY):
    run = Run.objects.create(
        flow_version=version,
        trigger="manual",
        status=status,
        business_key=business_key,
        input={"note": PAYLOAD_MARK},
        next_attempt_at=due,
    )
    if created:
        Run.objects.filter(pk=run.pk).update(created_at=created)
    now = timezone.now()
    StepRun.objects.bulk_create(
        StepRun(run=run, step_id=step_id, type="map", status="succeeded", duration_ms=ms, started_at=now)
        for step_id, ms in steps
    )
    return run


def make_delivery(connection, run, key, state, *, due=None, outcome=None):
    delivery = Delivery.objects.create(
        idempotency_key=key,
        run=run,
        connection=connection,
        object="postings",
        action="create",
        payload={"note": PAYLOAD_MARK},
        state=state,
        next_attempt_at=due,
    )
    if outcome:
        DeliveryAttempt.objects.create(delivery=delivery, fence=1, started_at=timezone.now(), outcome=outcome)
    return delivery


@pytest.fixture
def history(personas):
    """Two flows, three connections in three circuit states, and a bit of everything."""
    now = timezone.now()
    invoices = publish_flow(personas["analyst"], INVOICE_FLOW, key="invoices").versions.exclude(number=None).get()
    other = {**INVOICE_FLOW, "trigger": {**INVOICE_FLOW["trigger"], "event": "invoice.voided"}}
    voids = publish_flow(personas["analyst"], other, key="voids").versions.exclude(number=None).get()
    erp = make_connection("erp")
    make_connection("crm", circuit_open_until=now + timedelta(seconds=60), circuit_failures=5)
    make_connection("hr", circuit_open_until=now - timedelta(seconds=1), circuit_failures=5)
    done = make_run(invoices, "succeeded", steps=[("shape", 3), ("shape", 40), ("post", 700)])
    make_run(invoices, "succeeded", steps=[("shape", 4)])
    failed = make_run(invoices, "failed")
    make_run(voids, "queued", due=now - timedelta(seconds=120))
    make_run(invoices, "succeeded", created=now - timedelta(hours=3))  # outside the recent window
    make_run(voids, "waiting-delivery", created=now - timedelta(days=2))  # unfinished, however old
    RunChunk.objects.create(run=failed, index=0, first=0, records=[], status="queued", next_attempt_at=now)
    make_delivery(erp, done, "k1", "SUCCEEDED", outcome="succeeded")
    make_delivery(erp, failed, "k2", "DEAD", outcome="dead")
    make_delivery(erp, None, "k3", "PENDING", due=now - timedelta(seconds=30))
    RunException.objects.create(
        run=failed,
        flow=invoices.flow,
        step_id="post",
        classification="permanent",
        message=f"refused {PAYLOAD_MARK}",
        message_signature="refused",
        business_key=BUSINESS_KEY,
    )
    ThrottleEvent.objects.bulk_create([ThrottleEvent(connection=erp) for _ in range(3)])
    return {"erp": erp}


def test_off_without_a_configured_token(client, settings):
    settings.SWITCHBOARD_METRICS_TOKEN = ""
    assert client.get(URL).status_code == 404
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", TOKEN, "Bearer "])
def test_a_missing_or_wrong_token_is_401(client, db, token, header):
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = client.get(URL, **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"switchboard_" not in response.content


def test_only_get(client, db, token):
    assert client.post(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


def test_what_a_scraper_reads(client, token, history):
    result = scrape(client)
    # Runs created in the last hour by flow and status; the 3-hour-old run is not among them.
    assert value(result, "switchboard_runs_last_hour", flow="invoices", status="succeeded") == 2
    assert value(result, "switchboard_runs_last_hour", flow="invoices", status="failed") == 1
    assert value(result, "switchboard_runs_last_hour", flow="voids", status="queued") == 1
    # Unfinished runs whatever their age.
    assert value(result, "switchboard_runs_unfinished", flow="voids", status="waiting-delivery") == 1
    assert value(result, "switchboard_runs_unfinished", flow="voids", status="queued") == 1
    assert value(result, "switchboard_runs_unfinished", flow="invoices", status="succeeded") is None
    # Step durations: 3, 4 and 40 ms for "shape", 700 ms for "post".
    assert value(result, "switchboard_step_duration_seconds_bucket", flow="invoices", step="shape", le="0.005") == 2
    assert value(result, "switchboard_step_duration_seconds_bucket", flow="invoices", step="shape", le="0.05") == 3
    assert value(result, "switchboard_step_duration_seconds_bucket", flow="invoices", step="post", le="0.5") == 0
    assert value(result, "switchboard_step_duration_seconds_bucket", flow="invoices", step="post", le="1.0") == 1
    assert value(result, "switchboard_step_duration_seconds_gcount", flow="invoices", step="shape") == 3
    shape_seconds = value(result, "switchboard_step_duration_seconds_gsum", flow="invoices", step="shape")
    assert shape_seconds == pytest.approx(0.047)
    # The ledger: states other than succeeded, and attempts by outcome.
    assert value(result, "switchboard_deliveries", connection="erp", state="DEAD") == 1
    assert value(result, "switchboard_deliveries", connection="erp", state="PENDING") == 1
    assert value(result, "switchboard_deliveries", connection="erp", state="SUCCEEDED") is None
    assert value(result, "switchboard_delivery_attempts_last_hour", connection="erp", outcome="succeeded") == 1
    assert value(result, "switchboard_delivery_attempts_last_hour", connection="erp", outcome="dead") == 1
    ex = {"flow": "invoices", "status": "open", "classification": "permanent"}
    assert value(result, "switchboard_exceptions_open", **ex) == 1
    # Backlog: the run due two minutes ago, the delivery due 30 s ago, the chunk due now.
    assert 120 <= value(result, "switchboard_backlog_age_seconds", kind="run") < 180
    assert 30 <= value(result, "switchboard_backlog_age_seconds", kind="delivery") < 90
    assert value(result, "switchboard_backlog_age_seconds", kind="chunk") < 60
    # Connections: circuit state, held, throttle deferrals.
    assert value(result, "switchboard_circuit_state", connection="erp") == 0
    assert value(result, "switchboard_circuit_state", connection="hr") == 1
    assert value(result, "switchboard_circuit_state", connection="crm") == 2
    assert value(result, "switchboard_circuit_failures", connection="crm") == 5
    assert value(result, "switchboard_connection_held", connection="crm") == 1
    assert value(result, "switchboard_connection_held", connection="erp") == 0
    assert value(result, "switchboard_throttle_deferrals_last_5m", connection="erp") == 3
    assert value(result, "switchboard_throttle_deferrals_last_5m", connection="crm") == 0


def test_no_secret_payload_or_business_key_in_the_output(client, token, history):
    text = scrape(client)["text"]
    for leak in (SECRET, PAYLOAD_MARK, BUSINESS_KEY, "api_key", TOKEN):
        assert leak not in text


def test_an_empty_database_scrapes_cleanly(client, db, token):
    result = scrape(client)
    assert value(result, "switchboard_backlog_age_seconds", kind="run") == 0
    assert "switchboard_runs_last_hour" in result["text"]


def test_a_scrape_costs_a_fixed_number_of_queries(client, token, history):
    with CaptureQueriesContext(db) as small:
        scrape(client)
    erp = history["erp"]
    version = Run.objects.first().flow_version
    for n in range(6):  # more connections, runs, steps, deliveries and exceptions
        extra = make_connection(f"extra{n}", circuit_open_until=timezone.now())
        run = make_run(version, "failed", steps=[(f"s{n}", n)])
        make_delivery(extra, run, f"x{n}", "FAILED_RETRYABLE", outcome="retryable")
        make_delivery(erp, run, f"y{n}", "IN_FLIGHT")
    with CaptureQueriesContext(db) as large:
        result = scrape(client)
    assert value(result, "switchboard_circuit_state", connection="extra5") == 1
    assert len(large) == len(small) <= MAX_QUERIES, [q["sql"][:120] for q in large]
