"""HubSpot batch answers, record by record, and the CRM search API's own pace.

`POST /crm/v3/objects/<type>/batch/upsert` may answer 207 Multi-Status: the inputs that were
written are in `results`, each one that was not is an entry of `errors` (`status`,
`category`, `message`, `context`, per-property `errors`), counted in `numErrors`
(https://developers.hubspot.com/docs/api-reference/error-handling,
https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/batch/upsert-contacts).
Each failed input becomes its own ConnectorError, so the run opens one exception per record
(the runs app's `open_item_exceptions` takes `failures()` as it is).

The search endpoints have a lower limit than the rest of the API, four requests per second
(https://developers.hubspot.com/changelog/crm-search-api-rate-limit-increase): `SearchPace`
spaces this process's searches so a poll does not spend its turns on 429s.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from integrations.connectors.base import WriteResult
from integrations.connectors.errors import ConnectorError

SEARCHES_PER_SECOND = 4


@dataclass
class BatchUpsert:
    """What a batch upsert did, by the external id of each input."""

    results: dict[str, WriteResult] = field(default_factory=dict)
    errors: dict[str, ConnectorError] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)  # the property each error names, if any

    def failures(self, originals: dict[str, Any], step_id: str = "") -> list[tuple[str, Any, dict[str, Any]]]:
        """(item, original input, error) per failed record, the shape batch runs open exceptions from."""
        return [
            (f"record:{external_id}", originals.get(external_id),
             {"step_id": step_id, "kind": "delivery", "classification": error.kind, "message": error.message,
              "field": self.fields.get(external_id, "")})
            for external_id, error in self.errors.items()
        ]  # fmt: skip


def record_error(entry: dict[str, Any], status: int) -> tuple[str, ConnectorError, str]:
    """(the input's id, its own error, the property it names) from one entry of a 207 answer."""
    context: dict[str, Any] = entry["context"] if isinstance(entry.get("context"), dict) else {}
    ids = context.get("id") or context.get("ids") or []
    external_id = str(ids[0]) if isinstance(ids, list) and ids else str(entry.get("id") or "")
    details = [e for e in entry.get("errors") or [] if isinstance(e, dict)]
    prop = next(filter(None, (_property_of(d) for d in details)), "")
    category = str(entry.get("category") or "BATCH_ERROR")
    message = f"{category}: {entry.get('message') or 'input not written'}"
    error = ConnectorError(f"HTTP {status}: {message}", kind="permanent", status_code=status, vendor_code=category)
    return external_id, error, prop


def _property_of(detail: dict[str, Any]) -> str:
    """The property a per-property error names (`context.propertyName`, or `name` / `in`)."""
    context: dict[str, Any] = detail["context"] if isinstance(detail.get("context"), dict) else {}
    names = context.get("propertyName") or []
    if isinstance(names, list) and names:
        return str(names[0])
    return str(detail.get("name") or detail.get("in") or "")


class SearchPace:
    """At most SEARCHES_PER_SECOND searches per second from this process, per account token."""

    _lock = threading.Lock()
    _recent: dict[str, deque[float]] = {}

    @classmethod
    def wait(cls, account: str) -> None:
        while True:
            with cls._lock:
                now = time.monotonic()
                recent = cls._recent.setdefault(account, deque())
                while recent and now - recent[0] >= 1.0:
                    recent.popleft()
                if len(recent) < SEARCHES_PER_SECOND:
                    recent.append(now)
                    return
                pause = 1.0 - (now - recent[0])
            time.sleep(max(pause, 0.01))
