import sys

from django.core.management.base import BaseCommand, CommandError

from integrations.flowtests import transfer

ACTOR = "system:import_flows"


class Command(BaseCommand):
    help = (
        "Import flow definitions from an export file as drafts: prints what changes, then applies it "
        "(all flows or none). Connections are bound by name; missing ones are reported and block the import."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The export file ('-' = standard input).")
        parser.add_argument("--dry-run", action="store_true", help="Only print what would change.")

    def handle(self, *args, file, dry_run, **options):
        raw = self.stdin_bytes() if file == "-" else self.file_bytes(file)
        try:
            document = transfer.parse(raw)
            found = transfer.plan(document)
        except transfer.ImportInvalid as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        self.report(found)
        if not found.ok:
            raise CommandError("Nothing imported: fix the problems above.")
        if dry_run:
            self.stdout.write("Dry run: nothing imported.")
            return
        transfer.apply(document, ACTOR)
        self.stdout.write(f"Imported {len(found.flows)} flow(s) as drafts.")

    def file_bytes(self, path: str) -> bytes:
        try:
            with open(path, "rb") as handle:
                return handle.read(transfer.MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc

    def stdin_bytes(self) -> bytes:
        return sys.stdin.buffer.read(transfer.MAX_FILE_BYTES + 1)

    def report(self, found) -> None:
        for item in found.flows:
            self.stdout.write(f"{item.action:9} {item.key}  ({len(item.changes)} field change(s))")
            for change in item.changes[:20]:
                self.stdout.write(f"          {change['field']}: {change['expected']!r} → {change['actual']!r}")
            for name in item.missing_connections:
                self.stdout.write(f"          missing connection: {name}")
            for error in item.errors:
                self.stdout.write(f"          {error['field']}: {error['message']}")
