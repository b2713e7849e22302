"""What the HubSpot sandbox's search endpoint adds to the account's usual limits.

- Its own, lower rate limit per account: the CRM search API allows four requests per second
  (https://developers.hubspot.com/changelog/crm-search-api-rate-limit-increase, restated in
  https://developers.hubspot.com/changelog/burst-limits-are-increasing-for-api-key-authenticated-calls);
  over it, 429 with HubSpot's throttle body and the SECONDLY policy
  [unverified: the policy name a search throttle carries].
- An indexing delay: a created or changed object shows up in search results only a few
  moments later (https://developers.hubspot.com/docs/guides/api/crm/search); the sandbox
  leaves objects modified in the last `SWITCHBOARD_SANDBOX_HUBSPOT_SEARCH_LAG` seconds
  (default 2) out of every search.
The window is one second; `SWITCHBOARD_SANDBOX_HUBSPOT_SEARCH_WINDOW` widens it for tests on a
slow machine (four searches per window either way).
"""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError
from django.db.models import F

from integrations.sandboxes.models import SandboxCounter

SEARCH_PER_SECOND = 4
DEFAULT_LAG_SECONDS = 2.0
_COUNTER = "hubspot:search"


def over_limit() -> bool:
    """Count this search in its one-second window; True when it is one too many."""
    window = int(getattr(settings, "SWITCHBOARD_SANDBOX_HUBSPOT_SEARCH_WINDOW", 1))
    start = int(time.time() // window) * window
    with contextlib.suppress(IntegrityError):  # another process created the window first
        SandboxCounter.objects.get_or_create(vendor=_COUNTER, window_start=start)
    SandboxCounter.objects.filter(vendor=_COUNTER, window_start=start).update(count=F("count") + 1)
    SandboxCounter.objects.filter(vendor=_COUNTER, window_start__lt=start - 5 * window).delete()
    return SandboxCounter.objects.get(vendor=_COUNTER, window_start=start).count > SEARCH_PER_SECOND


def lag_seconds() -> float:
    return float(getattr(settings, "SWITCHBOARD_SANDBOX_HUBSPOT_SEARCH_LAG", DEFAULT_LAG_SECONDS))


def indexed(updated_at: str, *, now: float | None = None) -> bool:
    """Has the search index caught up with a change made at `updated_at` (ISO)?"""
    try:
        moment = datetime.fromisoformat(updated_at.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return True
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp() <= (now if now is not None else time.time()) - lag_seconds()
