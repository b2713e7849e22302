"""Write audit entries. Every service that changes configuration or decides something
calls `record` inside its own transaction, so the entry and the change land together."""

from typing import Any

from integrations.audit.models import AuditEntry

REDACTED = "••••"


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None, secret_fields=()) -> dict[str, list]:
    """{field: [before, after]} for fields that changed; secret fields show only that they changed."""
    before, after = before or {}, after or {}
    changes = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            changes[key] = [REDACTED, REDACTED] if key in secret_fields else [old, new]
    return changes


def record(
    actor,
    action: str,
    obj=None,
    *,
    before: dict | None = None,
    after: dict | None = None,
    changes: dict | None = None,
    secret_fields=(),
    message: str = "",
    object_type: str = "",
    object_id: str = "",
) -> AuditEntry:
    """`actor` is a user, None (system), or a string like 'system:sweeper'."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    is_user = actor is not None and not isinstance(actor, str)
    label = actor.get_username() if is_user else (actor or "system")
    return AuditEntry.objects.create(
        actor=actor if is_user and actor.pk else None,
        actor_label=label,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_repr=str(obj)[:200] if obj is not None else "",
        changes=changes if changes is not None else diff(before, after, secret_fields),
        message=message,
    )
