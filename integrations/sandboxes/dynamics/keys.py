"""Alternate keys the sandbox environment has defined, and their metadata answer.

Alternate keys exist only where an admin (or a solution) defined them: "You can only use
alternate keys for tables where they're defined. Most Dataverse tables won't have alternate
keys unless they have been customized to include them."
https://learn.microsoft.com/en-us/power-apps/developer/data-platform/use-alternate-key-reference-record
Their definitions are EntityKeyMetadata (`KeyAttributes`, `EntityKeyIndexStatus`):
https://learn.microsoft.com/en-ie/power-apps/developer/data-platform/define-alternate-keys-entity
By default each set has the key its EntitySet declares; `set_keys` removes or changes that
(a sandbox record `entityKey/<set>`), so a test can play an environment without it.
"""

from __future__ import annotations

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.dynamics import VENDOR
from integrations.sandboxes.dynamics.entities import SETS, EntitySet

KEYS = "entityKey"


def defined_keys(es: EntitySet) -> list[str]:
    row = store.get(VENDOR, KEYS, es.name)
    if row is not None:
        return list(row.data.get("attributes", []))
    return [es.alternate_key] if es.alternate_key else []


def set_keys(set_name: str, attributes: list[str]) -> None:
    row = store.get(VENDOR, KEYS, set_name)
    if row is None:
        store.create(VENDOR, KEYS, set_name, {"attributes": attributes})
    else:
        store.update(row, {"attributes": attributes})


def unique_key(es: EntitySet) -> str | None:
    """The column whose values must be unique (the sandbox keeps them as the external id)."""
    return es.alternate_key if es.alternate_key in defined_keys(es) else None


def key_metadata(logical: str) -> list[dict] | None:
    es = next((s for s in SETS.values() if s.logical == logical), None)
    if es is None:
        return None
    return [
        {
            "LogicalName": f"{attribute}_key",
            "SchemaName": f"{attribute}_key",
            "KeyAttributes": [attribute],
            "EntityKeyIndexStatus": "Active",
        }
        for attribute in defined_keys(es)
    ]
