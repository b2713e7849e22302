from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

from integrations.demo.seeders import SEEDERS


class Command(BaseCommand):
    help = "Load the demo (users, connections, flows...): every seeder in integrations/demo/seeders.py, in order."

    def handle(self, *args, **options):
        for path in SEEDERS:
            self.stdout.write(f"{path}:")
            import_string(path)(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo loaded."))
