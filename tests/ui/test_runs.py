"""The run history and run pages: every column a person reads, filters in the query string
(bad ones named with a 400), keyset pages, the failed step open with the vendor's error,
payloads cut at 64 KiB with the whole one a click away, secrets masked, polling that stops
with 286 when the run ends, query counts that do not grow with the page, and roles."""

import html as entities
import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations import tracing
from integrations.connections.models import Connection
from integrations.deliveries.models import Delivery, DeliveryAttempt
from integrations.flows.models import Flow, FlowVersion
from integrations.runs.models import Run, StepRun
from studio.ui.runs import payloads

LIST = "/runs/"
DEFINITION = {
    "steps": [
        {"id": "shape", "type": "map", "fields": []},
        {"id": "post", "type": "deliver", "connection": "erp", "object": "Project", "action": "create", "key": "k"},
    ]
}
VENDOR_ERROR = "HTTP 422: Project code PRJ-0042 already exists in workspace 7"


def make_flow(key="hours", name="Hours to ERP", versions=1) -> list[FlowVersion]:
    flow = Flow.objects.create(key=key, name=name, status="active")
    return [
        FlowVersion.objects.create(flow=flow, state="published", number=n, definition=DEFINITION)
        for n in range(1, versions + 1)
    ]


def make_run(version, status="succeeded", key="PRJ-0001", ago=timedelta(minutes=5), **fields) -> Run:
    created = timezone.now() - ago
    run = Run.objects.create(
        flow_version=version, trigger=fields.pop("trigger", "event"), status=status, business_key=key, **fields
    )
    finished = None if status in ("running", "queued", "waiting-approval", "waiting-delivery") else created
    Run.objects.filter(pk=run.pk).update(
        created_at=created, started_at=created, finished_at=finished and created + timedelta(milliseconds=1500)
    )
    run.refresh_from_db()
    return run


def make_failed_run(version, key="PRJ-0042", payload=None, **fields) -> Run:
    error = {"step_id": "post", "kind": "http_422", "message": VENDOR_ERROR, "classification": "permanent"}
    run = make_run(version, "failed", key, error=error, **fields)
    record = payload if payload is not None else {"project": key, "hours": 7.5, "api_key": "sk-live-secret"}
    now = timezone.now()
    StepRun.objects.create(
        run=run, step_id="shape", type="map", status="succeeded", input=record,
        output={"code": key, "hours": 7.5, "client": "Acme"}, duration_ms=3, started_at=now,
    )  # fmt: skip
    StepRun.objects.create(
        run=run, step_id="post", type="deliver", status="failed", input={"code": key, "hours": 7.5},
        error={"message": VENDOR_ERROR}, duration_ms=420, started_at=now,
    )  # fmt: skip
    erp = Connection.objects.get_or_create(
        name="erp", defaults={"kind": "generic_rest", "base_url": "https://erp.example.com"}
    )[0]
    delivery = Delivery.objects.create(
        idempotency_key=f"project:{key}:{run.pk}", run=run, step_id="post", connection=erp,
        object="Project", action="create", state="DEAD", last_error=VENDOR_ERROR, last_status_code=422,
    )  # fmt: skip
    DeliveryAttempt.objects.create(
        delivery=delivery, fence=1, started_at=now, finished_at=now, outcome="dead", status_code=422,
        request_excerpt='POST /projects {"code": "' + key + '", "token": "[redacted]"}',
        response_excerpt='{"error": "Project code ' + key + ' already exists"}',
    )  # fmt: skip
    return run


def count_testid(response, name: str) -> int:
    return response.content.decode().count(f'data-testid="{name}"')


@pytest.fixture
def version(db):
    return make_flow()[0]


# --- the history -------------------------------------------------------------------------


def test_the_list_shows_each_column_newest_first(client_for, version):
    first = make_failed_run(version, ago=timedelta(hours=2, minutes=5))
    retry = make_run(version, "succeeded", "PRJ-0042", trigger="retry", retry_of=first)
    waiting = make_run(version, "waiting-approval", "PRJ-0077", ago=timedelta(minutes=1))

    html = client_for("viewer").get(LIST).content.decode()

    rows = re.findall(r'data-testid="run-row" data-run="(\d+)"', html)
    assert [int(pk) for pk in rows] == [waiting.pk, retry.pk, first.pk]
    assert "Hours to ERP" in html and "v1" in html
    assert "Failed" in html and "Waiting for approval" in html and "Succeeded" in html
    assert '<code data-testid="run-failed-step">post</code>' in html
    assert f'data-testid="run-retry-of">#{first.pk}<' in html
    assert "2\xa0hours ago" in html and "1.5 s" in html and "Retry" in html


def test_an_empty_history_says_why(client_for, db):
    html = client_for("viewer").get(LIST).content.decode()
    assert "No runs yet, and no flow to run" in html


def test_a_filter_that_matches_nothing_names_the_filters(client_for, version):
    make_run(version)
    html = client_for("viewer").get(LIST + "?status=failed&business_key=PRJ-9").content.decode()
    assert 'data-testid="runs-empty"' in html
    assert "status <strong>Failed</strong>" in html and "business key <strong>PRJ-9</strong>" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=failed", {"failed"}),
        ("business_key=PRJ-0042", {"failed", "retry"}),
        ("business_key=prj-0042", set()),  # exact, as keys are
        ("retries=on", {"retry"}),
        ("trigger=schedule", {"scheduled"}),
        ("flow=invoices", {"invoice"}),
        ("flow=hours&version=2", {"v2"}),
        ("version=2", {"v2"}),
        ("since={old}&until={old}", {"old"}),
    ],
)
def test_filters_narrow_the_list(client_for, version, query, expected):
    v2 = FlowVersion.objects.create(flow=version.flow, state="published", number=2, definition=DEFINITION)
    invoices = make_flow("invoices", "Invoices")[0]
    made = {
        "failed": make_failed_run(version),
        "ok": make_run(version, key="PRJ-0001"),
        "scheduled": make_run(version, key="", trigger="schedule"),
        "invoice": make_run(invoices, key="INV-1"),
        "v2": make_run(v2, key="PRJ-0002"),
        "old": make_run(version, key="PRJ-0003", ago=timedelta(days=20)),
    }
    made["retry"] = make_run(version, key="PRJ-0042", trigger="retry", retry_of=made["failed"])
    old_day = (timezone.now() - timedelta(days=20)).date().isoformat()

    response = client_for("viewer").get(LIST + "?" + query.format(old=old_day))

    assert response.status_code == 200
    shown = {int(pk) for pk in re.findall(r'data-testid="run-row" data-run="(\d+)"', response.content.decode())}
    assert shown == {made[name].pk for name in expected}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=exploded", "status"),
        ("flow=nope", "flow"),
        ("version=zero", "version"),
        ("version=0", "version"),
        ("since=yesterday", "since"),
        ("since=2026-05-02&until=2026-05-01", "until"),
        ("business_key=" + "k" * 201, "business_key"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_field(client_for, version, query, field):
    make_run(version)
    response = client_for("viewer").get(LIST + "?" + query)
    assert response.status_code == 400
    assert f'data-testid="error-{field}"' in response.content.decode()
    assert count_testid(response, "run-row") == 0


def test_pages_follow_each_other_without_gaps_or_repeats(client_for, version):
    made = [make_run(version, key=f"PRJ-{n:04d}", ago=timedelta(minutes=n)) for n in range(120)]
    # Three runs share one moment: the id breaks the tie.
    Run.objects.filter(pk__in=[r.pk for r in made[50:53]]).update(created_at=made[50].created_at)
    client = client_for("viewer")
    seen, url = [], LIST + "?flow=hours"
    while url:
        html = client.get(url).content.decode()
        seen += [int(pk) for pk in re.findall(r'data-testid="run-row" data-run="(\d+)"', html)]
        more = re.search(r'data-testid="runs-next" href="([^"]+)"', html)
        url = LIST + more.group(1).replace("&amp;", "&") if more else None
    assert sorted(seen) == sorted(r.pk for r in made) and len(seen) == len(set(seen))
    assert "flow=hours" in more.group(1) if more else True


def test_htmx_swaps_only_the_results_or_appends_rows(client_for, version):
    for n in range(55):
        make_run(version, key=f"PRJ-{n:04d}", ago=timedelta(minutes=n))
    client = client_for("viewer")
    results = client.get(LIST + "?status=succeeded", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="runs-results")
    html = results.content.decode()
    assert html.lstrip().startswith('<div id="runs-results"') and "<html" not in html
    cursor = re.search(r"cursor=([^\"&]+)", html).group(1)
    more = client.get(f"{LIST}?status=succeeded&cursor={cursor}", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="runs-more")
    assert more.content.decode().lstrip().startswith("<tr") and count_testid(more, "run-row") == 5


def test_the_list_costs_a_fixed_number_of_queries(client_for, version, django_assert_max_num_queries):
    for n in range(60):
        make_run(version, "waiting-delivery" if n % 7 == 0 else "succeeded", key=f"PRJ-{n:04d}")
    client = client_for("viewer")
    with django_assert_max_num_queries(10):
        assert client.get(LIST).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(LIST + "?flow=hours&status=succeeded&business_key=PRJ-0001").status_code == 200


# --- one run -----------------------------------------------------------------------------


def test_a_failed_run_opens_at_its_failed_step_with_the_vendors_error(client_for, version):
    run = make_failed_run(version)
    html = client_for("viewer").get(f"/runs/{run.pk}/").content.decode()

    assert 'data-testid="run-status">Failed<' in html
    assert "Hours to ERP@v1" in html and "PRJ-0042" in html
    failed = html[html.index('id="failed-step"') :]
    assert "<details open data-failed>" in failed[:400]
    assert VENDOR_ERROR in failed and 'data-testid="step-endpoint">erp (generic_rest): create Project' in html
    # The failed step's delivery, with its attempt's request and response.
    assert 'data-testid="delivery"' in failed and "HTTP 422" in failed and "already exists" in failed
    # The step that succeeded is closed and loads its payloads when opened.
    assert html.count("<details open data-failed>") == 1 and 'hx-trigger="toggle once"' in html


def test_secret_looking_fields_are_masked_in_payloads(client_for, version):
    run = make_failed_run(version)
    shape = run.steps.get(step_id="shape")
    client = client_for("viewer")
    step = entities.unescape(client.get(f"/runs/{run.pk}/steps/{shape.pk}/").content.decode())
    full = client.get(f"/runs/{run.pk}/steps/{shape.pk}/input/?download=1").content.decode()
    assert "sk-live-secret" not in step and "sk-live-secret" not in full
    assert '"api_key": "[redacted]"' in step and json.loads(full)["api_key"] == "[redacted]"


def test_the_diff_lists_the_fields_a_step_changed(client_for, version):
    run = make_failed_run(version)
    shape = run.steps.get(step_id="shape")
    html = client_for("viewer").get(f"/runs/{run.pk}/steps/{shape.pk}/").content.decode()
    rows = re.findall(r'<tr class="diff-(\w+)" data-testid="diff-row"><td><code>([^<]+)</code>', html)
    assert set(rows) == {("added", "client"), ("added", "code"), ("removed", "project"), ("removed", "api_key")}


def test_a_five_megabyte_payload_is_cut_and_fully_downloadable(client_for, version):
    lines = [{"line": n, "note": "x" * 90} for n in range(50_000)]
    run = make_failed_run(version, payload={"lines": lines, "password": "hunter22"})
    shape = run.steps.get(step_id="shape")
    client = client_for("viewer")

    step = client.get(f"/runs/{run.pk}/steps/{shape.pk}/")
    html = step.content.decode()
    assert len(html) < 100_000
    assert 'data-testid="payload-truncated">Showing the first 64 KiB of a larger payload.' in html
    assert "Too large to compare here" in html

    full = client.get(f"/runs/{run.pk}/steps/{shape.pk}/input/?download=1")
    assert full["Content-Disposition"].startswith("attachment;")
    data = json.loads(full.content)
    assert len(data["lines"]) == 50_000 and data["password"] == "[redacted]"
    loaded = entities.unescape(
        client.get(f"/runs/{run.pk}/steps/{shape.pk}/input/", HTTP_HX_REQUEST="true").content.decode()
    )
    assert loaded.startswith('<pre class="payload"') and "hunter22" not in loaded and '"line": 49999' in loaded


def test_a_cut_payload_still_masks_secret_fields():

    head = '{"client": "Acme", "client_secret": "abc123", "nested": {"Authorization": "Bearer xyz", "note": "ok'
    shown = payloads.preview(head + "x" * payloads.PREVIEW_CHARS)
    assert shown.truncated and "abc123" not in shown.text and "Bearer xyz" not in shown.text
    assert '"client": "Acme"' in shown.text


def test_previous_and_next_runs_of_the_same_business_key(client_for, version):
    older = make_run(version, key="PRJ-0042", ago=timedelta(hours=3))
    make_run(version, key="PRJ-0099", ago=timedelta(hours=2))
    middle = make_failed_run(version, key="PRJ-0042", ago=timedelta(hours=1))
    newer = make_run(version, key="PRJ-0042", ago=timedelta(minutes=1))
    html = client_for("viewer").get(f"/runs/{middle.pk}/").content.decode()
    assert f'href="/runs/{older.pk}/" rel="prev"' in html and f'href="/runs/{newer.pk}/" rel="next"' in html
    first = client_for("viewer").get(f"/runs/{older.pk}/").content.decode()
    assert 'rel="prev"' not in first and f'href="/runs/{middle.pk}/" rel="next"' in first


def test_an_active_run_polls_until_it_ends_then_answers_286(client_for, version):
    run = make_run(version, "running")
    client = client_for("viewer")
    page = client.get(f"/runs/{run.pk}/").content.decode()
    assert 'hx-trigger="every 2s"' in page and "Live:" in page

    polled = client.get(f"/runs/{run.pk}/", HTTP_HX_REQUEST="true")
    assert polled.status_code == 200 and 'hx-trigger="every 2s"' in polled.content.decode()

    Run.objects.filter(pk=run.pk).update(status="succeeded", finished_at=timezone.now())
    ended = client.get(f"/runs/{run.pk}/", HTTP_HX_REQUEST="true")
    assert ended.status_code == 286
    assert "every 2s" not in ended.content.decode() and 'data-testid="run-status">Succeeded<' in ended.content.decode()


def test_a_waiting_run_whose_connection_is_paused_reads_held(client_for, version):
    run = make_failed_run(version)
    Run.objects.filter(pk=run.pk).update(status="waiting-delivery", finished_at=None)
    Delivery.objects.filter(run=run).update(state="PENDING")
    Connection.objects.filter(name="erp").update(paused=True, paused_reason="ERP upgrade")
    client = client_for("viewer")
    assert 'data-testid="run-status">Held<' in client.get(LIST).content.decode()
    page = client.get(f"/runs/{run.pk}/").content.decode()
    assert 'data-testid="run-status">Held<' in page and "Paused: ERP upgrade" in page


def test_the_run_page_costs_a_fixed_number_of_queries(client_for, version, django_assert_max_num_queries):
    run = make_failed_run(version)
    for n in range(30):
        StepRun.objects.create(run=run, step_id=f"extra{n}", type="map", status="succeeded", started_at=timezone.now())
    client = client_for("viewer")
    # Session, user and permissions (4), the run, previous and next (3), steps, connections,
    # delivery counts, the failed step's deliveries and their attempts, its payloads (6).
    with django_assert_max_num_queries(13):
        assert client.get(f"/runs/{run.pk}/").status_code == 200


def test_unknown_runs_steps_and_sides_are_404(client_for, version):
    run = make_failed_run(version)
    other = make_failed_run(version, key="PRJ-0500")
    step = other.steps.get(step_id="shape")
    client = client_for("viewer")
    assert client.get("/runs/999999/").status_code == 404
    assert client.get(f"/runs/{run.pk}/steps/{step.pk}/").status_code == 404  # another run's step
    assert client.get(f"/runs/{run.pk}/steps/{step.pk}/input/").status_code == 404
    assert client.get(f"/runs/{other.pk}/steps/{step.pk}/state/").status_code == 404


# --- roles -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["viewer", "analyst", "approver", "operator", "admin"])
def test_every_role_sees_the_runs_and_no_control_to_act(client_for, version, persona):
    run = make_failed_run(version)
    client = client_for(persona)
    for url in (LIST, f"/runs/{run.pk}/", f"/runs/{run.pk}/steps/{run.steps.first().pk}/"):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        main = page[page.find("<main") : page.find("</main>")] if "<main" in page else page
        assert 'method="post"' not in main and "hx-post" not in main
    assert client.post(f"/runs/{run.pk}/").status_code == 405


def test_no_role_no_runs(client_for, client, version):
    run = make_failed_run(version)
    assert client_for("outsider").get(LIST).status_code == 403
    assert client_for("outsider").get(f"/runs/{run.pk}/").status_code == 403
    assert client_for("outsider").get(f"/runs/{run.pk}/steps/{run.steps.first().pk}/input/").status_code == 403
    assert client.get(f"/runs/{run.pk}/").status_code == 302  # anonymous: to the login page


def test_a_step_with_many_deliveries_lists_the_first_fifty_and_counts_all(client_for, version):
    run = make_failed_run(version)
    erp = Connection.objects.get(name="erp")
    Delivery.objects.bulk_create(
        Delivery(idempotency_key=f"line:{n}", run=run, step_id="post", connection=erp, object="Line", action="create")
        for n in range(59)
    )
    html = client_for("viewer").get(f"/runs/{run.pk}/").content.decode()
    assert "60 deliveries" in html and "Showing the first 50 of 60." in html
    assert html.count('data-testid="delivery"') == 50


def test_going_back_to_a_page_htmx_no_longer_holds_gets_the_whole_page(client_for, version):
    run = make_run(version)
    client = client_for("viewer")
    restore = {"HTTP_HX_REQUEST": "true", "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}
    for url in (LIST + "?status=succeeded", f"/runs/{run.pk}/"):
        assert "<html" in client.get(url, **restore).content.decode(), url


def test_the_run_page_shows_the_runs_trace_id(client_for, version):
    run = make_failed_run(version)
    html = client_for("viewer").get(f"/runs/{run.pk}/").content.decode()

    assert 'data-testid="run-trace-id" ' in html
    shown = html.split('data-testid="run-trace-id"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    assert shown == tracing.trace_id_of(run) and len(shown) == 32 and int(shown, 16)
