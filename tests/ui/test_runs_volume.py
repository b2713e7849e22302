"""manage.py load_volume: a realistic generated history (spread, skew, recurring business
keys, steps up to the failing one, exceptions on failed runs), refused on a database that
holds real flows unless --force, and readable by the run pages."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.utils import timezone

from integrations.approvals import services as approvals
from integrations.approvals.models import ApprovalTask
from integrations.flows.models import Flow
from integrations.runs.models import Run, RunException, StepRun


def load(runs=400, exceptions=40, *extra):
    call_command("load_volume", "--runs", str(runs), "--exceptions", str(exceptions), *extra)


@pytest.mark.django_db
def test_a_small_history_looks_like_a_real_one():
    load()
    assert Run.objects.count() == 400
    assert Flow.objects.filter(key__startswith="vol-").count() == 10
    by_status = dict(Run.objects.values_list("status").annotate(n=Count("id")))
    assert by_status["succeeded"] > 250 and by_status["failed"] >= 40
    oldest = Run.objects.order_by("created_at").first().created_at
    assert timezone.now() - oldest > timedelta(days=60)  # spread over the period
    ids_by_time = list(Run.objects.order_by("created_at", "id").values_list("id", flat=True))
    assert ids_by_time == sorted(ids_by_time)  # ids grow with time, as in a live system
    repeated = Run.objects.values("business_key").annotate(n=Count("id")).filter(n__gt=1)
    assert repeated.exists()
    failed = Run.objects.filter(status="failed").first()
    last_step = StepRun.objects.filter(run=failed).order_by("-id").first()
    assert last_step.status == "failed" and last_step.step_id == failed.error["step_id"]
    assert RunException.objects.count() == 40
    assert not RunException.objects.exclude(run__status="failed").exists()
    assert Run.objects.filter(retry_of__isnull=False, trigger="retry").exists()


@pytest.mark.django_db
def test_approval_tasks_wait_on_every_waiting_run_and_older_ones_are_decided():
    load(2000, 20, "--approvals", "30", "--days", "3")  # most runs recent: some still wait
    waiting = set(Run.objects.filter(status="waiting-approval").values_list("id", flat=True))
    pending = set(ApprovalTask.objects.filter(status="pending").values_list("run_id", flat=True))
    assert waiting and pending == waiting
    decided = ApprovalTask.objects.exclude(status="pending")
    assert decided.count() == 30
    assert not decided.exclude(run__status="succeeded").exists()
    assert not decided.filter(decided_at__isnull=True).exists()
    approver = User.objects.get(username="vol-approver")
    approver.groups.add(Group.objects.get(name="Approver"))
    assert {t.run_id for t in approvals.inbox(approver)} == waiting  # the generated person decides them


@pytest.mark.django_db
def test_refuses_a_database_with_real_flows_unless_forced(personas):
    Flow.objects.create(key="invoices", name="Invoices")
    with pytest.raises(CommandError, match=r"real flows \(invoices\).*--force"):
        load(50, 5)
    assert not Run.objects.exists()
    load(50, 5, "--force")
    assert Run.objects.count() == 50


@pytest.mark.django_db
@pytest.mark.parametrize(("runs", "exceptions", "message"), [(0, 0, "at least 1"), (10, 11, "cannot exceed --runs")])
def test_bad_counts_are_refused(runs, exceptions, message):
    with pytest.raises(CommandError, match=message):
        load(runs, exceptions)


@pytest.mark.django_db
def test_the_run_pages_read_the_generated_history(client_for):
    load(200, 20)
    client = client_for("viewer")
    html = client.get("/runs/?status=failed").content.decode()
    assert html.count('data-testid="run-row"') == Run.objects.filter(status="failed").count()
    failed = Run.objects.filter(status="failed").first()
    page = client.get(f"/runs/{failed.pk}/").content.decode()
    assert 'id="failed-step"' in page and failed.error["message"] in page


@pytest.mark.postgres
@pytest.mark.django_db
def test_copy_on_postgresql_moves_the_id_sequence_past_the_loaded_runs():
    load(2000, 200)
    assert Run.objects.count() == 2000 and RunException.objects.count() == 200
    newest = Run.objects.order_by("-id").first()
    added = Run.objects.create(flow_version=newest.flow_version, trigger="manual", status="queued")
    assert added.pk > newest.pk


@pytest.mark.django_db
def test_the_loaded_history_is_rolled_up_for_the_dashboard():
    from integrations.runs.rollups import read
    from integrations.runs.rollups.models import RunChange, RunHour

    load()
    assert RunHour.objects.exists() and not RunChange.objects.exists()
    month = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=30)
    rolled, live = read.since(month), read.live_since(month)
    assert rolled.days == live.days and rolled.whole == live.whole and rolled.whole.runs() > 0
