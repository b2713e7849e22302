"""Re-seed vendor sandboxes from the command line (benchmarks, demos):

manage.py sandbox_reset netsuite kantata --size 100000
manage.py sandbox_reset --all --size demo
"""

from django.core.management.base import BaseCommand, CommandError

from integrations.sandboxes.admin_api import parse_size, reset_vendor
from integrations.sandboxes.urls import SANDBOXES


class Command(BaseCommand):
    help = "Wipe and re-seed vendor sandboxes (records, request log, faults, idempotency keys)."

    def add_arguments(self, parser):
        parser.add_argument("vendors", nargs="*", help=f"any of: {', '.join(SANDBOXES)}")
        parser.add_argument("--all", action="store_true", help="every sandbox")
        parser.add_argument("--size", default="test", help="'demo', 'test' or a number of time entries (≤ 100000)")

    def handle(self, *args, **options):
        vendors = list(SANDBOXES) if options["all"] else options["vendors"]
        unknown = sorted(set(vendors) - set(SANDBOXES))
        if not vendors or unknown:
            raise CommandError(f"name sandboxes to reset ({', '.join(SANDBOXES)}) or --all; unknown: {unknown}")
        try:
            size = parse_size(options["size"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        for vendor in vendors:
            counts = reset_vendor(vendor, size)
            self.stdout.write(f"{vendor}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
