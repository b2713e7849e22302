"""Helpers for the pure engine tests: a recording Effects fake and a definition builder."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.engine import PENDING, ApprovalDecision, DeliveryResult, EffectError


class FakeEffects:
    """Effects with scripted answers; records every call so tests can assert on them."""

    def __init__(self, **answers: Any):
        self.answers = answers
        self.calls: list[tuple[str, Any]] = []
        self.links: dict[tuple[str, str, str], str] = answers.get("links", {})

    def _answer(self, name: str, default: Any) -> Any:
        value = self.answers.get(name, default)
        if isinstance(value, Exception):
            raise value
        return value(*self.calls[-1][1]) if callable(value) else value

    def lookup(self, step, request):
        self.calls.append(("lookup", (step, request)))
        return self._answer("lookup", None)

    def crosswalk(self, object, system, external_id):
        self.calls.append(("crosswalk", (object, system, external_id)))
        return self.links.get((object, system, external_id))

    def deliver(self, step, request):
        self.calls.append(("deliver", (step, request)))
        return self._answer("deliver", DeliveryResult("succeeded", f"R-{request.key}"))

    def approve(self, step, request):
        self.calls.append(("approve", (step, request)))
        return self._answer("approve", PENDING)

    def batch(self, step, group_key, record):
        self.calls.append(("batch", (step, group_key, record)))
        return self._answer("batch", PENDING)

    def called(self, name: str) -> list[Any]:
        return [args for call, args in self.calls if call == name]


def flow(*steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"trigger": {"type": "manual"}, "steps": list(steps), **extra}


def map_step(*fields: dict[str, Any], step_id: str = "m", **extra: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "map", "fields": list(fields), **extra}


@pytest.fixture
def effects() -> FakeEffects:
    return FakeEffects()


__all__ = ["ApprovalDecision", "EffectError", "FakeEffects", "flow", "map_step"]
