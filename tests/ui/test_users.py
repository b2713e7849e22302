"""The users page (Admin): invite with a one-time set-password link, roles, deactivate and
reactivate, API tokens shown exactly once, listed by prefix, revocable; every action audited
with the admin as actor and no secret in the audit log, the pages or the logs."""

import logging

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from integrations.accounts import tokens
from integrations.audit.models import AuditEntry

ME = "/api/v1/me/"


def _audit_text() -> str:
    return " ".join(
        f"{e.action} {e.object_repr} {e.changes} {e.message} {e.actor_label}" for e in AuditEntry.objects.all()
    )


def _invite(admin, **over):
    data = {"username": "dana", "email": "dana@example.com", "first_name": "Dana", "roles": ["Analyst"], **over}
    return admin.post(reverse("users:invite"), data)


@pytest.mark.django_db
def test_admin_lists_users_with_roles_and_status(client_for, personas):
    page = client_for("admin").get(reverse("users:list")).content.decode()
    assert 'data-testid="user-row-operator"' in page and ">Operator</span>" in page
    assert 'data-testid="user-status-viewer"' in page and "Active" in page
    assert 'data-testid="nav-users"' in page  # the home page's "Manage users and roles" now has a page


@pytest.mark.django_db
def test_invite_shows_a_one_time_link_that_sets_the_password_once(client_for, personas, caplog):
    admin = client_for("admin")
    with caplog.at_level(logging.DEBUG):
        response = _invite(admin)
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    link = response.context["link"]
    assert link in response.content.decode() and "Shown only this once" in response.content.decode()
    dana = User.objects.get(username="dana")
    assert [g.name for g in dana.groups.all()] == ["Analyst"] and not dana.has_usable_password()
    assert 'data-testid="user-status-dana">Invited' in admin.get(reverse("users:list")).content.decode()
    entry = AuditEntry.objects.get(action="user.invite")
    assert entry.actor == personas["admin"] and entry.changes["roles"] == [None, ["Analyst"]]
    token_part = link.rstrip("/").rsplit("/", 1)[-1]
    assert token_part not in _audit_text() and token_part not in caplog.text

    visitor = Client()
    form_url = visitor.get(link)["Location"]  # Django moves the token out of the URL
    done = visitor.post(form_url, {"new_password1": "correct-horse-9", "new_password2": "correct-horse-9"})
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")
    assert Client().login(username="dana", password="correct-horse-9")
    again = Client().get(link, follow=True).content.decode()
    assert 'data-testid="set-password-invalid"' in again  # used once, then dead


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("over", "field", "text"),
    [
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"email": ""}, "email", "required"),
        ({"username": "viewer"}, "username", "already exists"),
        ({"username": "has space"}, "username", "Enter a valid username"),
        ({"username": "invite"}, "username", "name of a page"),
        ({"roles": []}, "roles", "at least one role"),
        ({"roles": ["Superuser"]}, "roles", "not one of the available choices"),
    ],
)
def test_invalid_invite_shows_the_error_at_the_field(client_for, personas, over, field, text):
    response = _invite(client_for("admin"), **over)
    assert response.status_code == 400
    page = response.content.decode()
    assert f'data-testid="error-{field}"' in page and text in page
    assert not User.objects.filter(username=over.get("username", "dana"), email="dana@example.com").exists()
    assert not AuditEntry.objects.filter(action="user.invite").exists()


@pytest.mark.django_db
def test_roles_change_is_audited_and_takes_effect(client_for, personas):
    admin = client_for("admin")
    response = admin.post(reverse("users:roles", args=["viewer"]), {"roles": ["Operator", "Approver"]})
    assert response.status_code == 302
    assert sorted(g.name for g in personas["viewer"].groups.all()) == ["Approver", "Operator"]
    entry = AuditEntry.objects.get(action="user.roles")
    assert entry.actor == personas["admin"] and entry.changes == {"roles": ["Viewer", "Approver, Operator"]}
    viewer = client_for("viewer")
    assert viewer.post(reverse("connections:pause", args=["nope"])).status_code == 404  # allowed now, no such name


@pytest.mark.django_db
def test_admin_cannot_lock_everyone_out(client_for, personas):
    admin = client_for("admin")
    response = admin.post(reverse("users:roles", args=["admin"]), {"roles": ["Viewer"]})
    assert response.status_code == 400 and "cannot take the Admin role from yourself" in response.content.decode()
    assert personas["admin"].groups.filter(name="Admin").exists()
    admin.post(reverse("users:active", args=["admin"]), {"active": "0"})
    personas["admin"].refresh_from_db()
    assert personas["admin"].is_active
    assert not AuditEntry.objects.filter(action__startswith="user.").exists()


@pytest.mark.django_db
def test_deactivated_user_cannot_sign_in_or_use_a_token_until_reactivated(client_for, personas):
    admin, signed_in = client_for("admin"), client_for("operator")
    key = Token.objects.create(user=personas["operator"]).key
    assert admin.post(reverse("users:active", args=["operator"]), {"active": "0"}).status_code == 302
    assert signed_in.get(reverse("home"))["Location"].startswith(reverse("login"))  # their session ends too
    assert not Client().login(username="operator", password="pw-operator")
    assert Client().get(ME, HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    page = admin.get(reverse("users:detail", args=["operator"])).content.decode()
    assert 'data-testid="user-status">Deactivated' in page and 'data-testid="user-reactivate"' in page
    admin.post(reverse("users:active", args=["operator"]), {"active": "1"})
    assert Client().login(username="operator", password="pw-operator")
    assert Client().get(ME, HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    actions = list(AuditEntry.objects.order_by("id").values_list("action", "actor__username"))
    assert actions == [("user.deactivate", "admin"), ("user.reactivate", "admin")]


@pytest.mark.django_db
def test_token_is_shown_once_listed_by_prefix_tracked_and_revocable(client_for, personas, caplog):
    admin = client_for("admin")
    tokens.forget_uses()
    with caplog.at_level(logging.DEBUG):
        response = admin.post(reverse("users:token_create", args=["analyst"]))
    assert response.status_code == 201 and "no-store" in response["Cache-Control"]
    key = response.context["token_key"]
    assert key == Token.objects.get(user=personas["analyst"]).key and key in response.content.decode()
    assert key not in caplog.text and key not in _audit_text()
    assert f"API token {key[:8]}… created" in _audit_text()

    detail = admin.get(reverse("users:detail", args=["analyst"])).content.decode()
    listing = admin.get(reverse("users:list")).content.decode()
    for page in (detail, listing):
        assert key not in page and f"{key[:8]}…" in page
    assert 'data-testid="token-last-used"><span class="muted">never' in detail

    assert Client().get(ME, HTTP_AUTHORIZATION=f"Token {key}").json()["username"] == "analyst"
    detail = admin.get(reverse("users:detail", args=["analyst"])).content.decode()
    assert 'data-testid="token-last-used"><time' in detail and "just now" in detail

    assert admin.post(reverse("users:token_revoke", args=["analyst"])).status_code == 302
    assert Client().get(ME, HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    assert 'data-testid="token-none"' in admin.get(reverse("users:detail", args=["analyst"])).content.decode()
    assert [e.actor_label for e in AuditEntry.objects.filter(action__startswith="token.")] == ["admin", "admin"]


@pytest.mark.django_db
def test_a_new_token_replaces_the_old_one(client_for, personas):
    admin = client_for("admin")
    first = admin.post(reverse("users:token_create", args=["operator"])).context["token_key"]
    second = admin.post(reverse("users:token_create", args=["operator"])).context["token_key"]
    assert first != second
    assert Client().get(ME, HTTP_AUTHORIZATION=f"Token {first}").status_code == 401
    assert Client().get(ME, HTTP_AUTHORIZATION=f"Token {second}").status_code == 200
    assert f"replaces {first[:8]}…" in AuditEntry.objects.filter(action="token.create").first().message


@pytest.mark.django_db
def test_only_admins_reach_token_and_link_actions(client_for, personas):
    for persona in ("viewer", "analyst", "operator", "approver", "outsider"):
        who = client_for(persona)
        assert who.post(reverse("users:token_create", args=["viewer"])).status_code == 403
        assert who.post(reverse("users:password_link", args=["viewer"])).status_code == 403
    assert not Token.objects.exists() and not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_the_link_uses_the_public_address_when_set(client_for, personas, settings):
    settings.SWITCHBOARD_PUBLIC_URL = "https://switchboard.example.com/"
    link = client_for("admin").post(reverse("users:password_link", args=["viewer"])).context["link"]
    assert link.startswith("https://switchboard.example.com/set-password/")


@pytest.mark.django_db
def test_a_new_set_password_link_for_an_existing_user(client_for, personas):
    response = client_for("admin").post(reverse("users:password_link", args=["viewer"]))
    assert response.status_code == 201
    visitor = Client()
    form_url = visitor.get(response.context["link"])["Location"]
    visitor.post(form_url, {"new_password1": "another-horse-7", "new_password2": "another-horse-7"})
    assert Client().login(username="viewer", password="another-horse-7")
    assert AuditEntry.objects.get(action="user.password_link").actor == personas["admin"]


@pytest.mark.django_db
def test_the_invoke_gateways_token_check_also_notes_last_use(personas):
    from studio.api import token_grants

    key = Token.objects.create(user=personas["operator"]).key
    tokens.forget_uses()
    token_grants.forget()
    assert tokens.token_of(personas["operator"]).last_used_at is None
    assert token_grants.token_allows(key, "replay_events")
    assert tokens.token_of(personas["operator"]).last_used_at is not None
