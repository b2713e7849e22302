import os

from django.conf import settings
from django.core.management.base import BaseCommand

from integrations.demo.users import DEMO_USERS


class Command(BaseCommand):
    help = "Print where `make run` serves the studio and how to sign in."

    def handle(self, *args, **options):
        host = os.environ.get("HOST", "127.0.0.1")
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - display only
        url = f"http://{shown}:{os.environ.get('PORT', '8000')}/"
        lines = [
            "",
            "Switchboard is starting (web, worker, beat). Ctrl-C stops all of them.",
            f"  Studio:   {url}",
            f"  API docs: {url}api/v1/docs/",
            f"  Health:   {url}healthz",
            f"  Demo logins: {', '.join(sorted(DEMO_USERS))} (each has the role of that name)",
            f"  Password:    {settings.SWITCHBOARD_DEMO_PASSWORD}",
            "",
        ]
        self.stdout.write("\n".join(lines))
