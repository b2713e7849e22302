"""Which lane a Celery message takes (CELERY_TASK_ROUTES), and the lanes every worker consumes.

The lanes and the order a worker serves them in are in studio/lane_transport.py:
control, then interactive (`default`), then the delivery queues, then bulk. So a poll's
thousands of runs never hold back the heartbeat, the dispatchers, an event that just came
in, or the run whose delivery just finished (docs/ARCHITECTURE.md#lanes-and-queues).

- control: every task an app declares in its `periodic.py` (heartbeat, dispatchers,
  sweepers, expiries: short, and they keep /healthz honest and everything else moving) and
  the schedule tick, which only creates a run;
- bulk: polls, bulk jobs, batch chunks, and new runs that a poll, a replay or a bulk job
  made (a run's lane is read from its row: messages carry ids only). A poll resumed after its
  backlog drained names the interactive queue itself (integrations/triggers/polls.py);
- interactive: everything else, including every run that has started before (a resumption
  after a delivery or an approval, a retry after a transient error): finishing work that
  is under way comes before starting new bulk work.
"""

from integrations.health.schedules import declared
from integrations.runs.models import Run
from studio.lane_transport import BULK, CONTROL, INTERACTIVE, LANES

EXECUTE_RUN = "integrations.runs.tasks.execute_run"
SCHEDULE_TICK = "integrations.runs.tasks.start_scheduled_run"
BULK_TASKS = frozenset(
    {
        "integrations.flows.tasks.poll_flow",
        "integrations.runs.tasks.process_bulk_job",
        "integrations.runs.tasks.execute_chunks",
    }
)
_control_tasks: frozenset[str] | None = None


def control_tasks() -> frozenset[str]:
    """The periodic tasks declared by the installed apps, read once per process."""
    global _control_tasks
    if _control_tasks is None:
        _control_tasks = frozenset(p.task for p in declared()) | {SCHEDULE_TICK}
    return _control_tasks


def route(name, args, kwargs, options, task=None, **kw):
    """Celery router; a message that names its queue (deliveries) keeps it."""
    if options.get("queue"):
        return None
    if name in control_tasks():
        return {"queue": CONTROL}
    if name in BULK_TASKS:
        return {"queue": BULK}
    if name == EXECUTE_RUN and args:
        return {"queue": run_lane(args[0])}
    return {"queue": INTERACTIVE}


def run_lane(run_id: int) -> str:
    """A single run's message (batch doorbells name their lane themselves, runs/doorbell.py)."""
    row = Run.objects.filter(pk=run_id).values_list("lane", "started_at").first()
    if row is None:
        return INTERACTIVE
    lane, started_at = row
    return INTERACTIVE if started_at is not None else lane


def consume(consumer) -> list[str]:
    """worker_ready (studio/celery.py): whatever `--queues` said, a worker serves every lane."""
    present = {queue.name for queue in consumer.task_consumer.queues}
    added = [name for name in LANES if name not in present]
    for name in added:
        consumer.add_task_queue(name)
    return added
