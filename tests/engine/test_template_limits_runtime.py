"""Template limits where a user meets them: a run's step error, the invoke answer and the
test-run answer each name the limit that stopped the template, within the time limit; and
the SWITCHBOARD_TEMPLATE_* settings reach the engine when a process starts."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from integrations.engine import limits
from integrations.events.services import ingest_event
from integrations.runs import invoke
from integrations.runs.models import Run
from integrations.runs.services import execute_run
from studio.api import token_grants
from tests.api.runtime_fixtures import crm, doorbells  # noqa: F401
from tests.api.wsgi_client import WsgiClient
from tests.runtime.conftest import publish_flow

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("crm", "doorbells")]
ROOT = Path(__file__).resolve().parents[2]
OUTPUT = "SWITCHBOARD_TEMPLATE_MAX_OUTPUT"
SECONDS = "SWITCHBOARD_TEMPLATE_MAX_SECONDS"
# slow without building anything large: thousands of passes over the record's 1 MB of text
SLOW = (  # three counts a pass, about 6 s of work: well past the 2 s limit on a fast machine too
    "{% for i in range(5000) %}{{ record.text.count('a') + record.text.count('b') + record.text.count('ab') > 0 }}"
    "{% endfor %}"
)


def flow_with(template: str, trigger: dict | None = None) -> dict:
    return {
        "trigger": trigger or {"type": "manual"},
        "steps": [
            {
                "id": "shape",
                "type": "map",
                "fields": [{"to": "id", "from": "$.id"}, {"to": "padded", "template": template}],
            }
        ],
    }


@pytest.fixture(autouse=True)
def fresh_caches():
    """The invoke path caches live versions and token grants per process; each test starts clean."""
    invoke.forget()
    token_grants.forget()


@pytest.fixture
def quick_limits():
    previous = limits.configure(limits.TemplateLimits(max_seconds=0.5))
    yield limits.current
    limits.configure(previous)


def api(personas, name: str, entry: str = "django") -> Client | WsgiClient:
    """A client with the persona's token: Django's test client, or the WSGI application a server
    runs (where the invoke gateway answers before Django's request cycle)."""
    auth = f"Token {Token.objects.get_or_create(user=personas[name])[0].key}"
    return Client(HTTP_AUTHORIZATION=auth) if entry == "django" else WsgiClient(HTTP_AUTHORIZATION=auth)


@pytest.mark.parametrize("entry", ["django", "gateway"])
def test_the_invoke_answer_names_the_limit(personas, entry):
    publish_flow(personas["analyst"], flow_with("{{ '1'.zfill(2*10**7) }}"), key="padding")
    response = api(personas, "operator", entry).post(
        "/api/v1/flows/padding/invoke", {"id": "A-1"}, content_type="application/json"
    )
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["detail"] == f"shape: padded: the result of zfill() exceeds 1,048,576 characters ({OUTPUT})"
    assert body["errors"] == {"padded": [f"padded: the result of zfill() exceeds 1,048,576 characters ({OUTPUT})"]}


def test_a_slow_template_ends_the_invoke_at_the_time_limit(personas, quick_limits):
    publish_flow(personas["analyst"], flow_with(SLOW), key="slow")
    started = time.perf_counter()
    response = api(personas, "operator").post(
        "/api/v1/flows/slow/invoke", {"id": "A-1", "text": "ab" * 500_000}, content_type="application/json"
    )
    assert time.perf_counter() - started < quick_limits.max_seconds + 2.0  # a cold first request on a busy machine
    assert response.status_code == 422 and SECONDS in response.json()["detail"]


def test_the_test_run_answer_names_the_limit(personas):
    analyst = api(personas, "analyst")
    definition = flow_with("{% for a in range(3000) %}{{ range(100000)|sum }}{% endfor %}")
    created = analyst.post(
        "/api/v1/flows/", {"key": "sums", "name": "Sums", "definition": definition}, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    started = time.perf_counter()
    response = analyst.post("/api/v1/flows/sums/test-run/", {"record": {"id": "A-1"}}, content_type="application/json")
    assert time.perf_counter() - started < 5.0  # 7 to 10 s before the limits
    body = response.json()
    assert response.status_code == 200 and body["status"] == "failed", body
    message = "padded: the number of loop iterations exceeds 100,000 per template (SWITCHBOARD_TEMPLATE_MAX_ITERATIONS)"
    assert body["error"]["message"] == message
    assert [s["status"] for s in body["steps"]] == ["failed"] and body["steps"][0]["error"] == {"message": message}


def test_a_runs_step_error_names_the_limit(personas, django_capture_on_commit_callbacks):
    trigger = {"type": "event", "connection": "crm", "event": "deal.won"}
    publish_flow(personas["analyst"], flow_with("{{ ((10**1000)**1000)**30 > 1 }}", trigger), key="powers")
    result = ingest_event(source="crm", type="deal.won", external_id="evt-1", payload={"id": "D-1"})
    started = time.perf_counter()
    with django_capture_on_commit_callbacks(execute=True):
        execute_run(result.runs[0].pk)
    assert time.perf_counter() - started < 5.0  # over a minute before the limits
    run = Run.objects.get(pk=result.runs[0].pk)
    message = "padded: the result of ** exceeds 4,300 digits (SWITCHBOARD_TEMPLATE_MAX_INT_DIGITS)"
    assert run.error["message"] == message and run.error["step_id"] == "shape"
    assert run.steps.get(step_id="shape").error == {"message": message}


def test_settings_reach_the_engine_when_a_process_starts():
    env = {**os.environ, "SWITCHBOARD_TEMPLATE_MAX_OUTPUT": "5000", "SWITCHBOARD_TEMPLATE_MAX_SECONDS": "0.75"}
    script = (
        "from integrations.engine import limits; from integrations.engine.templating import compile_template\n"
        "print(limits.current)\n"
        "try:\n    compile_template(\"{{ 'x' * 5001 }}\")({})\nexcept Exception as exc:\n    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert (
        "TemplateLimits(max_output=5000, max_seconds=0.75, max_iterations=100000, max_int_digits=4300)" in done.stdout
    )
    assert f"the result of * exceeds 5,000 characters ({OUTPUT})" in done.stdout
