"""Safety nets: the dispatcher re-rings due runs; the sweeper recovers runs whose worker
died, and after three losses opens a `worker_lost` exception instead of looping."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.events.services import ingest_event
from integrations.runs.dispatch import dispatch_due, sweep_expired
from integrations.runs.models import Run, RunException
from integrations.runs.services import claim, execute_run

pytestmark = pytest.mark.django_db


def queued_run():
    result = ingest_event(source="crm", type="invoice.approved", external_id="e1", payload={"id": "I-1", "amount": 1})
    return result.runs[0]


def test_the_dispatcher_enqueues_due_runs_whose_doorbell_was_lost(invoice_flow, doorbells):
    run = queued_run()  # never committed here, so never rung
    # Written as enqueued (its ring follows the commit, docs/RELIABILITY.md §3): a ring lost
    # after the commit is sent again once the redispatch interval has passed.
    assert dispatch_due() == 0
    assert dispatch_due(now=timezone.now() + timedelta(minutes=2)) == 1 and doorbells["runs"] == [run.pk]
    doorbells["runs"].clear()
    Run.objects.filter(pk=run.pk).update(enqueued_at=None)  # its message could not be sent
    assert dispatch_due() == 1 and doorbells["runs"] == [run.pk]  # at the next pass
    Run.objects.filter(pk=run.pk).update(enqueued_at=timezone.now())
    assert dispatch_due() == 0  # rung a moment ago: not again
    Run.objects.filter(pk=run.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5), enqueued_at=None)
    assert dispatch_due() == 0  # backing off


def test_a_run_is_claimed_once(invoice_flow, doorbells):
    run = queued_run()
    first = claim(run.pk)
    assert first is not None and first.fence == 1 and first.status == "running"
    assert claim(run.pk) is None


def test_expired_leases_go_back_to_the_queue_and_the_third_loss_opens_an_exception(
    invoice_flow, erp_offline, doorbells
):
    run = queued_run()
    for loss in (1, 2):
        claim(run.pk)
        later = timezone.now() + timedelta(hours=1)
        assert sweep_expired(later) == 1
        run.refresh_from_db()
        assert (run.status, run.worker_losses) == ("queued", loss)
    claimed = claim(run.pk)
    assert sweep_expired(timezone.now() + timedelta(hours=1)) == 1
    run.refresh_from_db()
    assert (run.status, run.worker_losses) == ("failed", 3)
    exc = RunException.objects.get(run=run)
    assert exc.classification == "worker_lost"
    # The lost worker finishing late writes nothing: its fence is stale.
    from integrations.runs.outcomes import StaleFence, guarded

    with pytest.raises(StaleFence):
        guarded(claimed, status="succeeded")


def test_a_live_lease_is_not_swept(invoice_flow, doorbells):
    run = queued_run()
    claim(run.pk)
    assert sweep_expired() == 0


def test_a_transient_lookup_failure_is_retried_later_not_turned_into_an_exception(personas, crm, doorbells, settings):
    from integrations.connections.models import Connection
    from tests.runtime.conftest import publish_flow

    settings.SWITCHBOARD_ALLOW_PRIVATE_ORIGINS = ["http://127.0.0.1:9"]
    config = {"auth_type": "none", "objects": {"accounts": {"path": "/accounts"}}}
    Connection.objects.create(name="crm-api", kind="generic_rest", base_url="http://127.0.0.1:9", config=config)
    definition = {
        "trigger": {"type": "event", "connection": "crm", "event": "deal.won"},
        "steps": [
            {
                "id": "account",
                "type": "lookup",
                "connection": "crm-api",
                "object": "accounts",
                "by": {"id": "{{ record.account }}"},
            }
        ],
    }
    publish_flow(personas["analyst"], definition, key="deals")
    result = ingest_event(source="crm", type="deal.won", external_id="d1", payload={"account": "A1"})
    run = execute_run(result.runs[0].pk)
    assert run.status == "queued", run.error  # connection refused: try again later
    assert run.next_attempt_at > timezone.now() - timedelta(seconds=1)
    assert run.error["classification"] == "transient" and run.attempts == 1
    assert RunException.objects.count() == 0
    Run.objects.filter(pk=run.pk).update(attempts=5, next_attempt_at=timezone.now())
    run = execute_run(run.pk)
    assert run.status == "failed"  # attempts exhausted
    assert RunException.objects.get(run=run).classification == "transient"


def test_a_lookup_answered_429_waits_for_the_targets_retry_after(personas, crm, doorbells, settings):
    import http.server
    import threading

    from integrations.connections.models import Connection
    from tests.runtime.conftest import publish_flow

    class Throttled(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(429)
            self.send_header("Retry-After", "120")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Throttled)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        settings.SWITCHBOARD_ALLOW_PRIVATE_ORIGINS = [origin]
        config = {"auth_type": "none", "objects": {"accounts": {"path": "/accounts"}}}
        Connection.objects.create(name="crm-api", kind="generic_rest", base_url=origin, config=config)
        lookup = {"id": "account", "type": "lookup", "connection": "crm-api", "object": "accounts"}
        definition = {
            "trigger": {"type": "event", "connection": "crm", "event": "deal.won"},
            "steps": [{**lookup, "by": {"id": "{{ record.account }}"}}],
        }
        publish_flow(personas["analyst"], definition, key="deals")
        before = timezone.now()
        result = ingest_event(source="crm", type="deal.won", external_id="d1", payload={"account": "A1"})
        run = execute_run(result.runs[0].pk)
    finally:
        server.shutdown()
    assert run.status == "queued" and run.error["retry_after"] == 120
    assert run.next_attempt_at >= before + timedelta(seconds=120)  # not a shorter backoff
