"""The audit entry page (before/after, secrets masked), the CSV and JSON exports of the
filtered log (streamed in keyset batches, audited themselves, Admin only), and the log's
append-only promise: no page, API endpoint or admin registration edits or deletes an entry."""

import csv
import io
import json
import re
from pathlib import Path

import pytest
from django.contrib import admin
from django.db import connection as db
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from integrations.audit import services as audit
from integrations.audit.models import AuditEntry
from integrations.connections.models import Connection
from integrations.connections.services import create_connection, update_connection

OLD_SECRET, NEW_SECRET = "old-api-key-1111", "new-api-key-2222"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def secret_change(personas):
    """A real connection edit through the service: a new base URL and a new API key."""
    admin_user = personas["admin"]
    conn = create_connection(
        admin_user,
        name="erp",
        kind="generic_rest",
        base_url="https://erp.example.com",
        credentials={"api_key": OLD_SECRET},
    )
    update_connection(
        admin_user,
        Connection.objects.get(pk=conn.pk),
        base_url="https://erp2.example.com",
        config={"auth_type": "api_key", "objects": {"postings": {"path": "/v2/postings"}}},
        credentials={"api_key": NEW_SECRET},
    )
    return AuditEntry.objects.get(action="connection.updated")


@pytest.fixture
def leaky_entry(personas):
    """An entry written by mistake with secrets inside (not through secret_fields)."""
    return audit.record(
        personas["operator"],
        "connection.updated",
        object_type="connections.connection",
        object_id="99",
        changes={
            "config": [{"client_secret": "leak-one", "timeout": 5}, {"client_secret": "leak-two", "timeout": 9}],
            "password": ["leak-three", "leak-four"],
        },
    )


def detail(client, entry):
    return client.get(f"/audit/{entry.pk}/")


def test_the_entry_page_shows_before_and_after_with_the_secret_masked(client_for, secret_change):
    response = detail(client_for("admin"), secret_change)
    assert response.status_code == 200
    html = response.content.decode()
    assert OLD_SECRET not in html and NEW_SECRET not in html
    assert 'data-field="credentials"' in html and 'data-testid="audit-masked"' in html
    assert "<del>https://erp.example.com</del>" in html and "<ins>https://erp2.example.com</ins>" in html
    # A structured value (the config) is shown as a line diff.
    assert 'data-testid="audit-line-diff"' in html and "/v2/postings" in html
    assert "admin" in html and "Connection" in html


def test_secrets_written_by_mistake_are_masked_on_every_reading_path(client_for, leaky_entry):
    c = client_for("admin")
    pages = [
        detail(c, leaky_entry).content.decode(),
        c.get("/audit/").content.decode(),
        b"".join(c.get("/audit/export.csv").streaming_content).decode(),
        b"".join(c.get("/audit/export.json").streaming_content).decode(),
    ]
    for text in pages:
        for leak in ("leak-one", "leak-two", "leak-three", "leak-four"):
            assert leak not in text
    exported = json.loads(pages[3])
    (row,) = [r for r in exported if r["id"] == leaky_entry.pk]
    assert row["changes"]["config"][1]["timeout"] == 9  # what is not secret stays readable


def test_an_action_without_field_changes_says_so(client_for, personas):
    entry = audit.record(
        personas["admin"], "exception.retry", object_type="runs.runexception", message="retried from step post"
    )
    html = detail(client_for("admin"), entry).content.decode()
    assert 'data-testid="audit-no-changes"' in html and "retried from step post" in html


def test_the_entry_page_is_for_admins_only(client, client_for, secret_change):
    assert detail(client_for("admin"), secret_change).status_code == 200
    for persona in ("viewer", "analyst", "operator", "approver"):
        assert detail(client_for(persona), secret_change).status_code == 403
    assert detail(client, secret_change).status_code == 302  # to the login page
    assert client_for("admin").get("/audit/999999/").status_code == 404


@pytest.fixture
def log(personas):
    made = [
        audit.record(personas["analyst"], "flow.publish", object_type="flows.flow", object_id="1", message="v3"),
        audit.record(personas["admin"], "user.update_profile", object_type="auth.user", object_id="2"),
        audit.record("system:sweeper", "run.requeue", object_type="runs.run", object_id="3", message="=HYPERLINK(1)"),
    ]
    return made


def read_csv(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_csv_export_of_the_filtered_list_is_audited(client_for, log):
    response = client_for("admin").get("/audit/export.csv?actor=analyst")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = read_csv(response)
    assert [(r["actor"], r["action"], r["message"]) for r in rows] == [("analyst", "flow.publish", "v3")]
    exported = AuditEntry.objects.get(action="audit.exported")
    assert exported.actor_label == "admin" and "CSV" in exported.message and "actor=analyst" in exported.message


def test_a_cell_a_spreadsheet_would_run_is_quoted(client_for, log):
    rows = read_csv(client_for("admin").get("/audit/export.csv?action=run."))
    assert [r["message"] for r in rows] == ["'=HYPERLINK(1)"]


def test_json_export_is_one_array_newest_first(client_for, log):
    response = client_for("admin").get("/audit/export.json")
    assert response["Content-Type"] == "application/json"
    rows = json.loads(b"".join(response.streaming_content))
    # The export is in the log before its first row is written, so it lists itself first.
    assert [r["action"] for r in rows] == ["audit.exported", "run.requeue", "user.update_profile", "flow.publish"]
    assert set(rows[0]) == {"id", "at", "actor", "action", "object_type", "object_id", "object", "changes", "message"}


def test_exports_stream_in_keyset_batches_covering_every_entry_once(client_for, personas, monkeypatch):
    from studio.ui.audit import export

    monkeypatch.setattr(export, "BATCH", 3)
    same_moment = timezone.now()
    for n in range(10):
        entry = audit.record(personas["admin"], f"test.step{n}", object_type="t", object_id=str(n))
        AuditEntry.objects.filter(pk=entry.pk).update(at=same_moment)  # ties broken by id
    c = client_for("admin")
    with CaptureQueriesContext(db) as queries:
        rows = json.loads(b"".join(c.get("/audit/export.json?object_type=t").streaming_content))
    assert [r["action"] for r in rows] == [f"test.step{n}" for n in reversed(range(10))]
    reads = [q["sql"] for q in queries if 'FROM "audit_auditentry"' in q["sql"] and "DISTINCT" not in q["sql"]]
    batches = [sql for sql in reads if "LIMIT 3" in sql]
    assert len(batches) == 4  # 3 + 3 + 3 + 1: never the whole log in one read
    assert all("LIMIT" in sql for sql in reads if "ORDER BY" in sql)


def test_export_refuses_a_bad_filter_naming_it(client_for, log):
    response = client_for("admin").get("/audit/export.csv?since=yesterday")
    assert response.status_code == 400 and b"since" in response.content
    assert not AuditEntry.objects.filter(action="audit.exported").exists()


def test_export_needs_view_audit(client_for, log):
    for persona in ("viewer", "analyst", "operator", "approver"):
        assert client_for(persona).get("/audit/export.csv").status_code == 403
    assert client_for("admin").get("/audit/export.xml").status_code == 404


def test_the_list_links_each_entry_and_offers_the_filtered_export(client_for, log):
    html = client_for("admin").get("/audit/?actor=analyst").content.decode()
    assert f'href="/audit/{log[0].pk}/"' in html
    assert 'href="/audit/export.csv?actor=analyst"' in html and 'href="/audit/export.json?actor=analyst"' in html


# --- append-only -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_no_audit_page_accepts_a_write(client_for, secret_change, method):
    before = AuditEntry.objects.values().get(pk=secret_change.pk)
    c = client_for("admin")
    for url in ("/audit/", f"/audit/{secret_change.pk}/", "/audit/export.csv", "/audit/export.json"):
        response = getattr(c, method)(url, data={"action": "tampered", "message": "tampered"})
        assert response.status_code == 405, (method, url)
    assert AuditEntry.objects.values().get(pk=secret_change.pk) == before
    assert AuditEntry.objects.count() == 2  # created + updated; nothing added or removed


def test_no_admin_registration_and_no_admin_site(client_for, secret_change):
    assert AuditEntry not in admin.site._registry
    assert client_for("admin").get("/admin/audit/auditentry/").status_code == 404


def all_views(resolver=None):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from all_views(pattern)
        elif isinstance(pattern, URLPattern):
            yield pattern


def test_no_api_endpoint_or_page_writes_audit_entries(client_for, secret_change):
    """Every routed view over the audit model allows reads only."""
    over_audit = []
    for pattern in all_views():
        view = getattr(pattern.callback, "view_class", None) or getattr(pattern.callback, "cls", None)
        if view is None:
            continue
        queryset = getattr(view, "queryset", None)
        model = getattr(view, "model", None) or getattr(queryset, "model", None)
        serializer = getattr(getattr(view, "serializer_class", None), "Meta", None)
        if AuditEntry in (model, getattr(serializer, "model", None)) or view.__module__.startswith("studio.ui.audit"):
            over_audit.append(view)
            methods = {m.lower() for m in getattr(view, "http_method_names", [])}
            actions = getattr(pattern.callback, "actions", None) or {}
            assert methods <= {"get", "head", "options"} or set(actions) <= {"get", "head", "options"}, view
    assert len(over_audit) >= 3  # the list, the entry page and the export were found


WRITE = re.compile(r"AuditEntry\b[^\n]*\.(update|delete|bulk_update|bulk_create|update_or_create|get_or_create|save)\(")


def test_only_the_audit_service_writes_entries():
    """Outside integrations/audit/services.py no project code creates, updates or deletes
    an entry (the model's own migrations aside)."""
    offenders = []
    for root in ("integrations", "studio"):
        for path in (REPO / root).rglob("*.py"):
            if "migrations" in path.parts or path == REPO / "integrations/audit/services.py":
                continue
            text = path.read_text()
            if WRITE.search(text) or "AuditEntry.objects.create(" in text:
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def test_reading_masks_secret_names_at_any_depth_but_not_what_only_names_them():
    from integrations.audit.reading import masked_changes

    shown = masked_changes(
        {
            "config": [
                {"auth_type": "none"},
                {"auth_type": "oauth", "token_url": "https://id.example.com/token", "extra": [{"access_token": "t0k"}]},
            ],
            "client_secret": [None, "s3"],
        }
    )
    before, after = shown["config"]
    assert before == {"auth_type": "none"}
    assert after["auth_type"] == "oauth" and after["token_url"] == "https://id.example.com/token"
    assert after["extra"] == [{"access_token": "••••"}]
    assert shown["client_secret"] == [None, "••••"]  # it was set: that much is said


def test_a_huge_structured_change_is_shown_cut_not_diffed(client_for, personas):
    big = {f"line{n}": "x" * 100 for n in range(3000)}  # ~300 kB of JSON
    entry = audit.record(
        personas["admin"], "exception.edit", object_type="runs.runexception", changes={"input": [big, {}]}
    )
    response = detail(client_for("admin"), entry)
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="audit-line-diff"' not in html
    assert "line0" in html and len(html) < 60_000
