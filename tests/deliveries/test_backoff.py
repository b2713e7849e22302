"""The one retry backoff policy (integrations/backoff.py): exponential, jittered, capped,
never sooner than Retry-After, read from settings."""

from datetime import UTC, datetime, timedelta

from integrations import backoff


def test_grows_exponentially_within_equal_jitter_bounds():
    for failures, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (5, 32.0)]:
        delays = [backoff.delay_seconds(failures, base=2.0, cap=600.0) for _ in range(200)]
        assert min(delays) >= ceiling / 2 and max(delays) <= ceiling
        assert len(set(delays)) > 1, "no jitter"


def test_capped_even_after_very_many_failures():
    assert backoff.delay_seconds(10_000, base=2.0, cap=60.0) <= 60.0
    assert backoff.ceiling_seconds(10_000, base=2.0, cap=60.0) == 60.0


def test_retry_after_wins_even_above_the_cap():
    assert backoff.delay_seconds(1, retry_after=90.0, base=2.0, cap=60.0) == 90.0
    assert backoff.delay_seconds(1, retry_after=0.5, base=2.0, cap=60.0) >= 1.0


def test_reads_base_and_cap_from_settings(settings):
    settings.SWITCHBOARD_BACKOFF_BASE_SECONDS = 10.0
    settings.SWITCHBOARD_BACKOFF_CAP_SECONDS = 15.0
    assert 5.0 <= backoff.delay_seconds(1) <= 10.0
    assert 7.5 <= backoff.delay_seconds(4) <= 15.0


def test_next_attempt_at_adds_the_delay_to_now():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    due = backoff.next_attempt_at(2, now=now, base=1.0, cap=10.0)
    assert now + timedelta(seconds=1) <= due <= now + timedelta(seconds=2)
