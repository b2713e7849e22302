"""The audit log page: filters in the querystring, keyset pages, bad filters named."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.audit import services as audit
from integrations.audit.models import AuditEntry

URL = "/audit/"


@pytest.fixture
def entries(personas):
    admin, analyst = personas["admin"], personas["analyst"]
    made = [
        audit.record(
            analyst,
            "connection.update",
            object_type="connections.connection",
            object_id="1",
            before={"base_url": "http://a", "password": "old"},
            after={"base_url": "http://b", "password": "new"},
            secret_fields=("password",),
        ),
        audit.record(admin, "user.update_profile", object_type="auth.user", object_id="2", message="renamed"),
        audit.record("system:sweeper", "run.requeue", object_type="runs.run", object_id="3"),
    ]
    old = audit.record(analyst, "flow.publish", object_type="flows.flow", object_id="4")
    AuditEntry.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=10))
    return made


def rows(response) -> int:
    return response.content.decode().count('data-testid="audit-row"')


def test_lists_entries_newest_first_with_redacted_secrets(client_for, entries):
    response = client_for("admin").get(URL)
    html = response.content.decode()
    assert rows(response) == 4
    assert html.index("run.requeue") < html.index("user.update_profile") < html.index("connection.update")
    assert "<ins>http://b</ins>" in html and "<del>••••</del>" in html
    assert "<del>old</del>" not in html and "<ins>new</ins>" not in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("actor=analyst", 2),
        ("actor=ANALYST&action=connection", 1),
        ("action=run.", 1),
        ("object_type=auth.user", 1),
        ("actor=system:sweeper", 1),
        ("actor=nobody", 0),
    ],
)
def test_filters_narrow_the_table(client_for, entries, query, expected):
    assert rows(client_for("admin").get(f"{URL}?{query}")) == expected


def test_date_range_filter(client_for, entries):
    today = timezone.localdate()
    c = client_for("admin")
    assert rows(c.get(f"{URL}?since={today}")) == 3
    assert rows(c.get(f"{URL}?until={today - timedelta(days=5)}")) == 1


def test_bad_filters_are_named_not_500(client_for, entries):
    response = client_for("admin").get(f"{URL}?since=yesterday&until=2020-01-01")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="error-since"' in html and rows(response) == 0

    response = client_for("admin").get(f"{URL}?since=2026-05-02&until=2026-05-01")
    assert 'data-testid="error-until"' in response.content.decode()


def test_keyset_pages_cover_every_entry_once(client_for, personas, monkeypatch):
    from studio.ui.audit import views

    monkeypatch.setattr(views, "PAGE_SIZE", 4)
    same_moment = timezone.now()
    for n in range(10):
        entry = audit.record(personas["admin"], f"test.step{n}", object_type="t", object_id=str(n))
        AuditEntry.objects.filter(pk=entry.pk).update(at=same_moment)  # ties broken by id
    c, seen, url = client_for("admin"), [], f"{URL}?object_type=t"
    while url:
        response = c.get(url)
        html = response.content.decode()
        seen += re.findall(r"test\.step\d+", html)
        url = (
            response.context["page"].next_cursor
            and f"{URL}?object_type=t&cursor={response.context['page'].next_cursor}"
        )
    assert seen == [f"test.step{n}" for n in reversed(range(10))]  # newest first, each once


def test_htmx_next_page_returns_rows_only(client_for, entries, monkeypatch):
    from studio.ui.audit import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    c = client_for("admin")
    cursor = c.get(URL).context["page"].next_cursor
    response = c.get(f"{URL}?cursor={cursor}", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html and rows(response) == 2


def test_garbage_cursor_starts_from_the_top(client_for, entries):
    assert rows(client_for("admin").get(f"{URL}?cursor=%%%not-a-cursor")) == 4
