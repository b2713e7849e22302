"""Per-connection throttling that holds across every worker process (docs/RELIABILITY.md §7).

Two limits, checked together and atomically:
- a token bucket: `rate_limit_requests` per `rate_limit_interval_seconds`, bursts of at
  most a tenth of that (at least 1), so a burst never doubles the rate in one interval;
- a concurrency semaphore of `max_concurrency` leased slots: a slot whose holder died
  frees itself when its lease runs out.

Redis (one Lua script) when REDIS_URL is set; a database table otherwise. `acquire`
answers a `Permit`, or the seconds to wait before asking again.
"""

from __future__ import annotations

import contextlib
import math
import time
import uuid
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction

from integrations.deliveries import conf

if TYPE_CHECKING:
    from integrations.connections.models import Connection

SLOT_BUSY_WAIT = 0.05  # seconds to wait when every concurrency slot is taken


@dataclass(frozen=True)
class Limits:
    rate: float  # tokens per second; 0 = no rate limit
    burst: int
    concurrency: int

    @classmethod
    def of(cls, connection: Connection) -> Limits:
        requests = connection.rate_limit_requests or 0
        rate = requests / max(1, connection.rate_limit_interval_seconds) if requests else 0.0
        return cls(rate, max(1, requests // 10), max(1, connection.max_concurrency))


@dataclass(frozen=True)
class Permit:
    connection_id: int
    token: str


class ThrottleUnavailable(Exception):
    """The limiter's store cannot be reached; the caller defers the delivery."""


# KEYS: bucket, slots. ARGV: rate, burst, concurrency, slot token, slot lease seconds.
ACQUIRE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then
  return {0, ARGV[6]}
end
local rate = tonumber(ARGV[1])
if rate > 0 then
  local burst = tonumber(ARGV[2])
  local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
  local tokens = tonumber(b[1]) or burst
  local ts = tonumber(b[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
  if tokens < 1 then
    redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
    return {0, tostring((1 - tokens) / rate)}
  end
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'ts', tostring(now))
  redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[5]), ARGV[4])
redis.call('EXPIRE', KEYS[2], math.ceil(tonumber(ARGV[5])) + 60)
return {1, '0'}
"""


class RedisThrottle:
    def __init__(self, url: str):
        import redis

        self.errors = (redis.RedisError, OSError)
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.script = self.client.register_script(ACQUIRE_LUA)

    def acquire(self, connection: Connection) -> Permit | float:
        limits, token = Limits.of(connection), uuid.uuid4().hex
        keys = [f"sb:throttle:{connection.pk}:bucket", f"sb:throttle:{connection.pk}:slots"]
        args: list[str | int | float] = [
            limits.rate,
            limits.burst,
            limits.concurrency,
            token,
            conf.lease_seconds(),
            SLOT_BUSY_WAIT,
        ]
        try:
            granted, wait = self.script(keys=keys, args=args)
        except self.errors as exc:
            raise ThrottleUnavailable(str(exc)) from exc
        return Permit(connection.pk, token) if granted else float(wait)

    def release(self, permit: Permit) -> None:
        with contextlib.suppress(*self.errors):  # if not, the slot's lease frees it
            self.client.zrem(f"sb:throttle:{permit.connection_id}:slots", permit.token)


class DatabaseThrottle:
    """The same limits in two tables, serialised by a row lock on the bucket."""

    def acquire(self, connection: Connection) -> Permit | float:
        from integrations.deliveries.models import ThrottleBucket, ThrottleSlot

        limits, now = Limits.of(connection), time.time()
        with transaction.atomic():
            bucket, _ = ThrottleBucket.objects.select_for_update().get_or_create(
                connection_id=connection.pk, defaults={"tokens": limits.burst, "refilled_at": now}
            )
            slots = ThrottleSlot.objects.filter(connection_id=connection.pk)
            slots.filter(expires_at__lt=now).delete()
            if slots.count() >= limits.concurrency:
                return SLOT_BUSY_WAIT
            if limits.rate > 0:
                tokens = min(limits.burst, bucket.tokens + max(0.0, now - bucket.refilled_at) * limits.rate)
                bucket.tokens, bucket.refilled_at = tokens, now
                if tokens < 1:
                    bucket.save(update_fields=["tokens", "refilled_at"])
                    return (1 - tokens) / limits.rate
                bucket.tokens = tokens - 1
                bucket.save(update_fields=["tokens", "refilled_at"])
            token = uuid.uuid4().hex
            ThrottleSlot.objects.create(connection_id=connection.pk, token=token, expires_at=now + conf.lease_seconds())
        return Permit(connection.pk, token)

    def release(self, permit: Permit) -> None:
        from integrations.deliveries.models import ThrottleSlot

        ThrottleSlot.objects.filter(token=permit.token).delete()


@cache
def _throttle_for(redis_url: str) -> RedisThrottle | DatabaseThrottle:
    return RedisThrottle(redis_url) if redis_url else DatabaseThrottle()


def get_throttle() -> RedisThrottle | DatabaseThrottle:
    return _throttle_for(getattr(settings, "REDIS_URL", "") or "")


def interval_bound(connection: Connection) -> int:
    """The most requests any one interval can see under these limits (for tests and docs)."""
    limits = Limits.of(connection)
    return math.ceil(limits.burst + limits.rate * connection.rate_limit_interval_seconds)
