"""No stored secret of any connection kind appears on any connection page or API answer."""

import io

import pytest
from django.urls import reverse

from integrations.audit.models import AuditEntry
from integrations.connections import demo
from integrations.connections.models import Connection


@pytest.mark.django_db
def test_no_credential_value_on_any_page_or_api_answer(client_for, settings, monkeypatch):
    settings.SWITCHBOARD_SANDBOX_ORIGIN = "http://127.0.0.1:8766"
    monkeypatch.setattr(demo, "seed_sandbox_data", lambda vendor, stdout: None)
    demo.seed(io.StringIO())
    connections = list(Connection.objects.all())
    assert connections
    secrets = {v for c in connections for v in c.get_credentials().values() if isinstance(v, str) and len(v) >= 6}
    assert secrets
    admin = client_for("admin")
    urls = [reverse("connections:list"), "/api/v1/connections/", "/api/v1/connectors/"]
    for c in connections:
        urls += [
            reverse("connections:detail", args=[c.name]),
            reverse("connections:edit", args=[c.name]),
            reverse("connections:delete", args=[c.name]),
            f"/api/v1/connections/{c.name}/",
        ]
    for url in urls:
        response = admin.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        leaked = [s for s in secrets if s in body]
        assert not leaked, f"{url} shows a stored secret"
    audit = " ".join(str(e.changes) + e.message for e in AuditEntry.objects.all())
    assert not [s for s in secrets if s in audit]
