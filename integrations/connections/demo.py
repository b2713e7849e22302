"""Demo connections: one per sandbox, named by the vendor slug, pointing at the app's own
sandbox origin with the sandbox credentials, so the demo works out of the box.

Each connection takes its fields from the connector's declarations: secrets from
`auth_fields`, options from `config_fields`, both filled from `sandbox_credentials(vendor)`
by name. A vendor whose connector needs more (a token URL inside the sandbox, a tenant or
account id) provides `demo_connection(base_url) -> {"config": {...}, "credentials": {...}}`
in `integrations/sandboxes/<vendor>/seed.py`; its values win. The sandbox is seeded
("demo" size) when it holds no records yet. Running this twice changes nothing."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings

from integrations.connections.models import Connection
from integrations.connections.services import create_connection, update_connection
from integrations.connectors.registry import CONNECTORS, connector_class
from integrations.sandboxes.admin_api import reset_vendor, seeder_for
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.models import SandboxRecord
from integrations.sandboxes.urls import SANDBOXES

ACTOR = "system:seed_demo"


def _vendor_hook(vendor: str, base_url: str) -> dict:
    try:
        module = import_module(f"integrations.sandboxes.{vendor}.seed")
    except ModuleNotFoundError:
        return {}
    hook = getattr(module, "demo_connection", None)
    return hook(base_url) if hook else {}


def demo_values(vendor: str) -> dict:
    cls = connector_class(vendor)
    base_url = f"{settings.SWITCHBOARD_SANDBOX_ORIGIN.rstrip('/')}/sandbox/{vendor}"
    creds = sandbox_credentials(vendor)
    hook = _vendor_hook(vendor, base_url)
    config = {f.name: creds[f.name] for f in cls.config_fields if f.name in creds}
    config.update(hook.get("config", {}))
    secrets = {f.name: creds[f.name] for f in cls.auth_fields if f.name in creds}
    secrets.update(hook.get("credentials", {}))
    return {
        "label": f"{cls.label} (sandbox)",
        "base_url": hook.get("base_url", base_url),
        "config": config,
        "credentials": secrets,
        "environment": "sandbox",
    }


def seed_sandbox_data(vendor: str, stdout) -> None:
    if SandboxRecord.objects.filter(vendor=vendor).exists():
        return
    try:
        seeder_for(vendor)
    except ModuleNotFoundError:
        stdout.write(f"  sandbox {vendor}: no seeder yet\n")
        return
    counts = reset_vendor(vendor, "demo")
    stdout.write(f"  sandbox {vendor}: seeded {sum(v for v in counts.values() if isinstance(v, int))} records\n")


def seed(stdout) -> None:
    for vendor in SANDBOXES:
        if vendor not in CONNECTORS:
            stdout.write(f"  connection {vendor}: skipped (no connector registered yet)\n")
            continue
        values = demo_values(vendor)
        existing = Connection.objects.filter(name=vendor).first()
        if existing is None:
            create_connection(ACTOR, name=vendor, kind=vendor, **values)
            stdout.write(f"  connection {vendor}: created\n")
        elif existing.kind == vendor and existing.environment == "sandbox":
            update_connection(ACTOR, existing, **values)  # audited only if something changed
            stdout.write(f"  connection {vendor}: up to date\n")
        if settings.SWITCHBOARD_SANDBOXES_ENABLED:
            seed_sandbox_data(vendor, stdout)
