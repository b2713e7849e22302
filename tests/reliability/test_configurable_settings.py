"""Fault tests vary the broker settings: the Redis visibility timeout comes from the
environment, and the harness starts workers with the caller's DJANGO_SETTINGS_MODULE."""

import json
import os
import subprocess

from .harness import PYTHON, ROOT, Worker

PROBE = """
import json
from studio.celery import app
c = app.conf
print(json.dumps({
    "visibility": [c.broker_transport_options["visibility_timeout"],
                   c.result_backend_transport_options["visibility_timeout"], c.visibility_timeout],
    "publish_retries": c.task_publish_retry_policy["max_retries"],
    "connect_timeout": c.broker_transport_options["socket_connect_timeout"],
}))
"""


def probe(**env) -> dict:
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:6399/0", "DJANGO_SETTINGS_MODULE": "studio.settings", **env}
    result = subprocess.run([PYTHON, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_visibility_timeout_comes_from_the_environment_in_all_three_places():
    assert probe()["visibility"] == [3600, 3600, 3600]
    assert probe(SWITCHBOARD_VISIBILITY_TIMEOUT="42")["visibility"] == [42, 42, 42]


def test_publishing_is_bounded_while_the_broker_is_down():
    conf = probe(SWITCHBOARD_BROKER_CONNECT_TIMEOUT="0.5")
    assert conf["publish_retries"] == 1 and conf["connect_timeout"] == 0.5


def test_the_harness_starts_workers_with_the_callers_settings_module(monkeypatch):
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "studio.settings")
    assert Worker(redis_url="redis://127.0.0.1:6399/0").env["DJANGO_SETTINGS_MODULE"] == "studio.settings"
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE")
    assert Worker(redis_url="redis://127.0.0.1:6399/0").env["DJANGO_SETTINGS_MODULE"] == "studio.settings_test"
