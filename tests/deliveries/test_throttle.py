"""Throttle: the database limiter (embedded default) and the Redis one behave alike."""

import time

import pytest
from reliability.harness import make_connection

from integrations.deliveries.throttle import DatabaseThrottle, Permit, RedisThrottle, interval_bound


def grants(throttle, connection, tries: int) -> list:
    return [throttle.acquire(connection) for _ in range(tries)]


def check_limits(throttle, erp):
    erp.rate_limit_requests, erp.rate_limit_interval_seconds, erp.max_concurrency = 20, 10, 50
    erp.save()
    answers = grants(throttle, erp, 5)
    granted = [a for a in answers if isinstance(a, Permit)]
    assert len(granted) == 2  # burst = a tenth of the limit
    wait = next(a for a in answers if not isinstance(a, Permit))
    assert 0 < wait <= 0.5 + 1e-6  # one token per half second
    time.sleep(0.6)
    granted.append(throttle.acquire(erp))
    assert isinstance(granted[-1], Permit)
    for permit in granted:
        throttle.release(permit)


def check_concurrency(throttle, erp):
    erp.rate_limit_requests, erp.max_concurrency = None, 2
    erp.save()
    first, second, third = grants(throttle, erp, 3)
    assert isinstance(first, Permit) and isinstance(second, Permit) and not isinstance(third, Permit)
    throttle.release(first)
    assert isinstance(throttle.acquire(erp), Permit)


def test_database_throttle(erp):
    check_limits(DatabaseThrottle(), erp)
    check_concurrency(DatabaseThrottle(), erp)


@pytest.mark.redis
def test_redis_throttle(erp, simulator):
    import os

    import redis

    url = os.environ["REDIS_URL"]
    redis.Redis.from_url(url).delete(f"sb:throttle:{erp.pk}:bucket", f"sb:throttle:{erp.pk}:slots")
    check_limits(RedisThrottle(url), erp)
    check_concurrency(RedisThrottle(url), erp)


def test_interval_bound(simulator, db):
    erp = make_connection(simulator, rate_limit_requests=20)
    assert interval_bound(erp) == 22
