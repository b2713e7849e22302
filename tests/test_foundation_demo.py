"""The demo: users per role, `seed_demo` idempotent, the run banner."""

from io import StringIO

from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from integrations.demo import users


def _snapshot():
    counts = {m._meta.label: m._default_manager.count() for m in apps.get_models() if m._meta.managed}
    users = dict(get_user_model().objects.values_list("username", "password"))
    return counts, users


def test_demo_users_log_in_with_their_role(db, settings):
    settings.SWITCHBOARD_DEMO_PASSWORD = "demo-pass-123"
    users.seed(StringIO())
    for username in ("admin", "analyst", "approver", "operator", "viewer"):
        user = authenticate(username=username, password="demo-pass-123")
        assert user is not None, username
        assert list(user.groups.values_list("name", flat=True)) == [username.capitalize()]
        assert not user.is_staff and not user.is_superuser


def test_seed_demo_twice_changes_nothing(db):
    """Every seeder in SEEDERS, not only the users: the whole demo is idempotent."""
    call_command("seed_demo", stdout=StringIO())
    before = _snapshot()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert _snapshot() == before
    assert "demo user admin (Admin): unchanged" in out.getvalue()


def test_changed_demo_password_is_reset_and_audited(db, settings):
    from integrations.audit.models import AuditEntry

    users.seed(StringIO())
    settings.SWITCHBOARD_DEMO_PASSWORD = "another-pass-456"
    users.seed(StringIO())
    assert authenticate(username="viewer", password="another-pass-456") is not None
    assert AuditEntry.objects.filter(action="user.reset_demo", object_repr="viewer").count() == 1


def test_run_banner_prints_url_logins_and_password(monkeypatch, settings):
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setenv("HOST", "0.0.0.0")  # noqa: S104
    settings.SWITCHBOARD_DEMO_PASSWORD = "pw-for-banner"
    out = StringIO()
    call_command("run_banner", stdout=out)
    text = out.getvalue()
    assert "http://127.0.0.1:8123/" in text and "pw-for-banner" in text
    assert "admin, analyst, approver, operator, viewer" in text


def test_seed_demo_installs_the_gallery_flows_and_history_once(db):
    from integrations.crosswalk.models import CrosswalkLink
    from integrations.events.models import Event
    from integrations.flows.models import Flow
    from integrations.gallery.catalog import TEMPLATES
    from integrations.runs.models import Run

    out = StringIO()
    call_command("seed_demo", stdout=out)
    flows = {f.key: (f.status, f.live_version.number) for f in Flow.objects.all()}
    alternatives = {
        "lead-to-project-regional",
        "lead-to-project-hubspot",
        "invoice-status-back-hubspot",
        "consultant-master-sync-bamboohr",
        "lead-to-project-dynamics",
        "time-to-billing-dynamics",
    }
    assert flows == {t.key: ("paused" if t.key in alternatives else "active", 1) for t in TEMPLATES}
    assert sum(1 for status, _number in flows.values() if status == "active") == 5
    # won opportunities posted to lead to project: runs queued for the worker, searchable by opportunity id
    events = list(Event.objects.filter(source="salesforce", type="opportunity.won").order_by("id"))
    assert len(events) == 9 and "9 won opportunities posted" in out.getvalue()
    runs = Run.objects.filter(flow_version__flow__key="lead-to-project")
    assert runs.count() == 9 and {r.business_key for r in runs} == {e.payload["Id"] for e in events}
    assert sum(1 for e in events if e.payload.get("Amount") == 0) == 1
    assert sum(1 for e in events if "ChangeEventHeader" in e.payload) == 1
    for system in ("salesforce", "kantata", "netsuite"):  # the demo firm's 56 projects, one identity each
        assert CrosswalkLink.objects.filter(object="project", system=system).count() == 56
    assert "comparisons queued for the worker" in out.getvalue()
    call_command("seed_demo", stdout=StringIO())
    assert Event.objects.count() == 9 and Run.objects.count() == 9
