"""The periodic-task registry: collect every installed app's `periodic.py` and make
django-celery-beat's table match it. Rows this module made carry MANAGED in their
description; those no longer declared are disabled (kept, so their history stays), and
rows made any other way (e.g. per-flow cron schedules) are never touched."""

from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

MANAGED = "managed by sync_schedules (periodic.py)"


@dataclass(frozen=True)
class Periodic:
    name: str
    task: str
    seconds: int


def declared() -> list[Periodic]:
    found = []
    for config in apps.get_app_configs():
        module_name = f"{config.name}.periodic"
        if find_spec(module_name) is None:
            continue
        for name, task, seconds in getattr(import_module(module_name), "PERIODIC", []):
            found.append(Periodic(name, task, int(seconds)))
    return found


@transaction.atomic
def sync(periodics: list[Periodic] | None = None) -> dict[str, list[str]]:
    """Create, update or disable managed rows; returns the names per outcome."""
    periodics = declared() if periodics is None else periodics
    report: dict[str, list[str]] = {"created": [], "updated": [], "unchanged": [], "disabled": []}
    for p in periodics:
        interval, _ = IntervalSchedule.objects.get_or_create(every=p.seconds, period=IntervalSchedule.SECONDS)
        wanted = {
            "task": p.task,
            "interval": interval,
            "enabled": True,
            "description": MANAGED,
            # A beat that was down must not leave a backlog of stale ticks behind it.
            "expire_seconds": max(p.seconds * 2, 10),
        }
        row = PeriodicTask.objects.filter(name=p.name).first()
        if row is None:
            PeriodicTask.objects.create(name=p.name, **wanted)
            report["created"].append(p.name)
        elif any(getattr(row, key) != value for key, value in wanted.items()):
            for key, value in wanted.items():
                setattr(row, key, value)
            row.save()
            report["updated"].append(p.name)
        else:
            report["unchanged"].append(p.name)
    stale = PeriodicTask.objects.filter(description=MANAGED, enabled=True).exclude(name__in=[p.name for p in periodics])
    report["disabled"] = list(stale.values_list("name", flat=True))
    for row in stale:  # save() (not update()) so beat notices the change
        row.enabled = False
        row.save()
    return report
