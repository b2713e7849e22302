"""What the pages say and link, as a user reads them: errors shown at the field, the header
refreshed after a test, readable times, audit objects by name, labels, favicon, API docs."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from integrations.audit import services as audit
from integrations.connections.models import Connection, MaintenanceWindow
from integrations.connections.services import create_connection, delete_connection

HTMX = {"HTTP_HX_REQUEST": "true"}


def make(name="crm", base_url="https://api.example.com"):
    return create_connection(
        "system:test", name=name, kind="generic_rest", base_url=base_url, config={"auth_type": "none"}
    )


@pytest.mark.django_db
def test_invalid_window_comes_back_as_a_swappable_form_with_the_error_at_the_field(client_for):
    make()
    bad = {"kind": "one_off", "timezone": "UTC", "starts_at": "2026-01-02T10:00", "ends_at": "2026-01-01T10:00"}
    response = client_for("analyst").post(reverse("connections:window_add", args=["crm"]), bad, **HTMX)
    # 422 is swapped by htmx (base.html's htmx-config); a 400 never reached the screen
    assert response.status_code == 422
    page = response.content.decode()
    assert page.lstrip().startswith('<section class="card" id="conn-windows"')
    assert re.search(r'data-testid="window-ends_at">.*?data-testid="window-error-ends_at"', page, re.S)
    assert not MaintenanceWindow.objects.exists()


def test_base_layout_lets_htmx_swap_422():
    from pathlib import Path

    from django.conf import settings

    base = (Path(settings.BASE_DIR) / "templates" / "base.html").read_text()
    assert '{"code": "422", "swap": true}' in base


@pytest.mark.django_db
def test_test_connection_refreshes_the_header_line(client_for, settings):
    settings.SWITCHBOARD_SANDBOX_ORIGIN = "http://127.0.0.1:1"
    make("internal", base_url="https://10.1.2.3/api")
    admin = client_for("admin")
    assert "never tested" in admin.get(reverse("connections:detail", args=["internal"])).content.decode()
    page = admin.post(reverse("connections:test", args=["internal"]), **HTMX).content.decode()
    lead = re.search(r'<p class="lead" id="conn-head-lead" hx-swap-oob="true">(.*?)</p>', page, re.S)
    assert lead, "the header line is swapped out of band"
    assert "never tested" not in lead.group(1) and "private or local address" in lead.group(1)


@pytest.mark.django_db
def test_times_say_just_now_with_the_exact_time_on_hover(client_for):
    conn = make()
    Connection.objects.filter(pk=conn.pk).update(last_check_at=timezone.now(), last_check_ok=True)
    page = client_for("viewer").get(reverse("connections:list")).content.decode()
    assert "0\xa0minutes" not in page and "0 minutes" not in page
    assert re.search(r'<time datetime="[^"]+" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC">just now</time>', page)
    Connection.objects.filter(pk=conn.pk).update(last_check_at=timezone.now() - timedelta(seconds=40))
    assert "40 seconds ago" in client_for("viewer").get(reverse("connections:list")).content.decode()


@pytest.mark.django_db
def test_audit_log_names_objects_and_links_them(client_for, personas):
    crm = make()
    gone = make("old")
    delete_connection("system:test", gone)
    audit.record(personas["admin"], "user.roles", personas["viewer"], changes={"roles": ["Viewer", "Operator"]})
    page = client_for("admin").get(reverse("audit:list")).content.decode()
    assert "connections.connection:" not in re.sub(r'data-object="[^"]*"', "", page)
    assert f'<span class="muted">Connection</span>\n    <a href="/connections/{crm.name}/">crm</a>' in page
    assert '<a href="/users/viewer/">viewer</a>' in page
    assert "(deleted)" in page  # the removed connection keeps its name, without a dead link
    assert "auth.user:" not in re.sub(r'data-object="[^"]*"', "", page)


@pytest.mark.django_db
def test_audit_object_type_filter_offers_readable_names(client_for, personas):
    make()
    page = client_for("admin").get(reverse("audit:list")).content.decode()
    assert '<option value="connections.connection">Connection</option>' in page
    filtered = client_for("admin").get(reverse("audit:list") + "?object_type=connections.connection")
    assert filtered.content.decode().count('data-testid="audit-row"') == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field", "label"), [("since=2026-02-30", "since", "From"), ("until=13/45/2026", "until", "To")]
)
def test_invalid_audit_date_answers_400_naming_the_field(client_for, personas, query, field, label):
    response = client_for("admin").get(f"{reverse('audit:list')}?{query}")
    assert response.status_code == 400
    page = response.content.decode()
    assert f'data-testid="error-{field}"' in page and f"{label}: Enter a valid date." in page


@pytest.mark.django_db
def test_field_labels_spell_acronyms(client_for):
    page = client_for("analyst").get(reverse("connections:new") + "?kind=salesforce").content.decode()
    assert "Token URL" in page and "API version" in page
    assert "Token url" not in page and "Api version" not in page


@pytest.mark.django_db
def test_favicon_is_served(client):
    response = client.get("/favicon.ico")  # anonymous: browsers ask before anyone signs in
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
    assert 'rel="icon" href="/static/favicon.svg"' in client.get(reverse("login")).content.decode()


@pytest.mark.django_db
def test_every_page_links_the_api_docs(client_for, client):
    page = client_for("viewer").get(reverse("home")).content.decode()
    assert f'href="{reverse("api-docs")}"' in page and f'href="{reverse("api-schema")}"' in page
    assert client_for("viewer").get(reverse("api-docs")).status_code == 200


@pytest.mark.django_db
def test_small_screens_get_a_menu_button_for_the_navigation(client_for):
    page = client_for("viewer").get(reverse("home")).content.decode()
    assert re.search(
        r'<button type="button" class="nav-toggle"[^>]*aria-controls="site-nav" aria-expanded="false"', page
    )
    assert '<nav class="nav" id="site-nav"' in page


@pytest.mark.django_db
def test_wide_tables_scroll_in_their_own_box(client_for, personas):
    make()
    for url in (reverse("connections:list"), reverse("audit:list"), reverse("users:list")):
        page = client_for("admin").get(url).content.decode()
        assert re.search(r'<div class="table-scroll" role="region" aria-label="[^"]+" tabindex="0">\s*<table', page), (
            url
        )
    assert User.objects.count() == 6
