"""What an audit entry is about, as people read it: "Connection crm" linking to its page,
instead of the stored `connections.connection:8`. Objects that have a page are looked up
once per page of entries (one query per type), by the ids on that page."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.urls import reverse

from integrations.connections.models import Connection


@dataclass(frozen=True)
class ObjectRef:
    kind: str  # "Connection", "User", "Flow version"…
    name: str  # what to show: the object's name now, or as it was when recorded
    url: str | None  # its page, when it has one and still exists
    gone: bool = False  # it had a page but no longer exists


def _connections(ids) -> dict[str, tuple[str, str]]:
    rows = Connection.objects.filter(pk__in=ids).values_list("pk", "name")
    return {str(pk): (name, reverse("connections:detail", args=[name])) for pk, name in rows}


def _users(ids) -> dict[str, tuple[str, str]]:
    rows = get_user_model().objects.filter(pk__in=ids).values_list("pk", "username")
    return {str(pk): (username, reverse("users:detail", args=[username])) for pk, username in rows}


# object_type -> finder of {object_id: (current name, url)} for the types that have a page
PAGES: dict[str, Callable[[Iterable[int]], dict[str, tuple[str, str]]]] = {
    "connections.connection": _connections,
    "auth.user": _users,
}


def kind_label(object_type: str) -> str:
    """The model's verbose name ("Flow version"), or the stored type when no model has it."""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return object_type or "—"
    name = str(model._meta.verbose_name)
    return name[:1].upper() + name[1:]


def describe(entries) -> dict[int, ObjectRef]:
    """{entry.pk: ObjectRef} for a page of audit entries."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        if entry.object_type in PAGES and entry.object_id.isdigit():
            wanted[entry.object_type].add(int(entry.object_id))
    found = {object_type: PAGES[object_type](ids) for object_type, ids in wanted.items()}
    refs = {}
    for entry in entries:
        kind = kind_label(entry.object_type)
        current = found.get(entry.object_type, {}).get(entry.object_id)
        if current:
            refs[entry.pk] = ObjectRef(kind, current[0], current[1])
        else:
            name = entry.object_repr or (f"#{entry.object_id}" if entry.object_id else "")
            refs[entry.pk] = ObjectRef(kind, name, None, gone=entry.object_type in PAGES)
    return refs


def type_choices(object_types: Iterable[str]) -> list[tuple[str, str]]:
    """Choices for the object type filter: the stored type, shown by its readable name."""
    return sorted(((t, kind_label(t)) for t in object_types if t), key=lambda choice: choice[1])
