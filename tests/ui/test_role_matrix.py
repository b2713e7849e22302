"""Who may open which page. One row per UI URL; every persona is checked against every row.

When you add a page, add a row to PAGES (url name, kwargs, roles that get `ok`). A page that
needs an object takes a `setup` callable returning its kwargs. `test_every_page_has_a_row`
fails for a new parameterless UI URL without a row, so none is forgotten. POST-only actions
go in ACTIONS (allowed roles are redirected, others get 403)."""

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ROLES = frozenset({"viewer", "analyst", "approver", "operator", "admin"})
SIGNED_IN = ROLES | {"outsider"}
# auth pages (tests/ui/test_auth.py, test_users.py) and the favicon (tests/ui/test_pages.py)
NOT_UI = {"login", "logout", "password_reset_complete", "favicon"}


@dataclass(frozen=True)
class Page:
    name: str
    allowed: frozenset
    kwargs: dict = field(default_factory=dict)
    ok: int = 200


PAGES = [
    Page("home", SIGNED_IN),
    Page("flows:list", ROLES),
    Page("flows:new", frozenset({"analyst", "admin"})),
    Page("flows:import-list", frozenset({"analyst", "admin"})),
    Page("gallery:list", ROLES),
    Page("runs:list", ROLES),
    Page("exceptions:list", ROLES),
    Page("approvals:inbox", ROLES),
    Page("approvals:count", ROLES),
    Page("connections:list", ROLES),
    Page("connections:new", frozenset({"analyst", "admin"})),
    Page("canonical:list", ROLES),
    Page("crosswalk:index", ROLES),
    Page("crosswalk:object", ROLES, {"object": "client"}),
    Page("crosswalk:ownership", ROLES),
    Page("crosswalk:review", ROLES),
    Page("crosswalk:conflicts", ROLES),
    Page("reconciliation:home", ROLES),
    Page("reconciliation:start", frozenset({"operator", "admin"}), ok=405),  # POST only
    Page("dashboards:home", ROLES),
    Page("replay:home", ROLES),
    Page("replay:progress", ROLES, ok=400),  # needs ?first=&last= run ids
    Page("replay:preview", frozenset({"operator", "admin"}), ok=405),  # POST only
    Page("replay:run", frozenset({"operator", "admin"}), ok=405),  # POST only
    Page("audit:list", frozenset({"admin"})),
    Page("users:list", frozenset({"admin"})),
    Page("users:invite", frozenset({"admin"})),
    Page("users:detail", frozenset({"admin"}), {"username": "viewer"}),
]
PERSONAS = sorted(SIGNED_IN)


def _open_circuit() -> dict:
    from datetime import timedelta

    from django.utils import timezone

    from integrations.connections.services import create_connection

    connection = create_connection(
        "system:test", name="crm", kind="generic_rest", base_url="https://api.example.com", config={}
    )
    connection.circuit_open_until = timezone.now() + timedelta(minutes=5)
    connection.save(update_fields=["circuit_open_until"])
    return {"name": connection.name}


@dataclass(frozen=True)
class Action:
    """A POST-only URL: allowed roles are redirected back (302), others get 403."""

    name: str
    allowed: frozenset
    setup: object  # () -> kwargs of the URL, creating what it acts on


def _connection() -> dict:
    from integrations.connections.services import create_connection

    create_connection("system:test", name="crm", kind="generic_rest", base_url="https://api.example.com", config={})
    return {"name": "crm"}


ACTIONS = [
    Action("connections:close_circuit", frozenset({"analyst", "admin"}), _open_circuit),
    Action("connections:pause", frozenset({"operator", "admin"}), _connection),
    Action("gallery:install", frozenset({"analyst", "admin"}), lambda: {"template": "time-to-billing"}),
    Action("users:roles", frozenset({"admin"}), lambda: {"username": "viewer"}),
    Action("users:active", frozenset({"admin"}), lambda: {"username": "viewer"}),
    Action("users:token_revoke", frozenset({"admin"}), lambda: {"username": "viewer"}),
]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
@pytest.mark.parametrize("persona", PERSONAS)
def test_persona_gets_what_the_role_allows(client_for, persona, page):
    response = client_for(persona).get(reverse(page.name, kwargs=page.kwargs))
    expected = page.ok if persona in page.allowed else 403
    assert response.status_code == expected, f"{persona} on {page.name}"
    if expected == 403:
        assert b"You can\xe2\x80\x99t open this page" in response.content


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_anonymous_is_sent_to_login(client, db, page):
    url = reverse(page.name, kwargs=page.kwargs)
    response = client.get(url)
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == reverse("login")
    assert url in target.query


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.name)
@pytest.mark.parametrize("persona", PERSONAS)
def test_persona_may_post_what_the_role_allows(client_for, persona, action):
    response = client_for(persona).post(reverse(action.name, kwargs=action.setup()))
    assert response.status_code == (302 if persona in action.allowed else 403), f"{persona} on {action.name}"


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.name)
def test_anonymous_post_is_sent_to_login(client, db, action):
    response = client.post(reverse(action.name, kwargs=action.setup()))
    assert response.status_code == 302 and urlsplit(response["Location"]).path == reverse("login")


def _ui_url_names(resolver=None, namespace="", captured=False):
    """Names of the UI URLs that take no arguments (others need a row with kwargs anyway).
    A pattern included under a prefix that captures one (`<slug:key>/test/`) takes it too."""
    resolver = resolver or get_resolver("studio.ui.urls")
    for entry in resolver.url_patterns:
        takes = captured or bool(entry.pattern.regex.groups)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _ui_url_names(entry, inner, takes)
        elif isinstance(entry, URLPattern) and entry.name and not takes:
            yield namespace + entry.name


def test_every_page_has_a_row():
    covered = {p.name for p in PAGES}
    missing = sorted(set(_ui_url_names()) - covered - NOT_UI)
    assert not missing, f"add rows to PAGES in {__file__} for: {missing}"


def test_nav_shows_only_sections_the_role_may_open(client_for):
    admin = client_for("admin").get(reverse("home")).content.decode()
    viewer = client_for("viewer").get(reverse("home")).content.decode()
    outsider = client_for("outsider").get(reverse("home")).content.decode()
    assert 'data-testid="nav-audit"' in admin
    assert 'data-testid="nav-audit"' not in viewer
    assert 'data-testid="nav-flows"' in viewer
    assert 'data-testid="nav-flows"' not in outsider
    assert "You have no role yet" in outsider
