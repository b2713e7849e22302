"""Signing in and out, and which paths require a login."""

import pytest


def test_login_form_signs_in_and_lands_on_the_overview(client, personas):
    response = client.post("/login/", {"username": "operator", "password": "pw-operator"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    html = response.content.decode()
    assert "Operator" in html and "Retry, edit, skip, resolve and assign exceptions" in html


def test_login_returns_to_the_page_asked_for(client, personas):
    response = client.post("/login/", {"username": "admin", "password": "pw-admin", "next": "/audit/"})
    assert response["Location"] == "/audit/"


def test_wrong_password_is_reported(client, personas):
    response = client.post("/login/", {"username": "admin", "password": "nope"})
    assert response.status_code == 200
    assert 'data-testid="login-error"' in response.content.decode()


def test_logout_is_a_post_and_ends_the_session(client_for):
    c = client_for("viewer")
    assert c.get("/logout/").status_code == 405  # a link or prefetch cannot sign anyone out
    assert c.post("/logout/")["Location"] == "/login/"
    assert c.get("/flows/")["Location"].startswith("/login/")


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/me/", "/api/v1/schema/", "/sandbox/", "/hooks/x/"])
def test_machine_paths_never_redirect_to_the_login_page(client, db, path):
    response = client.get(path)
    assert response.status_code != 302 or "/login/" not in response.get("Location", "")
