"""The crosswalk pages as people use them: a row per canonical id with a column per system,
search by any system's id, the three filters, link and unlink with a reason (audited, and
refused without one or without the role), a streaming CSV of the current filter, the
ownership page, the review queue and the conflicts page."""

import pytest

from integrations.audit.models import AuditEntry
from integrations.crosswalk.matching import first_contact
from integrations.crosswalk.models import CrosswalkLink, MatchCandidate
from integrations.crosswalk.ownership import owner_of
from integrations.crosswalk.services import link

pytestmark = pytest.mark.django_db


@pytest.fixture
def links(db):
    link("client", "salesforce", "001A", canonical="C-1")
    link("client", "netsuite", "1001", canonical="C-1")
    link("client", "salesforce", "001B", canonical="C-2")  # in one system only: an orphan, missing in netsuite
    link("client", "salesforce", "=cmd", canonical="C-3")
    link("client", "netsuite", "1003", canonical="C-3")


def test_rows_search_and_filters(client_for, links):
    viewer = client_for("viewer")
    page = viewer.get("/crosswalk/client/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="xwalk-row"') == 3 and '<th scope="col">netsuite</th>' in html
    found = viewer.get("/crosswalk/client/", {"q": "1001"}).content.decode()
    assert "C-1" in found and "C-2" not in found and found.count('data-testid="xwalk-row"') == 1
    missing = viewer.get("/crosswalk/client/", {"missing": "netsuite"}).content.decode()
    assert missing.count('data-testid="xwalk-row"') == 1 and "C-2" in missing
    orphan = viewer.get("/crosswalk/client/", {"orphan": "1"}).content.decode()
    assert orphan.count('data-testid="xwalk-row"') == 1 and "C-2" in orphan
    none = viewer.get("/crosswalk/client/", {"q": "nothing-like-this"}).content.decode()
    assert 'data-testid="xwalk-empty"' in none
    assert viewer.get("/crosswalk/not_an_object/").status_code == 404
    assert client_for("outsider").get("/crosswalk/client/").status_code == 403


def test_conflict_filter_shows_records_waiting_for_review(client_for, db):
    first_contact("client", "netsuite", "9", {"name": "Contoso Ltd"})
    second = first_contact("client", "salesforce", "001Z", {"name": "Contoso, Inc."})
    assert second.certain is False and MatchCandidate.objects.count() == 1
    html = client_for("viewer").get("/crosswalk/client/", {"conflict": "1"}).content.decode()
    assert html.count('data-testid="xwalk-row"') == 2


def test_csv_export_streams_the_filter_and_defuses_formulas(client_for, links):
    response = client_for("viewer").get("/crosswalk/client/export.csv")
    assert response.streaming and response["Content-Type"] == "text/csv"
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == "canonical_id,netsuite,salesforce"
    assert "C-1,1001,001A" in lines and "C-3,1003,'=cmd" in lines and len(lines) == 4
    filtered = client_for("viewer").get("/crosswalk/client/export.csv", {"missing": "netsuite"})
    assert b"".join(filtered.streaming_content).decode().splitlines()[1:] == ["C-2,,001B"]


def test_link_and_unlink_need_a_reason_and_the_role_and_are_audited(client_for, links):
    operator = client_for("operator")
    refused = client_for("analyst").post(
        "/crosswalk/client/link/", {"canonical_id": "C-2", "system": "netsuite", "external_id": "1002", "reason": "x"}
    )
    assert refused.status_code == 403
    no_reason = operator.post(
        "/crosswalk/client/link/",
        {"canonical_id": "C-2", "system": "netsuite", "external_id": "1002", "reason": " "},
        follow=True,
    )
    assert "reason: is required" in no_reason.content.decode()
    taken = operator.post(
        "/crosswalk/client/link/",
        {"canonical_id": "C-2", "system": "netsuite", "external_id": "1001", "reason": "typo"},
        follow=True,
    )
    assert "already linked to C-1" in taken.content.decode()
    operator.post(
        "/crosswalk/client/link/",
        {"canonical_id": "C-2", "system": "netsuite", "external_id": "1002", "reason": "found in the ERP"},
    )
    made = CrosswalkLink.objects.get(system="netsuite", external_id="1002")
    assert made.canonical_id == "C-2" and made.source == "manual"
    entry = AuditEntry.objects.get(action="crosswalk.link")
    assert entry.actor.username == "operator" and entry.message == "found in the ERP"
    assert operator.post(f"/crosswalk/client/unlink/{made.pk}/", {"reason": ""}).status_code == 302
    assert CrosswalkLink.objects.filter(pk=made.pk).exists()  # no reason: kept
    operator.post(f"/crosswalk/client/unlink/{made.pk}/", {"reason": "wrong customer"})
    assert not CrosswalkLink.objects.filter(pk=made.pk).exists()
    assert AuditEntry.objects.get(action="crosswalk.unlink").message == "wrong customer"


def test_ownership_page_changes_an_owner_with_audit(client_for, personas):
    page = client_for("viewer").get("/crosswalk/ownership/", {"object": "worker"})
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="owner-cost_rate">HR<' in html and "owner-select" not in html
    assert (
        client_for("viewer")
        .post("/crosswalk/ownership/", {"object": "worker", "field": "cost_rate", "owner": "psa"})
        .status_code
        == 403
    )
    analyst = client_for("analyst")
    bad = analyst.post("/crosswalk/ownership/", {"object": "worker", "field": "cost_rate", "owner": "billing"})
    assert bad.status_code == 400 and "is not a system" in bad.content.decode()
    assert (
        analyst.post("/crosswalk/ownership/", {"object": "worker", "field": "nope", "owner": "hr"}).status_code == 400
    )
    analyst.post(
        "/crosswalk/ownership/", {"object": "worker", "field": "cost_rate", "owner": "psa", "reason": "PSA rates"}
    )
    assert owner_of("worker", "cost_rate") == "psa"
    entry = AuditEntry.objects.get(action="ownership.change")
    assert entry.changes or entry.message == "PSA rates"
    analyst.post("/crosswalk/ownership/", {"object": "worker", "field": "cost_rate", "reset": "1"})
    assert owner_of("worker", "cost_rate") == "hr"


def test_review_queue_links_or_keeps_apart(client_for, db):
    first_contact("client", "netsuite", "9", {"name": "Contoso Ltd", "tax_id": "GB 123"})
    maybe = first_contact("client", "salesforce", "001Z", {"name": "contoso inc"})
    candidate = MatchCandidate.objects.get()
    assert (
        client_for("viewer")
        .post("/crosswalk/review/", {"candidate": candidate.pk, "decision": "accept", "reason": "x"})
        .status_code
        == 403
    )
    operator = client_for("operator")
    assert "review-accept" in operator.get("/crosswalk/review/").content.decode()
    no_reason = operator.post("/crosswalk/review/", {"candidate": candidate.pk, "decision": "accept", "reason": ""})
    assert no_reason.status_code == 400
    operator.post("/crosswalk/review/", {"candidate": candidate.pk, "decision": "accept", "reason": "same company"})
    moved = CrosswalkLink.objects.get(system="salesforce", external_id="001Z")
    assert moved.canonical_id == candidate.candidate_id != maybe.canonical_id and moved.source == "review"
    assert AuditEntry.objects.filter(action="crosswalk.match_accept").count() == 1
    assert 'data-testid="review-empty"' in operator.get("/crosswalk/review/").content.decode()


def test_first_contact_rules(db):
    worker = first_contact("worker", "workday", "w1", {"employee_number": "E-0001", "email": "A@firm.example"})
    assert worker.rule == "new"
    by_number = first_contact("worker", "kantata", "k1", {"employee_number": "e0001", "email": "other@x"})
    assert (by_number.canonical_id, by_number.rule, by_number.certain) == (worker.canonical_id, "employee_number", True)
    by_email = first_contact("worker", "netsuite", "n1", {"email": "a@FIRM.example"})
    assert (by_email.canonical_id, by_email.rule) == (worker.canonical_id, "email")
    client = first_contact("client", "netsuite", "c1", {"erp_customer_id": "C-10001", "tax_id": "DE 811", "name": "X"})
    by_tax = first_contact("client", "salesforce", "s1", {"tax_id": "de811"})
    assert by_tax.canonical_id == client.canonical_id and by_tax.rule == "tax_id"
    assert first_contact("client", "salesforce", "s1", {}).rule == "link"  # known already
