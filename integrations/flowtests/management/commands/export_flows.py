from django.core.management.base import BaseCommand, CommandError

from integrations.flows.models import Flow
from integrations.flowtests import transfer


class Command(BaseCommand):
    help = "Write flow definitions as a JSON export file (no connection settings, no secrets)."

    def add_arguments(self, parser):
        parser.add_argument("keys", nargs="*", help="Flow keys to export; none = every flow.")
        parser.add_argument("-o", "--output", help="File to write; default: standard output.")
        parser.add_argument(
            "--which", dest="which", choices=("draft", "live"), default="draft", help="Which definition of each flow."
        )

    def handle(self, *args, keys, output, which, **options):
        found = Flow.objects.filter(key__in=keys) if keys else Flow.objects.all()
        found = list(found.order_by("key"))
        if missing := sorted(set(keys) - {f.key for f in found}):
            raise CommandError(f"No flow with key {', '.join(missing)}.")
        try:
            text = transfer.dumps(transfer.export_document(found, which))
        except transfer.ImportInvalid as exc:
            raise CommandError(exc.message) from exc
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
            self.stderr.write(f"{len(found)} flow(s) written to {output}")
        else:
            self.stdout.write(text, ending="")
