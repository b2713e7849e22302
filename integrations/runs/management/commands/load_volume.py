"""manage.py load_volume --runs 1000000 --exceptions 100000: a realistic run history for
measuring the operations pages (see integrations/runs/management/volume.py)."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from integrations.runs.management import volume, volume_approvals
from integrations.runs.rollups import job as rollups


class Command(BaseCommand):
    help = "Fill the database with a generated run history (90 days, 10 flows, skewed statuses)."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, required=True, help="Runs to create, e.g. 1000000.")
        parser.add_argument("--exceptions", type=int, default=0, help="Exceptions on failed runs, e.g. 100000.")
        parser.add_argument("--days", type=int, default=90, help="Spread the runs over this many days back.")
        parser.add_argument(
            "--approvals",
            type=int,
            default=20_000,
            help="Decided approval tasks on older runs (pending ones: every waiting run).",
        )
        parser.add_argument("--seed", type=int, default=12, help="Random seed: the same seed makes the same history.")
        parser.add_argument(
            "--force", action="store_true", help="Load even though the database holds flows not made by this command."
        )

    def handle(self, *args, runs, exceptions, days, seed, force, approvals, **options):
        if runs < 1 or exceptions < 0 or days < 1 or approvals < 0:
            raise CommandError("--runs and --days must be at least 1, --exceptions and --approvals at least 0.")
        if exceptions > runs:
            raise CommandError("--exceptions cannot exceed --runs: each exception belongs to one failed run.")
        found = volume.real_data()
        if found and not force:
            raise CommandError(
                f"This database holds real flows ({', '.join(found)}); generated runs would mix with them. "
                "Use a database of its own, or pass --force."
            )
        if connection.vendor != "postgresql" and runs > 50_000:
            self.stderr.write("Not PostgreSQL: rows go in with batched INSERTs, which is slow at this volume.")
        started = time.monotonic()
        counts = volume.load(runs, exceptions, days=days, seed=seed)
        pending, decided = volume_approvals.load(approvals, seed=seed)
        # The history goes in by COPY with triggers off: count its hours for the dashboards now.
        rolled = rollups.rebuild()
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # What autovacuum does soon after a bulk load: the visibility map lets counts and
            # list pages read indexes alone, so measurements reflect a settled database.
            # (Not possible inside a transaction, as in a test.)
            with connection.cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE) runs_run, runs_runexception, approvals_approvaltask")
        self.stdout.write(
            f"Loaded {counts.runs} runs, {counts.steps} step runs, {counts.exceptions} exceptions and "
            f"{pending + decided} approval tasks ({pending} pending) over {days} days "
            f"in {time.monotonic() - started:.1f} s; {rolled.hours} hours rolled up for the dashboards."
        )
