"""docker-compose.yml runs workers the way the ledger needs: restarted when they exit, stopped
with SIGTERM to the main process only, and given time to finish the message in hand."""

from pathlib import Path

import yaml
from django.conf import settings

from .harness import ROOT


def compose_service(name: str) -> dict:
    services = yaml.safe_load(Path(ROOT, "docker-compose.yml").read_text())["services"]
    return services[name]


def seconds(value: str) -> float:
    units = {"s": 1, "m": 60}
    return float(value[:-1]) * units[value[-1]] if value[-1] in units else float(value)


def test_worker_and_beat_are_restarted_and_stopped_with_sigterm_to_the_main_process():
    for name in ("worker", "beat"):
        service = compose_service(name)
        assert service["restart"] == "unless-stopped", name
        assert service["stop_signal"] == "SIGTERM", name
        assert service["init"] is True, name  # tini: forwards the signal to its one child, reaps orphans


def test_worker_grace_period_outlasts_one_delivery_message():
    chunk_budget = settings.CELERY_TASK_SOFT_TIME_LIMIT / 2  # integrations/deliveries/conf.py
    assert seconds(compose_service("worker")["stop_grace_period"]) > chunk_budget
