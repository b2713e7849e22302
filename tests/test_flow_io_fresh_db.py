"""The round trip across databases: flows exported here and imported by `manage.py
import_flows` into a freshly migrated database (another process, its own SQLite file and
var directory) come back with the identical definition; the file holds no secret."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from integrations.connections.demo import demo_values
from integrations.connections.models import Connection
from integrations.connections.services import create_connection
from integrations.flows.demo import seed
from integrations.flows.models import Flow

pytestmark = pytest.mark.django_db

# The other database has the same connections by name (import binds connections by name),
# made without credentials: none travel, and none are needed to import.
MAKE_CONNECTIONS = """
from integrations.connections.models import Connection
for name, kind in {pairs!r}:
    Connection.objects.create(name=name, kind=kind, base_url="https://" + name + ".example.com")
"""


def manage(tmp: Path, *args: str, stdin: str | None = None) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'fresh.sqlite3'}",
        "SWITCHBOARD_VAR_DIR": str(tmp / "var"),
        "DJANGO_SETTINGS_MODULE": "studio.settings",
    }
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_export_then_import_into_a_fresh_database_gives_the_identical_definitions(tmp_path, personas):
    for vendor in ("salesforce", "kantata", "netsuite"):
        create_connection("system:test", name=vendor, kind=vendor, **demo_values(vendor))
    seed(io.StringIO())
    exported = tmp_path / "flows.json"
    call_command("export_flows", "-o", str(exported))
    text = exported.read_text()
    for connection in Connection.objects.all():
        assert all(str(secret) not in text for secret in connection.get_credentials().values())
    manage(tmp_path, "migrate", "-v0")
    pairs = sorted(Connection.objects.values_list("name", "kind"))
    manage(tmp_path, "shell", "-c", MAKE_CONNECTIONS.format(pairs=pairs))
    assert "Imported 2 flow(s) as drafts." in manage(tmp_path, "import_flows", str(exported))
    again = json.loads(manage(tmp_path, "export_flows"))
    here = {f.key: (f.name, f.description, f.tags, f.draft.definition) for f in Flow.objects.all()}
    there = {f["key"]: (f["name"], f["description"], f["tags"], f["definition"]) for f in again["flows"]}
    assert there == here
