"""Hypothesis state machine over the ledger (scenario R17, docs/RELIABILITY.md §12): claim, succeed, fail, lease
expiry (sweeper), worker loss (claim over an expired lease), retry and edit of dead rows,
checked step by step against a plain model of the same rules.

Invariants: at most one successful record per key, ever; a result is recorded only with the
current fence of an in-flight claim (a stale fence changes nothing); fences only grow; every
DEAD row can be retried; the database agrees with the model after every step."""

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from integrations.connections.models import Connection
from integrations.deliveries import conf, ledger
from integrations.deliveries.choices import DUE_STATES, DeliveryState
from integrations.deliveries.models import Delivery
from integrations.deliveries.services import DeliveryConflict, request_delivery, retry_delivery

KEYS = ("a", "b")
_examples = itertools.count()


@dataclass
class Model:
    pk: int
    state: str = DeliveryState.PENDING
    fence: int = 0
    attempts: int = 0
    losses: int = 0
    lease_until: datetime | None = None
    next_at: datetime | None = None
    successes: int = 0
    sends_with_stale_fence: int = 0
    suffixes: list = field(default_factory=list)


class LedgerMachine(RuleBasedStateMachine):
    connection: Connection = None  # set by the test
    claims = Bundle("claims")

    @initialize()
    def start(self):
        self.now = timezone.now() + timedelta(hours=1)  # ahead of the wall clock retries use
        self.lease = timedelta(seconds=conf.lease_seconds())
        run = next(_examples)
        self.rows: dict[str, Model] = {}
        for key in KEYS:
            delivery = request_delivery(
                run=None,
                step_id="post",
                connection=self.connection,
                object="postings",
                action="create",
                key=f"m{run}:{key}",
                payload={"n": 1},
                external_id_field="external_ref",
                external_id=f"m{run}:{key}",
                enqueue=False,
            )
            self.rows[key] = Model(delivery.pk, next_at=delivery.next_attempt_at)

    def _due(self, m: Model) -> bool:
        if m.state in DUE_STATES:
            return m.next_at <= self.now
        return m.state == DeliveryState.IN_FLIGHT and m.lease_until < self.now

    @rule(target=claims, key=st.sampled_from(KEYS))
    def claim(self, key):
        m = self.rows[key]
        due, taking_over = self._due(m), m.state == DeliveryState.IN_FLIGHT
        got = ledger.claim(m.pk, now=self.now)
        if not due:
            assert got is None
            return (key, -1)
        m.fence += 1
        m.attempts += 1
        m.losses += 1 if taking_over else 0
        if m.losses >= conf.MAX_WORKER_LOSSES:
            assert got is None, "a poison row ran a fourth time"
            m.state, m.lease_until = DeliveryState.DEAD, None
            return (key, -1)
        assert got is not None and got.fence == m.fence
        m.state, m.lease_until = DeliveryState.IN_FLIGHT, self.now + self.lease
        return (key, got.fence)

    def _finish(self, held, **fields) -> bool:
        key, fence = held
        m = self.rows[key]
        valid = fence == m.fence and m.state == DeliveryState.IN_FLIGHT
        done = ledger.finish(m.pk, fence, **fields)
        assert done == valid, "a stale fence recorded a result (or a valid one was refused)"
        if done:
            m.lease_until = None
        return done

    @rule(held=claims)
    def succeed(self, held):
        if self._finish(held, state=DeliveryState.SUCCEEDED, remote_id="R"):
            m = self.rows[held[0]]
            m.state, m.successes = DeliveryState.SUCCEEDED, m.successes + 1

    @rule(held=claims, delay=st.sampled_from([0, 5, 120]))
    def fail_transient(self, held, delay):
        next_at = self.now + timedelta(seconds=delay)
        if self._finish(held, state=DeliveryState.FAILED_RETRYABLE, next_attempt_at=next_at):
            m = self.rows[held[0]]
            m.state, m.next_at = DeliveryState.FAILED_RETRYABLE, next_at

    @rule(held=claims)
    def fail_permanent(self, held):
        if self._finish(held, state=DeliveryState.DEAD, last_error="422"):
            self.rows[held[0]].state = DeliveryState.DEAD

    @rule(seconds=st.sampled_from([1, 30, 700]))
    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)

    @rule()
    def sweep(self):
        ledger.expire_leases(self.now)
        for m in self.rows.values():
            if m.state == DeliveryState.IN_FLIGHT and m.lease_until < self.now:
                m.losses += 1
                m.lease_until = None
                if m.losses >= conf.MAX_WORKER_LOSSES:
                    m.state = DeliveryState.DEAD
                else:
                    m.state, m.next_at = DeliveryState.PENDING, self.now

    @rule(key=st.sampled_from(KEYS), edit=st.booleans())
    def retry(self, key, edit):
        m = self.rows[key]
        payload = {"n": len(m.suffixes) + 2} if edit else None
        try:
            after = retry_delivery(Delivery.objects.get(pk=m.pk), payload=payload, actor="machine")
        except DeliveryConflict:
            assert m.state != DeliveryState.DEAD, "a DEAD row could not be retried"
            return
        assert m.state == DeliveryState.DEAD, f"retry accepted from {m.state}"
        m.state, m.attempts, m.losses, m.next_at = DeliveryState.PENDING, 0, 0, after.next_attempt_at
        if edit:
            assert after.send_key == f"{after.idempotency_key}:{after.key_suffix}"
            assert after.key_suffix not in m.suffixes, "an edited payload reused an idempotency key"
            m.suffixes.append(after.key_suffix)

    @invariant()
    def database_agrees_with_model(self):
        if not hasattr(self, "rows"):
            return
        for key, m in self.rows.items():
            row = Delivery.objects.get(pk=m.pk)
            assert (row.state, row.fence, row.attempts, row.worker_losses) == (
                m.state,
                m.fence,
                m.attempts,
                m.losses,
            ), key
            assert m.successes <= 1, "two successful records for one key"


@pytest.mark.django_db
def test_ledger_state_machine():
    LedgerMachine.connection = Connection.objects.create(
        name="machine", kind="generic_rest", base_url="https://erp.example.com"
    )
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
