"""Ownership enforced where a deliver step's write becomes a delivery.

`hold_back_non_owner_changes` is called by the runtime (integrations/runs/effects.py) with
the run and the step's DeliveryRequest. When the run's flow declares `canonical` (its
object and source connection), each payload field is checked against the owner of the
canonical field it carries (`canonical_fields` on the step, else its own name):

- the source system owns it, or nobody does → written; an owner's value is remembered
  (OwnerValue) so a later conflict can show it;
- another system owns it and the value differs from the owner's last known value (or
  none is known) → **held back**: not written, and announced once through
  `hooks.ownership_conflict`, which opens one `conflict` exception for the run and step.

Returns the request to deliver (without the held-back fields), the request unchanged when
nothing applies, or None when every field was held back (nothing left to write)."""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from integrations.crosswalk import declaration, ownership
from integrations.crosswalk.hooks import ownership_conflict
from integrations.crosswalk.models import OwnerValue
from integrations.crosswalk.services import canonical_id
from integrations.crosswalk.systems import role_of


@dataclass(frozen=True)
class Conflict:
    field: str  # the payload field
    canonical_field: str
    owner: str  # the owning role, e.g. "hr"
    owner_value: Any
    owner_known: bool
    owner_system: str  # the connection the owner's value came from ('' when unknown)
    incoming: Any

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class HeldBack:
    object: str
    canonical_id: str | None
    source: str  # connection the change came from
    source_role: str
    target: str  # connection the write was for
    target_object: str
    action: str
    key: str
    external_id_field: str | None
    external_id: str | None
    conflicts: tuple[Conflict, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "conflicts"}
        return {**data, "conflicts": [c.as_dict() for c in self.conflicts]}


def hold_back_non_owner_changes(run, step_id: str, request, *, kind_of: Callable[[str], str]):
    """`run` needs `.flow_version.definition` and `.record`; `kind_of(connection name)` gives
    a connection's connector kind (the crosswalk cannot read connections itself)."""
    definition = run.flow_version.definition
    decl = declaration.declared(definition)
    if decl is None:
        return request
    link = declaration.link_of(definition, step_id)
    object = link[0] if link else decl.object
    source_id = declaration.value_at(link[1] if link else decl.id_path, run.record)
    canonical = canonical_id(object, decl.source, source_id) if source_id else None
    source_role = role_of(kind_of(decl.source)) or role_of(decl.source)
    names = declaration.canonical_field_map(definition, step_id)
    allowed, conflicts = _split(object, canonical, decl.source, source_role, request.payload, names)
    if not conflicts:
        return request
    held = HeldBack(
        object, canonical, decl.source, source_role, request.connection, request.object, request.action,
        request.key, request.external_id_field, request.external_id, tuple(conflicts),
    )  # fmt: skip
    ownership_conflict.send(run=run, step_id=step_id, held=held)
    return replace(request, payload=allowed) if _writes_something(allowed, request) else None


def _split(object, canonical, source, source_role, payload: dict, names: dict[str, str]):
    """(fields to write, conflicts); remembers the values the source owns."""
    owners = ownership.owners_of(object, [names.get(f, f) for f in payload])
    known = _known_values(object, canonical)
    allowed, conflicts = {}, []
    for name, value in payload.items():
        cf = names.get(name, name)
        owner = owners[cf]
        if not owner or owner == source_role:
            allowed[name] = value
            if owner and canonical:
                _remember(object, canonical, cf, value, source)
            continue
        prior = known.get(cf)
        if prior is not None and prior.value == value:
            allowed[name] = value  # no change to the owner's value: harmless to send
            continue
        conflicts.append(Conflict(name, cf, owner, prior.value if prior else None, prior is not None,
                                  prior.system if prior else "", value))  # fmt: skip
    return allowed, conflicts


def _known_values(object: str, canonical: str | None) -> dict[str, OwnerValue]:
    if not canonical:
        return {}
    return {v.field: v for v in OwnerValue.objects.filter(object=object, canonical_id=canonical)}


def _remember(object: str, canonical: str, field_name: str, value, system: str) -> None:
    OwnerValue.objects.update_or_create(
        object=object, canonical_id=canonical, field=field_name, defaults={"value": value, "system": system}
    )


def _writes_something(allowed: dict, request) -> bool:
    """Anything left besides the field the target matches on?"""
    return any(name != request.external_id_field for name in allowed)
