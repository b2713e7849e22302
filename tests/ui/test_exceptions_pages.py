"""The exception queue as people use it: tabs, filters, grouping and keyset pages; one
exception's page and each action on it (audited with its actor); edit-and-resubmit with a
diff before anything runs; bulk jobs with a count confirmation and a progress bar; a viewer
sees everything but no control and is refused every POST."""

import json
import re

import pytest
from django.urls import reverse

from integrations.audit.models import AuditEntry
from integrations.events.services import ingest_event
from integrations.flows.models import Flow
from integrations.runs.inbox import actions
from integrations.runs.inbox.bulk import process_chunk
from integrations.runs.models import BulkJob, Run, RunException
from integrations.runs.services import execute_run
from tests.api.runtime_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
LIST = "/exceptions/"


def failed_mappings(n, start=0):
    """n runs that fail in the map step (the invoice has no id): n open exceptions."""
    for i in range(start, start + n):
        result = ingest_event(source="crm", type="invoice.approved", external_id=f"bad-{i}", payload={"amount": i})
        execute_run(result.runs[0].pk)
    return list(RunException.objects.order_by("id"))


def rows(html: str) -> list[str]:
    return re.findall(r'data-testid="exc-row" data-id="(\d+)"', html)


def test_open_tab_lists_each_exception_with_its_columns(client_for, invoice_flow):
    exc = failed_mappings(2)[0]
    html = client_for("viewer").get(LIST).content.decode()
    assert sorted(rows(html)) == sorted(str(e.pk) for e in RunException.objects.all())
    row = html[html.index(f'data-id="{exc.pk}"') :]
    row = row[: row.index("</tr>")]
    for text in ("external_ref is required", "Permanent", "Invoices", "shape", "bad-0", f"/runs/{exc.run_id}/"):
        assert text in row, text
    assert "2 exceptions match" in html


def test_tabs_split_open_retrying_and_resolved(client_for, invoice_flow, personas):
    first, second, third = failed_mappings(3)
    actions.retry(second, personas["operator"])
    actions.resolve(third, personas["operator"], "fixed in the CRM")
    operator = client_for("operator")
    assert rows(operator.get(LIST).content.decode()) == [str(first.pk)]
    assert rows(operator.get(LIST, {"tab": "retrying"}).content.decode()) == [str(second.pk)]
    assert rows(operator.get(LIST, {"tab": "resolved"}).content.decode()) == [str(third.pk)]
    empty = operator.get(LIST, {"tab": "open", "business_key": "nope"}).content.decode()
    assert 'data-testid="exc-empty"' in empty and "match these filters" in empty


def test_filters_live_in_the_query_string_and_bad_ones_are_named(client_for, invoice_flow):
    failed_mappings(3)
    viewer = client_for("viewer")
    assert len(rows(viewer.get(LIST, {"business_key": "bad-1"}).content.decode())) == 1
    assert len(rows(viewer.get(LIST, {"q": "required"}).content.decode())) == 3
    assert len(rows(viewer.get(LIST, {"flow": "invoices", "classification": "permanent"}).content.decode())) == 3
    bad = viewer.get(LIST, {"classification": "purple"})
    assert bad.status_code == 400
    assert 'data-testid="exc-filter-error-classification"' in bad.content.decode()


def test_grouped_by_signature_collapses_alike_failures_and_opens_the_group(client_for, invoice_flow):
    failed_mappings(4)
    html = client_for("viewer").get(LIST, {"group": "signature"}).content.decode()
    assert html.count('data-testid="exc-group"') == 1
    assert re.search(r'data-testid="exc-group-count">4<', html)
    link = re.search(r'data-testid="exc-group-open" href="\?([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "signature=" in link and "group=" not in link
    assert len(rows(client_for("viewer").get(f"{LIST}?{link}").content.decode())) == 4
    by_step = client_for("viewer").get(LIST, {"group": "step"}).content.decode()
    assert "<code>shape</code>" in by_step


def test_groups_fold_across_flows_and_say_when_only_the_largest_are_shown(client_for, invoice_flow, monkeypatch):
    from studio.ui.exceptions import queries

    failed = failed_mappings(3)
    other = RunException.objects.create(
        run=failed[0].run, flow=Flow.objects.create(key="other", name="Other"), step_id="shape", item="x",
        classification="transient", message="zz other", message_signature="other", duplicate_count=4,
    )  # fmt: skip
    by_step = client_for("viewer").get(LIST, {"group": "step"}).content.decode()
    assert re.search(r'data-testid="exc-group-count">4<', by_step) and "in 2 flows" in by_step
    found = queries.groups_of({"status": "open,assigned"}, "classification")
    assert [(g.value, g.count) for g in found.shown] == [("permanent", 3), ("transient", 1)]
    assert found.count == 2 and found.exceptions == 4 and found.shown[1].occurrences == other.duplicate_count
    monkeypatch.setattr(queries, "MAX_GROUPS", 1)
    html = client_for("viewer").get(LIST, {"group": "signature"}).content.decode()
    assert html.count('data-testid="exc-group"') == 1 and "4 exceptions in 2 groups" in html
    assert "(the 1 largest are shown: narrow the filters to see the others)" in html


def test_keyset_pages_show_every_exception_once(client_for, invoice_flow):
    failed_mappings(55)
    viewer = client_for("viewer")
    first = viewer.get(LIST).content.decode()
    cursor = re.search(r'cursor=([^"&]+)"', first).group(1)
    second = viewer.get(LIST, {"cursor": cursor}, **HTMX).content.decode()
    assert len(rows(first)) == 50 and len(rows(second)) == 5
    assert not set(rows(first)) & set(rows(second))
    assert "<html" not in second  # htmx asks for the next rows only


def test_the_queue_costs_a_fixed_number_of_queries(client_for, invoice_flow, django_assert_max_num_queries):
    failed_mappings(60)
    operator = client_for("operator")
    operator.get(LIST)  # session, permissions cached like any later page
    with django_assert_max_num_queries(12):
        assert operator.get(LIST).status_code == 200
    with django_assert_max_num_queries(12):
        assert operator.get(LIST, {"group": "signature"}).status_code == 200
    exc = RunException.objects.first()
    with django_assert_max_num_queries(16):
        assert operator.get(f"{LIST}{exc.pk}/").status_code == 200


def test_viewer_sees_the_exception_but_no_control_and_is_refused(client_for, invoice_flow):
    exc = failed_mappings(1)[0]
    viewer = client_for("viewer")
    listing = viewer.get(LIST).content.decode()
    assert 'data-testid="bulk-form"' not in listing and "data-row-select" not in listing
    page = viewer.get(f"{LIST}{exc.pk}/").content.decode()
    assert 'data-testid="exc-original"' in page
    for control in ("retry-submit", "resolve-submit", "skip-submit", "assign-submit", "resubmit-review", "tag-submit"):
        assert control not in page
    for action in ("retry", "resolve", "skip", "assign", "tag", "comment", "resubmit"):
        response = viewer.post(f"{LIST}{exc.pk}/{action}/", {"reason": "x", "body": "x", "input": "{}"})
        assert response.status_code == 403, action
    assert viewer.post(LIST, {"action": "skip", "scope": "all", "confirm": "1"}).status_code == 403
    assert RunException.objects.get().status == "open"
    assert not AuditEntry.objects.filter(action__startswith="exception.").exclude(action="exception.open").exists()


def test_retry_states_both_versions_and_starts_a_run(client_for, invoice_flow, personas):
    exc = failed_mappings(1)[0]
    operator = client_for("operator")
    page = operator.get(f"{LIST}{exc.pk}/").content.decode()
    assert "v1 — the version that ran" in page and "v1 — the live version (the same one)" in page
    response = operator.post(f"{LIST}{exc.pk}/retry/", {"from_step": "start", "version": "current"})
    assert response.status_code == 302
    exc.refresh_from_db()
    assert exc.status == "retrying"
    retry = Run.objects.get(retry_of=exc.run)
    assert retry.trigger == "retry" and retry.start_at == ""
    entry = AuditEntry.objects.get(action="exception.retry")
    assert entry.actor == personas["operator"] and entry.changes["version"][1] == "current"
    page = operator.get(f"{LIST}{exc.pk}/").content.decode()
    assert f"Run #{retry.pk}" in page and "Retry started." in page


def test_retry_refused_once_the_exception_moved_on(client_for, invoice_flow):
    exc = failed_mappings(1)[0]
    operator = client_for("operator")
    operator.post(f"{LIST}{exc.pk}/skip/", {"reason": "duplicate"})
    response = operator.post(f"{LIST}{exc.pk}/retry/", {"from_step": "failed", "version": "ran"})
    assert response.status_code == 409
    assert "only open or assigned exceptions can be worked" in response.content.decode()


def test_resolve_needs_a_reason_shown_at_the_field(client_for, invoice_flow, personas):
    exc = failed_mappings(1)[0]
    operator = client_for("operator")
    response = operator.post(f"{LIST}{exc.pk}/resolve/", {"reason": "  "})
    assert response.status_code == 400
    assert 'data-testid="resolve-reason-error"' in response.content.decode()
    assert operator.post(f"{LIST}{exc.pk}/resolve/", {"reason": "posted by hand"}).status_code == 302
    exc.refresh_from_db()
    assert (exc.status, exc.resolution_reason, exc.resolved_by) == ("resolved", "posted by hand", personas["operator"])
    assert AuditEntry.objects.get(action="exception.resolve").actor == personas["operator"]
    assert rows(operator.get(LIST, {"tab": "resolved"}).content.decode()) == [str(exc.pk)]


def test_skip_assign_tag_and_comment_are_audited_with_their_actor(client_for, invoice_flow, personas):
    exc = failed_mappings(1)[0]
    admin = client_for("admin")
    assert admin.post(f"{LIST}{exc.pk}/assign/", {"assignee": "operator"}).status_code == 302
    assert admin.post(f"{LIST}{exc.pk}/tag/", {"add": "vip"}).status_code == 302
    assert admin.post(f"{LIST}{exc.pk}/comment/", {"body": "Asked the CRM team"}).status_code == 302
    page = admin.get(f"{LIST}{exc.pk}/").content.decode()
    assert "Asked the CRM team" in page and ">vip<" in page
    assert re.search(r'data-testid="exc-assignee">operator<', page)
    assert admin.post(f"{LIST}{exc.pk}/tag/", {"remove": "vip"}).status_code == 302
    assert admin.post(f"{LIST}{exc.pk}/assign/", {"assignee": "viewer"}).status_code == 400  # cannot work them
    assert admin.post(f"{LIST}{exc.pk}/skip/", {"reason": "test data"}).status_code == 302
    exc.refresh_from_db()
    assert (exc.status, exc.tags, exc.assignee) == ("skipped", [], personas["operator"])
    actions = list(AuditEntry.objects.filter(actor=personas["admin"]).values_list("action", flat=True))
    for action in ("exception.assign", "exception.tag", "exception.comment", "exception.skip"):
        assert action in actions


def test_edit_and_resubmit_validates_shows_the_diff_then_runs(client_for, invoice_flow, personas):
    exc = failed_mappings(1)[0]
    operator = client_for("operator")
    url = f"{LIST}{exc.pk}/resubmit/"
    page = operator.get(f"{LIST}{exc.pk}/").content.decode()
    assert "&quot;amount&quot;: 0" in page  # the editor starts from the failed step's input

    broken = operator.post(url, {"input": '{"amount": '}, **HTMX)
    assert broken.status_code == 422 and "Not valid JSON" in broken.content.decode()
    still_failing = operator.post(url, {"input": json.dumps({"amount": 5})}, **HTMX)
    assert still_failing.status_code == 422
    assert "external_ref is required" in still_failing.content.decode()  # dry-run from the failed step

    edited = {"id": "INV-9", "amount": 5}
    review = operator.post(url, {"input": json.dumps(edited), "note": "id was missing"}, **HTMX)
    html = review.content.decode()
    assert review.status_code == 200 and 'data-testid="resubmit-confirm"' in html
    diff = dict(re.findall(r"<code>(\w+)</code></th><td><del>([^<]*)</del>", html))
    assert diff == {"amount": "0", "id": "—"}
    assert not Run.objects.filter(retry_of=exc.run).exists()  # nothing ran yet

    done = operator.post(url, {"input": json.dumps(edited), "note": "id was missing", "confirm": "1"}, **HTMX)
    assert done.status_code == 204 and done["HX-Redirect"] == f"{LIST}{exc.pk}/"
    exc.refresh_from_db()
    assert exc.status == "retrying" and exc.original_input == {"amount": 0}
    assert exc.input_revisions[0]["diff"] == {"amount": [0, 5], "id": [None, "INV-9"]}
    assert Run.objects.get(retry_of=exc.run).state["record"] == edited
    entry = AuditEntry.objects.get(action="exception.resubmit")
    assert entry.actor == personas["operator"] and entry.changes == {"amount": [0, 5], "id": [None, "INV-9"]}
    page = operator.get(f"{LIST}{exc.pk}/").content.decode()
    assert 'data-testid="exc-revisions"' in page and "id was missing" in page


def test_bulk_retry_of_all_matching_confirms_the_count_then_runs_as_a_job(client_for, invoice_flow, personas):
    failed_mappings(7)
    operator = client_for("operator")
    form = {"action": "retry", "scope": "all", "from_step": "failed", "version": "current"}
    confirm = operator.post(f"{LIST}?tab=open&business_key=", form)
    html = confirm.content.decode()
    assert confirm.status_code == 200 and "Retry <strong>7</strong> exceptions" in html
    assert "the live version of its flow" in html
    started = operator.post(LIST + "?tab=open", {**form, "confirm": "1"})
    job = BulkJob.objects.get()
    assert started.status_code == 302 and started["Location"] == f"{LIST}jobs/{job.pk}/"
    progress = operator.get(started["Location"], **HTMX)
    assert progress.status_code == 200 and 'hx-trigger="every 2s"' in progress.content.decode()
    while BulkJob.objects.get(pk=job.pk).status != "done":
        process_chunk(job.pk)
    final = operator.get(started["Location"], **HTMX)
    assert final.status_code == 286  # htmx stops polling
    assert re.search(r"<strong>7</strong> succeeded · <strong>0</strong> failed", final.content.decode())
    assert "every 2s" not in final.content.decode()
    assert RunException.objects.filter(status="retrying").count() == 7
    assert AuditEntry.objects.filter(action="exception.retry", actor=personas["operator"]).count() == 7
    assert AuditEntry.objects.get(action="exception.bulk_retry").actor == personas["operator"]


def test_bulk_on_selected_rows_touches_only_those(client_for, invoice_flow):
    excs = failed_mappings(4)
    chosen = [excs[0].pk, excs[2].pk]
    operator = client_for("operator")
    form = {"action": "resolve", "scope": "selected", "ids": chosen, "reason": "handled in ERP", "confirm": "1"}
    assert operator.post(LIST, form).status_code == 302
    job = BulkJob.objects.get()
    process_chunk(job.pk)
    assert sorted(RunException.objects.filter(status="resolved").values_list("pk", flat=True)) == chosen


def test_bulk_problems_are_named_and_nothing_starts(client_for, invoice_flow):
    failed_mappings(2)
    operator = client_for("operator")
    no_rows = operator.post(LIST, {"action": "skip", "scope": "selected"})
    assert no_rows.status_code == 400 and 'data-testid="bulk-error-ids"' in no_rows.content.decode()
    no_reason = operator.post(LIST, {"action": "resolve", "scope": "all", "confirm": "1"})
    assert no_reason.status_code == 400 and 'data-testid="bulk-error-reason"' in no_reason.content.decode()
    assert not BulkJob.objects.exists()


def test_exception_that_does_not_exist_is_a_404(client_for, db):
    assert client_for("operator").get(f"{LIST}999/").status_code == 404
    assert (
        client_for("operator").post(f"{LIST}999/retry/", {"from_step": "failed", "version": "ran"}).status_code == 404
    )
    assert client_for("operator").get(reverse("exceptions:job", args=[999])).status_code == 404


def test_bulk_summary_names_what_could_not_be_done(client_for, invoice_flow, personas):
    second = failed_mappings(3)[1]
    operator = client_for("operator")
    form = {"action": "resolve", "scope": "all", "reason": "fixed upstream", "confirm": "1"}
    job_url = operator.post(LIST, form)["Location"]
    actions.skip(second, personas["admin"], "someone was faster")  # between the start and the chunk
    job = BulkJob.objects.get()
    process_chunk(job.pk)
    final = operator.get(job_url, **HTMX)
    html = final.content.decode()
    assert final.status_code == 286
    assert re.search(r"<strong>2</strong> succeeded · <strong>1</strong> failed", html)
    assert f'href="/exceptions/{second.pk}/">#{second.pk}</a>: <code>status</code> the exception is skipped' in html
    assert operator.get(job_url).status_code == 200  # the page itself, without htmx
