"""Pinned samples: save, change the expected output, delete. Each change is audited in the
same transaction; bad input raises SampleInvalid naming the field, and nothing is written."""

import json

from django.db import IntegrityError, transaction

from integrations.audit import services as audit
from integrations.flowtests.models import Sample

MAX_SAMPLE_BYTES = 1_000_000  # a sample is a record to look at, not a data load


class SampleInvalid(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def clean_name(name) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise SampleInvalid("name", "give the sample a name")
    if len(name) > 100:
        raise SampleInvalid("name", "at most 100 characters")
    if any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in name):
        raise SampleInvalid("name", "control characters are not allowed")
    return name


def check_json(field: str, value, *, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if not isinstance(value, dict):
        raise SampleInvalid(field, "must be a JSON object")
    if len(json.dumps(value, default=str)) > MAX_SAMPLE_BYTES:
        raise SampleInvalid(field, f"larger than {MAX_SAMPLE_BYTES:,} bytes")
    return value


def _snapshot(sample: Sample) -> dict:
    return {"name": sample.name, "record": sample.record, "expected": sample.expected, "source": sample.source}


def pin(flow, user, *, name, record, expected=None, source: str = "") -> Sample:
    """A new named sample of the flow."""
    name = clean_name(name)
    sample = Sample(
        flow=flow,
        name=name,
        record=check_json("record", record),
        expected=check_json("expected", expected, allow_none=True),
        source=str(source)[:200],
        created_by=user if getattr(user, "pk", None) else None,
    )
    try:
        with transaction.atomic():
            sample.save()
            audit.record(user, "flow.sample.pin", sample, after=_snapshot(sample))
    except IntegrityError as exc:
        raise SampleInvalid("name", f"this flow already has a sample named '{name}'") from exc
    return sample


@transaction.atomic
def update(sample: Sample, user, **fields) -> Sample:
    """name, record, expected (None = no longer a regression sample)."""
    before = _snapshot(sample)
    if "name" in fields:
        fields["name"] = clean_name(fields["name"])
        if sample.flow.samples.exclude(pk=sample.pk).filter(name=fields["name"]).exists():
            raise SampleInvalid("name", f"this flow already has a sample named '{fields['name']}'")
    if "record" in fields:
        check_json("record", fields["record"])
    if "expected" in fields:
        check_json("expected", fields["expected"], allow_none=True)
    for key, value in fields.items():
        setattr(sample, key, value)
    sample.save()
    audit.record(user, "flow.sample.update", sample, before=before, after=_snapshot(sample))
    return sample


@transaction.atomic
def delete(sample: Sample, user) -> None:
    audit.record(user, "flow.sample.delete", sample, before=_snapshot(sample))
    sample.delete()
