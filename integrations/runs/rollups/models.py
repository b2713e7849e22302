"""What the roll-up job keeps: per closed UTC hour of run creation, the runs by status and
their durations; how far it has rolled; and the changes to runs of rolled hours that it has
not recounted yet (written by a database trigger, see migrations/0001_initial.py)."""

from django.db import models


class RunHour(models.Model):
    """Runs created in one hour with one (current) status."""

    hour = models.DateTimeField(help_text="Start of the UTC hour the runs were created in.")
    status = models.CharField(max_length=20)
    runs = models.PositiveIntegerField()
    timed = models.PositiveIntegerField(help_text="Runs with both a start and an end.")
    took_us = models.BigIntegerField(help_text="Sum of the timed runs' end minus start, in microseconds.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hour", "status"], name="one_rollup_per_hour_status")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.status}: {self.runs}"


class RunHourDuration(models.Model):
    """A histogram bar: timed runs of one hour whose duration rounds up to `ms`
    (two significant digits, see tally.duration_key)."""

    hour = models.DateTimeField()
    ms = models.BigIntegerField()
    runs = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hour", "ms"], name="one_duration_bar_per_hour")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h ≤{self.ms} ms: {self.runs}"


class RolledUntil(models.Model):
    """One row: every hour before `until` is rolled up (and recounted when marked changed)."""

    until = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"rolled until {self.until}"


class RunChange(models.Model):
    """The creation time of a run older than an hour that was inserted, deleted or changed
    status, start, end or creation time: its hour is read live until the job recounts it."""

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"change to a run created {self.created_at}"
