"""manage.py roll_up_runs [--rebuild]: what the periodic job does, on demand; --rebuild
forgets the roll-ups and counts the whole run table again (after a bulk load or a restore)."""

from django.core.management.base import BaseCommand

from integrations.runs.rollups import job


class Command(BaseCommand):
    help = "Roll up the run table's closed hours for the dashboards (--rebuild: recount every hour)."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="Forget the roll-ups and count every hour again.")

    def handle(self, *args, rebuild, **options):
        report = job.rebuild() if rebuild else job.roll_up()
        self.stdout.write(f"Counted {report.hours} hours; rolled up until {report.until}.")
