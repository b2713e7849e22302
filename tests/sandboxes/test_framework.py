"""The sandbox framework on a tiny test vendor: auth hook, faults, throttling, request
log, drop-after-commit, reset and the admin-only control API."""

import json
import time

import httpx
import pytest
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from integrations.sandboxes import admin_api, framework_records
from integrations.sandboxes.credentials import admin_token, sandbox_credentials
from integrations.sandboxes.framework import VendorHooks, remember, remembered, replay, sandbox_endpoint
from integrations.sandboxes.framework_webhooks import emit_webhook
from integrations.sandboxes.models import SandboxRecord, SandboxRequest
from studio.health import healthz

VENDOR = "testvendor"


class Hooks(VendorHooks):
    vendor = VENDOR

    def error_response(self, status, message, code=None):
        return JsonResponse({"errors": [{"type": "system", "message": message}]}, status=status)

    def authenticate(self, request):
        ok = request.headers.get("Authorization") == f"Bearer {sandbox_credentials(VENDOR)['access_token']}"
        return None if ok else self.error_response(401, "Invalid token")


HOOKS = Hooks()


@sandbox_endpoint(HOOKS)
def things(request):
    if request.method == "POST":
        body = json.loads(request.body)
        request.sandbox_external_id = body.get("ref", "")
        rid = str(framework_records.next_number(VENDOR, "thing"))
        framework_records.create(VENDOR, "thing", rid, body, external_id=body.get("ref"))
        return JsonResponse({"id": rid}, status=201)
    return JsonResponse({"items": [r.data for r in framework_records.records(VENDOR, "thing")]})


RECEIVED = []


@csrf_exempt
@login_not_required
def receiver(request):
    RECEIVED.append((dict(request.headers), request.body))
    return JsonResponse({}, status=202)


@sandbox_endpoint(HOOKS)
def keyed(request):
    key = request.headers.get("Idempotency-Key", "")
    earlier = remembered(VENDOR, key)
    if earlier is not None:
        return replay(earlier)
    rid = str(framework_records.next_number(VENDOR, "thing"))
    framework_records.create(VENDOR, "thing", rid, json.loads(request.body))
    response = JsonResponse({"id": rid}, status=201)
    response["Location"] = f"/sandbox/testvendor/things/{rid}"
    remember(VENDOR, key, request, response)
    emit_webhook(VENDOR, {"event": "thing.created", "id": rid}, {"X-Test-Signature": "sig"})
    return response


urlpatterns = [
    path("sandbox/testvendor/things", things),
    path("sandbox/testvendor/keyed", keyed),
    path("hooks/receiver", receiver),
    path("sandbox/testvendor/_admin/", include(admin_api.admin_urls()), {"vendor": VENDOR}),
    # Error pages render the studio's frame, which links home, the API docs and /healthz.
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("studio.api.urls")),
    path("", include("studio.ui.urls")),
]


@pytest.fixture(autouse=True)
def test_urls(settings):
    settings.ROOT_URLCONF = __name__
    settings.SWITCHBOARD_SANDBOXES_ENABLED = True


def auth():
    return {"HTTP_AUTHORIZATION": f"Bearer {sandbox_credentials(VENDOR)['access_token']}"}


def admin():
    return {"HTTP_X_SANDBOX_ADMIN_TOKEN": admin_token()}


def post_thing(client, ref="A-1", **extra):
    return client.post(
        "/sandbox/testvendor/things",
        json.dumps({"ref": ref, "name": "Northwind"}),
        content_type="application/json",
        **{**auth(), **extra},
    )


def inject(client, **fault):
    return client.post(
        "/sandbox/testvendor/_admin/faults", json.dumps(fault), content_type="application/json", **admin()
    )


@pytest.mark.django_db
def test_auth_is_checked_the_vendor_way(client):
    response = client.get("/sandbox/testvendor/things")
    assert response.status_code == 401
    assert response.json() == {"errors": [{"type": "system", "message": "Invalid token"}]}
    assert client.get("/sandbox/testvendor/things", **auth()).status_code == 200


@pytest.mark.django_db
def test_writes_are_logged_with_idempotency_key_and_external_id(client):
    assert post_thing(client, HTTP_IDEMPOTENCY_KEY="key-1").status_code == 201
    client.get("/sandbox/testvendor/things", **auth())  # reads are not logged
    log = client.get("/sandbox/testvendor/_admin/requests", **admin()).json()
    assert log["count"] == 1
    entry = log["requests"][0]
    assert (entry["method"], entry["idempotency_key"], entry["external_id"], entry["status"]) == (
        "POST",
        "key-1",
        "A-1",
        201,
    )
    assert "Northwind" in entry["body"]


@pytest.mark.django_db
def test_status_fault_answers_with_vendor_error_body_for_n_requests(client):
    assert inject(client, kind="status", status_code=503, count=2, message="Down for a moment").status_code == 201
    for _ in range(2):
        response = post_thing(client)
        assert response.status_code == 503
        assert response.json()["errors"][0]["message"] == "Down for a moment"
    assert SandboxRecord.objects.filter(vendor=VENDOR).count() == 0  # the handler never ran
    assert post_thing(client).status_code == 201


@pytest.mark.django_db
def test_throttle_and_maintenance_faults_carry_retry_after(client):
    inject(client, kind="throttle", retry_after=7)
    inject(client, kind="maintenance", retry_after=60)
    first, second = post_thing(client), post_thing(client)
    assert (first.status_code, first["Retry-After"]) == (429, "7")
    assert (second.status_code, second["Retry-After"]) == (503, "60")


@pytest.mark.django_db
def test_writes_only_fault_lets_reads_through(client):
    inject(client, kind="status", status_code=500, writes_only=True)
    assert client.get("/sandbox/testvendor/things", **auth()).status_code == 200
    assert post_thing(client).status_code == 500


@pytest.mark.django_db
def test_configured_rate_limit_throttles_with_vendor_response(client):
    response = client.post(
        "/sandbox/testvendor/_admin/settings",
        json.dumps({"rate_limit_per_window": 2, "window_seconds": 60}),
        content_type="application/json",
        **admin(),
    )
    assert response.json()["rate_limit_per_window"] == 2
    statuses = [client.get("/sandbox/testvendor/things", **auth()).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


@pytest.mark.django_db(transaction=True)
def test_drop_after_commit_commits_then_closes_without_answer(live_server, settings, client):
    inject(client, kind="drop_after_commit")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(
            f"{live_server.url}/sandbox/testvendor/things",
            json={"ref": "D-1"},
            headers={"Authorization": f"Bearer {sandbox_credentials(VENDOR)['access_token']}"},
            timeout=5,
        )
    assert SandboxRecord.objects.filter(vendor=VENDOR, external_id="D-1").count() == 1
    assert SandboxRequest.objects.get(vendor=VENDOR).fault == "drop_after_commit"


@pytest.mark.django_db
def test_bad_fault_is_a_400_naming_the_field(client):
    response = inject(client, kind="explode")
    assert response.status_code == 400 and response.json()["field"] == "kind"
    response = inject(client, kind="status")
    assert response.status_code == 400 and response.json()["field"] == "status_code"
    response = inject(client, kind="delay", delay_seconds="soon")
    assert response.status_code == 400 and response.json()["field"] == "delay_seconds"


@pytest.mark.django_db
def test_reset_wipes_state_and_reseeds(client, monkeypatch):
    calls = []

    def seed(size):
        calls.append(size)
        framework_records.create(VENDOR, "thing", "1", {"seeded": True})
        return {"thing": 1}

    monkeypatch.setattr(admin_api, "seeder_for", lambda vendor: seed)
    post_thing(client, ref="X")
    inject(client, kind="status", status_code=500, count=5)
    response = client.post(
        "/sandbox/testvendor/_admin/reset", json.dumps({"size": "test"}), content_type="application/json", **admin()
    )
    assert response.status_code == 200 and response.json()["seeded"] == {"thing": 1}
    assert calls == ["test"]
    assert list(SandboxRecord.objects.filter(vendor=VENDOR).values_list("data", flat=True)) == [{"seeded": True}]
    assert client.get("/sandbox/testvendor/_admin/faults", **admin()).json()["faults"] == []
    assert client.get("/sandbox/testvendor/_admin/requests", **admin()).json()["count"] == 0


@pytest.mark.django_db
def test_control_api_is_admin_only(client, client_for, personas):
    url = "/sandbox/testvendor/_admin/requests"
    assert client.get(url).status_code == 403
    assert client.get(url, HTTP_X_SANDBOX_ADMIN_TOKEN="wrong").status_code == 403
    assert client_for("analyst").get(url).status_code == 403
    assert client_for("operator").get(url).status_code == 403
    assert client_for("admin").get(url).status_code == 200


@pytest.mark.django_db
def test_everything_is_404_when_sandboxes_are_disabled(client, settings):
    settings.SWITCHBOARD_SANDBOXES_ENABLED = False
    assert client.get("/sandbox/testvendor/things", **auth()).status_code == 404
    assert client.get("/sandbox/testvendor/_admin/requests", **admin()).status_code == 404


def test_credentials_are_deterministic_and_derived_from_the_secret_key(settings):
    first = sandbox_credentials("hubspot")
    assert first == sandbox_credentials("hubspot") and first != sandbox_credentials("kantata")
    settings.SECRET_KEY = "another-install"
    assert sandbox_credentials("hubspot")["client_secret"] != first["client_secret"]


@pytest.mark.django_db(transaction=True)
def test_idempotency_replays_the_first_answer_and_webhook_follows_commit(live_server, settings, client):
    settings.SWITCHBOARD_SANDBOX_ORIGIN = live_server.url
    RECEIVED.clear()
    response = client.post(
        "/sandbox/testvendor/_admin/settings",
        json.dumps({"webhook_target": f"{live_server.url}/hooks/receiver"}),
        content_type="application/json",
        **admin(),
    )
    assert response.json()["webhook_target"].endswith("/hooks/receiver")
    headers = {"Authorization": f"Bearer {sandbox_credentials(VENDOR)['access_token']}", "Idempotency-Key": "k-1"}
    first = httpx.post(f"{live_server.url}/sandbox/testvendor/keyed", json={"n": 1}, headers=headers, timeout=5)
    second = httpx.post(f"{live_server.url}/sandbox/testvendor/keyed", json={"n": 1}, headers=headers, timeout=5)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() and second.headers["Location"] == first.headers["Location"]
    assert SandboxRecord.objects.filter(vendor=VENDOR).count() == 1
    deadline = time.monotonic() + 5
    while not RECEIVED and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(RECEIVED) == 1  # the replay emitted nothing new
    hdrs, body = RECEIVED[0]
    assert json.loads(body) == {"event": "thing.created", "id": first.json()["id"]}
    assert hdrs["X-Test-Signature"] == "sig"


@pytest.mark.django_db
def test_settings_reject_bad_values_naming_the_field(client):
    response = client.post(
        "/sandbox/testvendor/_admin/settings",
        json.dumps({"window_seconds": 0}),
        content_type="application/json",
        **admin(),
    )
    assert response.status_code == 400 and response.json()["field"] == "window_seconds"
    response = client.post(
        "/sandbox/testvendor/_admin/settings",
        json.dumps({"webhook_target": "ftp://x"}),
        content_type="application/json",
        **admin(),
    )
    assert response.status_code == 400 and response.json()["field"] == "webhook_target"


@pytest.mark.django_db
def test_upsert_by_external_id_keeps_one_record():
    ids = iter(["1", "2"])
    first, created = framework_records.upsert(VENDOR, "thing", "EXT-1", {"name": "a"}, lambda: next(ids))
    second, again = framework_records.upsert(VENDOR, "thing", "EXT-1", {"name": "b"}, lambda: next(ids))
    assert created and not again and first.record_id == second.record_id == "1"
    assert second.version == 2 and second.data == {"name": "b"}
    assert framework_records.records(VENDOR, "thing").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_upserts_of_one_external_id_make_one_record():
    import threading
    import uuid

    from django.db import connection

    barrier = threading.Barrier(6)
    errors = []

    def worker():
        try:
            barrier.wait()
            framework_records.upsert(
                VENDOR, "thing", "EXT-RACE", {"by": threading.get_ident()}, lambda: uuid.uuid4().hex[:12]
            )
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert framework_records.records(VENDOR, "thing").filter(external_id="EXT-RACE").count() == 1


@pytest.mark.django_db
def test_all_seven_sandboxes_are_mounted_with_control_endpoints(client, settings):
    from integrations.connectors.registry import CONNECTORS
    from integrations.sandboxes.urls import SANDBOXES

    settings.ROOT_URLCONF = "studio.urls"
    assert set(SANDBOXES) == {"salesforce", "hubspot", "kantata", "workday", "bamboohr", "netsuite", "dynamics"}
    for vendor in SANDBOXES:
        assert vendor in CONNECTORS, f"{vendor} has no connector"
        response = client.get(f"/sandbox/{vendor}/_admin/requests", **admin())
        assert response.status_code == 200 and response.json()["vendor"] == vendor
        assert admin_api.seeder_for(vendor)


@pytest.mark.django_db
def test_drop_after_commit_without_a_socket_breaks_the_body_off(client):
    """Servers that hide their socket (granian, which `make run` uses): the write commits,
    the status goes out, then the body stops short of its declared length."""
    inject(client, kind="drop_after_commit")
    response = client.post(
        "/sandbox/testvendor/things",
        {"ref": "D-2"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {sandbox_credentials(VENDOR)['access_token']}",
    )
    assert response.streaming and int(response["Content-Length"]) > 0
    with pytest.raises(ConnectionAbortedError):
        b"".join(response.streaming_content)
    assert SandboxRecord.objects.filter(vendor=VENDOR, external_id="D-2").count() == 1
