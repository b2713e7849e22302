"""Numbers for the connection page: usage over 24 h and the held count."""

from reliability.harness import request_postings

from integrations.audit.models import AuditEntry
from integrations.deliveries.holds import hold_for, pause_connection, resume_connection
from integrations.deliveries.queries import held_count, state_counts, usage_last_24h
from integrations.deliveries.sender import deliver_one


def test_usage_counts_requests_failures_and_throttling(erp, simulator):
    simulator.config(script={"inv:1": ["429:60"], "inv:2": ["422"]})
    for delivery in request_postings(erp, 3):
        deliver_one(delivery.pk)
    usage = usage_last_24h(erp)
    assert (usage["requests"], usage["failures"], usage["throttled"]) == (3, 2, 1)
    assert sum(h["requests"] for h in usage["by_hour"]) == 3
    assert state_counts(erp) == {"SUCCEEDED": 1, "FAILED_RETRYABLE": 1, "DEAD": 1}


def test_pause_holds_deliveries_visibly_and_is_audited(erp, personas):
    request_postings(erp, 4)
    assert held_count(erp) == 0
    assert pause_connection(erp, personas["operator"], "ERP upgrade")
    assert not pause_connection(erp, personas["operator"], "again")  # already paused: no second entry
    assert held_count(erp) == 4
    assert hold_for(erp).label == "Paused: ERP upgrade"
    assert resume_connection(erp, personas["operator"])
    assert held_count(erp) == 0
    entries = list(AuditEntry.objects.order_by("id").values_list("action", "actor_label", "message"))
    assert entries == [("connection.paused", "operator", "ERP upgrade"), ("connection.resumed", "operator", "")]
