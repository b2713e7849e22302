"""A broker visibility timeout shorter than a task: Redis hands the message of a running
delivery to a second pool process. The claim drops it, as before; now the worker also logs a
WARNING naming the row and notes it for /healthz (integrations/health/checks.py), and nothing
is posted twice.

The test process plays the other application on the same Redis whose visibility timeout is
2 s (celery#7651: the shortest wins): it restores unacknowledged messages older than that,
as that application's workers would, on every tick. (A worker's own sweep runs only every
~100 s by default, which would make the test slow, not different.)"""

from integrations.health.models import Redelivery
from studio.celery import app

from .harness import WORKER_TEST_MARKS, all_terminal, check, drive, make_connection, request_postings

pytestmark = WORKER_TEST_MARKS


SHORT_VISIBILITY_TIMEOUT = 2


def restore_as_an_app_with_a_short_visibility_timeout(broker_url: str) -> None:
    with app.connection_for_write(broker_url) as connection:
        channel = connection.default_channel
        channel.visibility_timeout = SHORT_VISIBILITY_TIMEOUT
        channel.qos.restore_visible(num=10, interval=1)


def test_a_visibility_timeout_shorter_than_a_posting_is_logged_and_noted(
    simulator, worker, empty_broker, settings, client
):
    settings.SWITCHBOARD_LEASE_SECONDS = 120  # the test's sweeper must not take the row over
    simulator.config(script={"inv:0": ["late:15"]})  # the ERP works 15 s on this posting
    erp = make_connection(simulator, timeout_seconds=40)
    (delivery,) = request_postings(erp, 1)
    w = worker(SWITCHBOARD_LEASE_SECONDS="120")
    drive(
        Redelivery.objects.exists,
        timeout=30,
        on_tick=lambda: restore_as_an_app_with_a_short_visibility_timeout(empty_broker),
    )
    drive(all_terminal, timeout=60)
    note = Redelivery.objects.first()
    figures = check(simulator, notes=Redelivery.objects.count(), held_s=round(note.held_seconds, 1))
    figures.show("visibility timeout 2 s against a 15 s posting")
    assert (note.kind, note.row_id) == ("delivery", delivery.pk)
    assert note.held_seconds >= SHORT_VISIBILITY_TIMEOUT  # it came back after at least that
    assert (figures.posted, figures.lost, figures.duplicated) == (1, 0, 0)
    assert f"delivery {delivery.pk}: message redelivered while the row is leased" in w.log.read_text()
    assert client.get("/healthz").json()["redeliveries"]["count"] >= 1
