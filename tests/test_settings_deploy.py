"""Production settings: `check --deploy` is clean with the variables README documents,
and the Celery settings follow the runtime contract (docs/RELIABILITY.md §11.2,
§11.4, §11.6)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent


def production_env(tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SWITCHBOARD_", "DATABASE", "REDIS"))}
    env.update(
        DJANGO_SETTINGS_MODULE="studio.settings",
        SWITCHBOARD_ENV="production",
        SECRET_KEY="x7" * 30 + "-not-a-real-secret-key-but-long-and-random-enough",
        ALLOWED_HOSTS="switchboard.example.com",
        SWITCHBOARD_FERNET_KEYS=Fernet.generate_key().decode(),
        SWITCHBOARD_VAR_DIR=str(tmp_path / "var"),
        **extra,
    )
    return env


def run_manage(env, *args):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)


@pytest.mark.parametrize(
    "services",
    [{}, {"DATABASE_URL": "postgres://sb:pw@db.internal:5432/sb", "REDIS_URL": "redis://cache.internal:6379/0"}],
    ids=["embedded", "scaled"],
)
def test_check_deploy_is_clean_with_documented_variables(tmp_path, services):
    result = run_manage(production_env(tmp_path, **services), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = run_manage(env, "check")
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_production_turns_sandboxes_off_and_debug_stays_off(tmp_path):
    code = "from django.conf import settings as s; import json; "
    code += "print(json.dumps([s.DEBUG, s.SWITCHBOARD_SANDBOXES_ENABLED]))"
    result = run_manage(production_env(tmp_path), "shell", "-c", code)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [False, False]


CELERY_PROBE = """
import json
from django.conf import settings
from studio.celery import app
c = app.conf
print(json.dumps({
    "acks_late": c.task_acks_late, "reject_on_worker_lost": c.task_reject_on_worker_lost,
    "prefetch": c.worker_prefetch_multiplier, "accept": list(c.accept_content),
    "serializers": [c.task_serializer, c.result_serializer],
    "visibility": [c.broker_transport_options.get("visibility_timeout"),
                   c.result_backend_transport_options.get("visibility_timeout"), c.get("visibility_timeout")],
    "time_limit": c.task_time_limit, "soft_time_limit": c.task_soft_time_limit,
    "lease": settings.SWITCHBOARD_LEASE_SECONDS, "broker": c.broker_url.split(":")[0],
}))
"""


def effective_celery_config(tmp_path, **extra) -> dict:
    result = run_manage(production_env(tmp_path, **extra), "shell", "-c", CELERY_PROBE)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_celery_runtime_contract_with_redis(tmp_path):
    conf = effective_celery_config(tmp_path, REDIS_URL="redis://cache.internal:6379/0")
    assert conf["broker"] == "redis"
    assert conf["acks_late"] is True and conf["reject_on_worker_lost"] is True
    assert conf["prefetch"] == 1
    assert conf["accept"] == ["json"] and conf["serializers"] == ["json", "json"]
    assert conf["visibility"] == [3600, 3600, 3600]  # docs/RELIABILITY.md §11.6: all three places
    assert conf["soft_time_limit"] < conf["time_limit"] < conf["lease"] < 3600  # docs/RELIABILITY.md §11.4


def test_celery_embedded_default_keeps_the_same_contract(tmp_path):
    conf = effective_celery_config(tmp_path)
    assert conf["broker"] == "filesystem"
    assert conf["acks_late"] and conf["reject_on_worker_lost"] and conf["prefetch"] == 1
    assert conf["accept"] == ["json"] and conf["time_limit"] < conf["lease"]
