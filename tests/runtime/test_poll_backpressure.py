"""Backpressure at the source: a poll that finds many records queues them a few pages at a
time, as the flow's backlog drains, never all at once; the backlog per flow is readable."""

import pytest

from integrations.flows.models import Watermark
from integrations.runs.choices import RunStatus
from integrations.runs.models import Run
from integrations.runs.services import execute_run
from integrations.triggers import backlog, polls
from integrations.triggers.polls import poll, resume_paused
from tests.runtime.test_polls import polled, source  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def rung(monkeypatch):
    """Poll messages the resumer sends (flow ids)."""
    sent = []

    class App:
        def send_task(self, name, args, queue):
            # A resumption goes ahead of the bulk runs its earlier pages queued.
            assert (name, queue) == ("integrations.flows.tasks.poll_flow", "default")
            sent.append(args[0])

    monkeypatch.setattr(polls, "current_app", App())
    return sent


@pytest.fixture
def many_deals(source):  # noqa: F811
    source.deals = [
        {"id": f"D{i}", "name": f"deal {i}", "updated_at": f"2026-01-01T00:00:{i:02d}Z"} for i in range(1, 10)
    ]


def finish_queued_runs() -> int:
    ids = list(Run.objects.filter(status=RunStatus.QUEUED).values_list("pk", flat=True))
    for pk in ids:
        execute_run(pk)
    return len(ids)


def test_a_big_poll_queues_pages_as_the_backlog_drains(polled, source, many_deals, rung, settings):  # noqa: F811
    settings.SWITCHBOARD_POLL_BACKLOG = 4  # two pages of two
    assert poll(polled.pk) == 4
    assert Run.objects.filter(status=RunStatus.QUEUED).count() == 4
    mark = Watermark.objects.get()
    assert mark.cursor == "4" and mark.position == ""  # paused mid-way; the watermark waits for the end
    assert backlog.by_flow() == {polled.pk: {"queued": 4, "in_progress": 0}}
    assert resume_paused() == [] and rung == []  # still full

    waves = []
    while Watermark.objects.get().cursor:
        waves.append(finish_queued_runs())
        assert resume_paused() == [polled.pk]
        assert resume_paused() == []  # one resumption in the queue at a time
        poll(rung.pop())
        assert Run.objects.filter(status=RunStatus.QUEUED).count() <= 4
    waves.append(finish_queued_runs())
    assert waves == [4, 4, 1]
    assert Run.objects.filter(status=RunStatus.SUCCEEDED).count() == 9
    assert Watermark.objects.get().position == "2026-01-01T00:00:09Z"
    assert backlog.by_flow() == {}
    assert resume_paused() == []


def test_a_page_another_poll_stored_first_is_not_stored_again(polled, source, many_deals, monkeypatch):  # noqa: F811
    """A resumption and a cron tick of the same flow read the same page: only one stores it."""
    real_store = polls._store_page

    def racing_store(flow, version, connection, mark, page, newest):
        Watermark.objects.filter(pk=mark.pk).update(cursor="2")  # the other poll stored this page meanwhile
        return real_store(flow, version, connection, mark, page, newest)

    monkeypatch.setattr(polls, "_store_page", racing_store)
    assert poll(polled.pk) == 0
    assert Run.objects.count() == 0 and Watermark.objects.get().cursor == "2"
