"""Install a gallery template: a new flow whose draft is the template's definition.

The flow is the analyst's from then on (edited, test-run and published like any flow); it
carries the tag `gallery:<template>` so its origin stays visible. Audited as
`gallery.install` beside the flow's own `flow.create`."""

from __future__ import annotations

from django.db import transaction

from integrations.audit import services as audit
from integrations.connections.models import Connection
from integrations.flows.models import Flow
from integrations.flows.services import create_flow
from integrations.gallery.catalog import TEMPLATES, Template, template

MAX_SUFFIX = 99


def free_key(base: str) -> str:
    """`base`, else `base-2`, `base-3`... (a second install never replaces the first flow)."""
    taken = set(Flow.objects.filter(key__startswith=base).values_list("key", flat=True))
    for n in range(1, MAX_SUFFIX + 1):
        key = base if n == 1 else f"{base}-{n}"
        if key not in taken:
            return key
    raise ValueError(f"the gallery template {base!r} is installed {MAX_SUFFIX} times already")


def missing_connections(t: Template, existing: set[str] | None = None) -> list[str]:
    if existing is None:
        existing = set(Connection.objects.filter(name__in=t.connections).values_list("name", flat=True))
    return [name for name in t.connections if name not in existing]


def tag(t: Template) -> str:
    return f"gallery:{t.key}"


@transaction.atomic
def install(user, template_key: str, *, key: str = "", name: str = "") -> Flow:
    """A new draft flow from the template; `key`/`name` default to the template's (a key that is
    taken gets a number). LookupError: no such template."""
    t = template(template_key)
    flow = create_flow(
        user,
        key=key or free_key(t.key),
        name=name or t.name,
        description=t.description,
        tags=["gallery", tag(t)],
        definition=t.fresh_definition(),
    )
    audit.record(user, "gallery.install", flow, after={"template": t.key, "flow": flow.key})
    return flow


def cards() -> list[dict]:
    """What the gallery page shows per template, with one query for the connections."""
    names = {n for t in TEMPLATES for n in t.connections}
    existing = set(Connection.objects.filter(name__in=names).values_list("name", flat=True))
    flows = list(Flow.objects.filter(key__in=[t.key for t in TEMPLATES]).values_list("key", flat=True))
    tagged = {tg for f in Flow.objects.exclude(tags=[]).values_list("tags", flat=True) for tg in (f or [])}
    return [
        {
            "template": t,
            "needs": [{"name": n, "present": n in existing} for n in t.connections],
            "missing": missing_connections(t, existing),
            "installed": tag(t) in tagged or t.key in flows,
        }
        for t in TEMPLATES
    ]
