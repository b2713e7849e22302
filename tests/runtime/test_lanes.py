"""Lanes with a real worker (studio/lanes.py, studio/lane_transport.py): with thousands of
poll runs queued ahead of them, the heartbeat lands within seconds and /healthz stays 200,
and an event posted meanwhile is processed long before the backlog drains — on the embedded
default (SQLite, filesystem broker) and on Redis.

Everything runs in subprocesses on a private var directory (database file, broker folder),
as `make run` would: migrate, queue the backlog, start `celery worker --concurrency 2`, probe
(tests/runtime/lane_driver.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from integrations.flows.services import create_flow, publish
from integrations.runs.choices import Trigger
from integrations.runs.models import Run
from integrations.runs.services import create_run
from studio import lane_transport, lanes
from tests.reliability.harness import RedisServer
from tests.runtime.lane_driver import FLOW

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("lane_driver.py")
BACKLOG = 8000
PROBE_SECONDS = 12  # or until the backlog drains, whichever comes first
WORKER = [sys.executable, "-m", "celery", "-A", "studio", "worker", "--pool", "prefork", "--concurrency", "2"]


def run(args, env, timeout=300) -> str:
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(params=["filesystem", "redis"])
def broker_env(request, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(SWITCHBOARD_VAR_DIR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="studio.settings_test")
    if request.param == "filesystem":
        yield env
        return
    try:
        redis = RedisServer(port=6401).start()
    except (FileNotFoundError, RuntimeError) as exc:
        pytest.skip(f"needs redis-server: {exc}")
    yield {**env, "REDIS_URL": redis.url}
    redis.kill()


@pytest.mark.worker
@pytest.mark.slow
def test_heartbeat_and_an_event_overtake_a_poll_backlog(broker_env, tmp_path):
    python = sys.executable
    run([python, "manage.py", "migrate", "--noinput", "-v", "0"], broker_env)
    assert json.loads(run([python, str(DRIVER), "backlog", str(BACKLOG)], broker_env))["queued"] == BACKLOG
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [*WORKER, "-Q", "default", "-l", "warning", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env=broker_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        result = json.loads(run([python, str(DRIVER), "probe", str(PROBE_SECONDS)], broker_env).splitlines()[-1])
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    print(result)
    assert result["heartbeat_seconds"] is not None and result["heartbeat_seconds"] < 3, result
    assert result["healthz"] and set(result["healthz"]) == {200}, result
    assert result["heartbeat_age_at_end"] is not None and result["heartbeat_age_at_end"] < 3, result
    assert result["event_status"] == "succeeded" and result["event_seconds"] < 3, result
    # Processed ahead of the backlog: most of the poll runs were still waiting.
    assert result["poll_queued_when_event_ended"] > BACKLOG // 2, result
    # The heartbeat figures were taken under the backlog, for at least three heartbeat periods
    # (the probe stops early when the worker drains it: map-only runs go at hundreds a second).
    assert result["backlog_seconds"] >= 3, result


def test_runs_take_the_lane_of_their_origin(db):
    flow = create_flow("system:test", key="lanes", name="Lanes", definition=FLOW)
    version = publish(flow, "system:test")
    polled = create_run(version, trigger=Trigger.POLL, record={"id": "1", "amount": 1})
    manual = create_run(version, trigger=Trigger.MANUAL, record={"id": "2", "amount": 1})
    replayed = create_run(version, trigger=Trigger.REPLAY, record={"id": "3", "amount": 1})
    assert lanes.route("integrations.runs.tasks.execute_run", [polled.pk], {}, {}) == {"queue": "bulk"}
    assert lanes.route("integrations.runs.tasks.execute_run", [replayed.pk], {}, {}) == {"queue": "bulk"}
    assert lanes.route("integrations.runs.tasks.execute_run", [manual.pk], {}, {}) == {"queue": "default"}
    # A poll run that already started (it waits for its delivery, then resumes) finishes first.
    Run.objects.filter(pk=polled.pk).update(started_at=polled.created_at)
    assert lanes.route("integrations.runs.tasks.execute_run", [polled.pk], {}, {}) == {"queue": "default"}
    for periodic in ("integrations.health.tasks.heartbeat", "integrations.deliveries.tasks.dispatch_deliveries"):
        assert lanes.route(periodic, [], {}, {}) == {"queue": "control"}
    assert lanes.route("integrations.flows.tasks.poll_flow", [flow.pk], {}, {}) == {"queue": "bulk"}
    assert lanes.route("integrations.runs.tasks.start_scheduled_run", [flow.pk], {}, {}) == {"queue": "control"}


def test_redis_is_asked_for_the_lanes_in_order():
    cycle = lane_transport.LaneCycle()
    cycle.update(["bulk", "deliveries.2", "default", "deliveries.7", "control"])
    assert cycle.consume(5) == ["control", "default", "deliveries.2", "deliveries.7", "bulk"]
    cycle.rotate("deliveries.2")  # connections take turns within their lane
    assert cycle.consume(5) == ["control", "default", "deliveries.7", "deliveries.2", "bulk"]


class FolderChannel:
    """What LaneFolderCycle reads of a filesystem channel."""

    def __init__(self, tmp_path, queues):
        self.data_folder_in = str(tmp_path / "queue")
        self.processed_folder = str(tmp_path / "processed")
        os.makedirs(self.data_folder_in)
        os.makedirs(self.processed_folder)
        self._active_queues = queues


def test_the_filesystem_broker_serves_the_most_urgent_lane_first_and_survives_a_file_being_written(tmp_path):
    channel = FolderChannel(tmp_path, ["default", "bulk", "control", "deliveries.3"])
    folder = Path(channel.data_folder_in)
    for stamp, queue in ((1, "bulk"), (2, "deliveries.3"), (3, "default"), (4, "control"), (5, "default")):
        (folder / f"{stamp}_x{stamp}.{queue}.msg").write_text(json.dumps({"n": stamp}))
    (folder / "0_being-written.control.msg").write_bytes(b"")  # the sender has opened it, not written yet
    (folder / "0_torn.control.msg").write_bytes(b"{not json")
    (folder / "0_other.someone-else.msg").write_text("{}")  # a queue this worker does not consume
    cycle = lane_transport.LaneFolderCycle(channel)
    got = []
    with pytest.raises(lane_transport.Empty):
        while True:
            cycle.get(lambda message, queue: got.append((queue, message["n"])))
    assert got == [("control", 4), ("default", 3), ("default", 5), ("deliveries.3", 2), ("bulk", 1)]
    assert sorted(os.listdir(folder)) == ["0_being-written.control.msg", "0_other.someone-else.msg"]
