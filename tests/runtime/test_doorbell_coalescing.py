"""Coalesced doorbells (integrations/runs/doorbell.py, docs/RELIABILITY.md §3): a run rings
only if no message of its lane is waiting, and whatever rang while one waited is taken by
that message's claim — no run is left for the dispatcher's redispatch interval.

The messages are recorded instead of sent; the lane's mark is the real one, in Redis."""

import pytest
import redis
from django.utils import timezone

from integrations.events.services import ingest_event
from integrations.flows.services import create_flow, publish
from integrations.runs import claims, doorbell, tasks, worker
from integrations.runs.choices import RunStatus, Trigger
from integrations.runs.dispatch import dispatch_due
from integrations.runs.models import Run
from integrations.runs.services import create_run
from tests.runtime.lane_driver import FLOW

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

LANES = ("default", "bulk")


@pytest.fixture
def marks(settings):
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = [doorbell.PENDING_KEY.format(lane=lane) for lane in LANES]
    client.delete(*keys)
    yield client
    client.delete(*keys)


@pytest.fixture
def messages(monkeypatch, marks):
    """The run messages that would have been sent: (ids, lane) each."""
    sent: list[tuple[list[int], str]] = []

    def send(task, args, **options):
        assert task == doorbell.EXECUTE_RUNS and options["queue"] == args[1]
        sent.append((list(args[0]), args[1]))

    monkeypatch.setattr(doorbell, "_send", send)
    return sent


@pytest.fixture
def version(db):
    return publish(create_flow("system:test", key="invoices", name="Invoices", definition=FLOW), "system:test")


def event(ref: str):
    return ingest_event(source="crm", type="invoice.approved", external_id=ref, payload={"id": ref, "amount": 1})


def ingest(django_capture_on_commit_callbacks, refs) -> list[int]:
    ids = []
    for ref in refs:
        with django_capture_on_commit_callbacks(execute=True):  # the ring happens as after a real commit
            ids += [run.pk for run in event(ref).runs]
    return ids


def deliver(message) -> int:
    ids, lane = message
    return tasks.execute_runs.apply(args=(ids, lane)).get()


def test_events_that_arrive_while_a_doorbell_waits_send_nothing_and_are_all_taken_by_it(
    version, messages, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(worker, "batch_limit", lambda: 50)
    ids = ingest(django_capture_on_commit_callbacks, [f"e{i}" for i in range(6)])
    assert messages == [([ids[0]], "default")]  # one message; five rings coalesced onto it
    # Every run is marked enqueued (with its row): the dispatcher leaves them to the message.
    assert not Run.objects.filter(pk__in=ids, enqueued_at__isnull=True).exists()
    assert dispatch_due() == 0
    assert deliver(messages[0]) == 6
    assert set(Run.objects.filter(pk__in=ids).values_list("status", flat=True)) == {RunStatus.SUCCEEDED}
    # Answered: the next event rings again.
    [late] = ingest(django_capture_on_commit_callbacks, ["e-late"])
    assert messages[1:] == [([late], "default")]


def test_a_full_batch_rings_again_for_the_runs_coalesced_behind_it(
    version, messages, monkeypatch, django_capture_on_commit_callbacks
):
    ids = ingest(django_capture_on_commit_callbacks, [f"p{i}" for i in range(12)])
    monkeypatch.setattr(worker, "batch_limit", lambda: 5)  # a batch sized by time takes five
    assert len(messages) == 1
    assert deliver(messages[0]) == 5
    assert len(messages) == 2 and messages[1][1] == "default"  # full: rung again, though it named none left
    assert deliver(messages[1]) == 5
    assert len(messages) == 3
    assert deliver(messages[2]) == 2  # not full: nothing behind it, no message more
    assert len(messages) == 3
    assert Run.objects.filter(pk__in=ids, status=RunStatus.SUCCEEDED).count() == 12


def test_a_backlog_larger_than_a_batch_rings_for_the_next_batch_before_this_one_runs(
    version, messages, monkeypatch, django_capture_on_commit_callbacks
):
    """So another worker process starts on the rest at once, instead of one batch after another."""
    ingest(django_capture_on_commit_callbacks, [f"b{i}" for i in range(8)])
    monkeypatch.setattr(worker, "batch_limit", lambda: 5)
    rung_when_running = []
    run_through = worker.run_through

    def noting(runs, **kw):
        rung_when_running.append(len(messages))
        return run_through(runs, **kw)

    monkeypatch.setattr(worker, "run_through", noting)
    assert deliver(messages[0]) == 5
    assert rung_when_running == [2]  # the next message was out before the batch ran
    assert len(messages) == 2  # and the full batch's own ring found it waiting: nothing more


def test_a_message_whose_own_runs_were_taken_still_claims_those_rung_behind_it(
    version, messages, django_capture_on_commit_callbacks
):
    first, *behind = ingest(django_capture_on_commit_callbacks, ["a", "b", "c"])
    claims.claim_ids([first])  # an earlier batch took the run it names
    assert deliver(messages[0]) == 2
    assert Run.objects.filter(pk__in=behind, status=RunStatus.SUCCEEDED).count() == 2


def test_a_run_committed_after_the_worker_answered_rings_again(
    version, messages, monkeypatch, django_capture_on_commit_callbacks
):
    """The worker deletes the mark before it claims: a run that commits in between is either
    seen by that claim or rings a message of its own — here the latter, the claim having
    been taken before the run existed."""
    ingest(django_capture_on_commit_callbacks, ["x"])
    claim_batch = claims.claim_batch
    late = []

    def claim_then_an_event_arrives(lane, limit=None, **kw):
        runs = claim_batch(lane, limit, **kw)
        late.extend(ingest(django_capture_on_commit_callbacks, ["y"]))
        return runs

    monkeypatch.setattr(claims, "claim_batch", claim_then_an_event_arrives)
    assert deliver(messages[0]) == 1
    assert messages[1] == (late, "default")


def test_a_message_that_cannot_be_sent_clears_the_mark_and_leaves_its_run_to_the_dispatcher(
    version, messages, marks, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(task, args, **options):
        raise ConnectionError("broker down")

    monkeypatch.setattr(doorbell, "_send", broker_down)
    [run_id] = ingest(django_capture_on_commit_callbacks, ["down"])
    assert not marks.exists(doorbell.PENDING_KEY.format(lane="default"))  # nothing waits for it
    assert Run.objects.get(pk=run_id).enqueued_at is None  # cleared: due at the dispatcher's next pass
    monkeypatch.undo()
    monkeypatch.setattr(doorbell, "_send", lambda task, args, **options: messages.append((list(args[0]), args[1])))
    [after] = ingest(django_capture_on_commit_callbacks, ["up"])
    assert messages == [([after], "default")]  # the next ring sends: the mark was not left behind
    assert dispatch_due() == 1 and messages[-1] == ([run_id], "default")


def test_the_dispatcher_sends_even_while_a_mark_is_set(version, messages, marks):
    """The run it finds may be one whose message was lost: it does not trust the mark."""
    run = create_run(version, trigger=Trigger.MANUAL, record={"id": "m", "amount": 1})
    Run.objects.filter(pk=run.pk).update(enqueued_at=None)  # its ring was lost
    marks.set(doorbell.PENDING_KEY.format(lane="default"), 1, ex=doorbell.PENDING_SECONDS)
    assert dispatch_due() == 1
    assert messages == [([run.pk], "default")]
    assert Run.objects.get(pk=run.pk).enqueued_at is not None


def test_runs_of_another_lane_ring_their_own_lane(version, messages, django_capture_on_commit_callbacks):
    [event_run] = ingest(django_capture_on_commit_callbacks, ["ev"])
    with django_capture_on_commit_callbacks(execute=True):
        polled = create_run(version, trigger=Trigger.POLL, record={"id": "p", "amount": 1})
    assert messages == [([event_run], "default"), ([polled.pk], "bulk")]


@pytest.mark.parametrize("setup", ["embedded", "switched off"])
def test_without_marks_every_ring_sends(version, messages, settings, setup, django_capture_on_commit_callbacks):
    if setup == "embedded":
        settings.REDIS_URL = ""  # filesystem broker, no mark to share
    else:
        settings.SWITCHBOARD_COALESCE_DOORBELLS = False
    ids = ingest(django_capture_on_commit_callbacks, ["f1", "f2"])
    assert messages == [([ids[0]], "default"), ([ids[1]], "default")]


def test_a_worker_that_died_after_answering_leaves_its_runs_to_the_dispatcher(
    version, messages, settings, django_capture_on_commit_callbacks
):
    """The safety net: the runs are queued and marked enqueued, and once the redispatch
    interval has passed the dispatcher sends them again."""
    ids = ingest(django_capture_on_commit_callbacks, ["d1", "d2"])
    doorbell.answered("default")  # the message was taken, and its worker died before claiming
    later = timezone.now() + timezone.timedelta(seconds=120)
    assert dispatch_due(now=later) == 2
    assert messages[-1] == (ids, "default")


class Received:
    """What Celery's task_received signal carries: the request of a message a worker took."""

    def __init__(self, name, args, kwargs=None):
        self.name, self.args, self.kwargs = name, args, kwargs or {}


def test_a_worker_answers_a_doorbell_as_it_takes_the_message_not_only_when_it_starts_it(
    version, messages, marks, django_capture_on_commit_callbacks
):
    """A message that goes back to the broker unstarted (a stopping worker hands back what it
    had reserved) must not hold back the runs that ring after it was taken."""
    [first] = ingest(django_capture_on_commit_callbacks, ["r1"])
    tasks.answer_on_receipt(request=Received("integrations.health.tasks.heartbeat", []))
    tasks.answer_on_receipt(request=Received(doorbell.EXECUTE_RUNS, [[first], "bulk"]))
    assert marks.exists(doorbell.PENDING_KEY.format(lane="default"))  # another task, another lane: kept
    tasks.answer_on_receipt(request=Received(doorbell.EXECUTE_RUNS, [[first], "default"]))
    [second] = ingest(django_capture_on_commit_callbacks, ["r2"])
    assert messages == [([first], "default"), ([second], "default")]
