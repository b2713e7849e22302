from django.core.management.base import BaseCommand

from integrations.health import schedules


class Command(BaseCommand):
    help = "Sync every app's periodic.py into django-celery-beat (idempotent; disables stale ones)."

    def handle(self, *args, **options):
        report = schedules.sync()
        for outcome, names in report.items():
            for name in names:
                self.stdout.write(f"{outcome}: {name}")
        if options["verbosity"] >= 1:
            total = sum(len(v) for v in report.values())
            self.stdout.write(self.style.SUCCESS(f"Periodic tasks in sync ({total} declared or retired)."))
