"""The one retry backoff policy, for deliveries, runs and batch chunks alike.

After the n-th consecutive failure (n = 1 for the first) the next attempt waits

    ceiling = min(cap, base * 2 ** (n - 1))
    delay   = uniform(ceiling / 2, ceiling)      # "equal jitter"
    delay   = max(delay, retry_after)            # never sooner than the target asked

Equal jitter rather than full jitter (uniform from zero): retries of many rows that failed
together are still spread out, but no retry comes back almost at once, which after a
timeout would hit a target that may still be working on the first request.
A Retry-After is honoured even above the cap: the target said when it can take the request.

`base` and `cap` come from settings (SWITCHBOARD_BACKOFF_BASE_SECONDS, default 2 s, and
SWITCHBOARD_BACKOFF_CAP_SECONDS, default 600 s) unless a caller passes its own.
Kernel module: imports no app.
"""

import random
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

DEFAULT_BASE_SECONDS = 2.0
DEFAULT_CAP_SECONDS = 600.0
_MAX_EXPONENT = 62  # 2 ** 62 * any sane base is far above any cap: no float overflow


def base_seconds() -> float:
    return float(getattr(settings, "SWITCHBOARD_BACKOFF_BASE_SECONDS", DEFAULT_BASE_SECONDS))


def cap_seconds() -> float:
    return float(getattr(settings, "SWITCHBOARD_BACKOFF_CAP_SECONDS", DEFAULT_CAP_SECONDS))


def ceiling_seconds(failures: int, *, base: float | None = None, cap: float | None = None) -> float:
    """The longest wait after `failures` consecutive failures, before jitter."""
    base = base_seconds() if base is None else base
    cap = cap_seconds() if cap is None else cap
    exponent = min(max(0, failures - 1), _MAX_EXPONENT)
    return max(0.0, min(cap, base * 2**exponent))


def delay_seconds(
    failures: int,
    *,
    retry_after: float | None = None,
    base: float | None = None,
    cap: float | None = None,
) -> float:
    """Seconds until the next attempt after `failures` consecutive failures (1 = the first)."""
    ceiling = ceiling_seconds(failures, base=base, cap=cap)
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


def next_attempt_at(
    failures: int,
    *,
    retry_after: float | None = None,
    now: datetime | None = None,
    base: float | None = None,
    cap: float | None = None,
) -> datetime:
    """When the next attempt is due: `now` (default: the current time) plus `delay_seconds`."""
    delay = delay_seconds(failures, retry_after=retry_after, base=base, cap=cap)
    return (now or timezone.now()) + timedelta(seconds=delay)
