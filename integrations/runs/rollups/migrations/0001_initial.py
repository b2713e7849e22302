"""The roll-up tables, and the trigger that marks a change to a run older than an hour (its
hour may be rolled up already): written by the database, so no code path that changes a run
(a queryset update, raw SQL, the admin) can forget to. The one-hour horizon keeps the
trigger silent for the runs the workers are busy with."""

from django.db import migrations, models

POSTGRES = [
    """
    CREATE FUNCTION run_rollups_mark_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' AND OLD.created_at < now() - interval '1 hour' THEN
            INSERT INTO run_rollups_runchange (created_at) VALUES (OLD.created_at);
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.created_at < now() - interval '1 hour'
           AND (TG_OP = 'INSERT' OR NEW.created_at IS DISTINCT FROM OLD.created_at) THEN
            INSERT INTO run_rollups_runchange (created_at) VALUES (NEW.created_at);
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER run_rollups_insert AFTER INSERT ON runs_run FOR EACH ROW
    WHEN (NEW.created_at < now() - interval '1 hour') EXECUTE FUNCTION run_rollups_mark_change()
    """,
    """
    CREATE TRIGGER run_rollups_delete AFTER DELETE ON runs_run FOR EACH ROW
    WHEN (OLD.created_at < now() - interval '1 hour') EXECUTE FUNCTION run_rollups_mark_change()
    """,
    """
    CREATE TRIGGER run_rollups_update AFTER UPDATE ON runs_run FOR EACH ROW
    WHEN (LEAST(OLD.created_at, NEW.created_at) < now() - interval '1 hour'
          AND (OLD.status, OLD.started_at, OLD.finished_at, OLD.created_at)
              IS DISTINCT FROM (NEW.status, NEW.started_at, NEW.finished_at, NEW.created_at))
    EXECUTE FUNCTION run_rollups_mark_change()
    """,
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS run_rollups_insert ON runs_run",
    "DROP TRIGGER IF EXISTS run_rollups_delete ON runs_run",
    "DROP TRIGGER IF EXISTS run_rollups_update ON runs_run",
    "DROP FUNCTION IF EXISTS run_rollups_mark_change()",
]

# SQLite keeps datetimes as UTC text ("2026-12-05 03:04:05.678901"), compared as text.
HOUR_AGO = "strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 hour')"
CHANGED = (
    "(OLD.status IS NOT NEW.status OR OLD.started_at IS NOT NEW.started_at"
    " OR OLD.finished_at IS NOT NEW.finished_at OR OLD.created_at IS NOT NEW.created_at)"
)
MARK = "INSERT INTO run_rollups_runchange (created_at) VALUES"
SQLITE = [
    f"CREATE TRIGGER run_rollups_insert AFTER INSERT ON runs_run WHEN NEW.created_at < {HOUR_AGO} "
    f"BEGIN {MARK} (NEW.created_at); END",
    f"CREATE TRIGGER run_rollups_delete AFTER DELETE ON runs_run WHEN OLD.created_at < {HOUR_AGO} "
    f"BEGIN {MARK} (OLD.created_at); END",
    f"CREATE TRIGGER run_rollups_update_old AFTER UPDATE ON runs_run WHEN OLD.created_at < {HOUR_AGO} AND {CHANGED} "
    f"BEGIN {MARK} (OLD.created_at); END",
    f"CREATE TRIGGER run_rollups_update_new AFTER UPDATE ON runs_run WHEN NEW.created_at < {HOUR_AGO} "
    f"AND OLD.created_at IS NOT NEW.created_at BEGIN {MARK} (NEW.created_at); END",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in ("run_rollups_insert", "run_rollups_delete", "run_rollups_update_old", "run_rollups_update_new")
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    initial = True

    dependencies = [("runs", "0013_exception_conflict")]

    operations = [
        migrations.CreateModel(
            name="RolledUntil",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("until", models.DateTimeField(null=True)),
            ],
        ),
        migrations.CreateModel(
            name="RunChange",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("created_at", models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name="RunHour",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("hour", models.DateTimeField(help_text="Start of the UTC hour the runs were created in.")),
                ("status", models.CharField(max_length=20)),
                ("runs", models.PositiveIntegerField()),
                ("timed", models.PositiveIntegerField(help_text="Runs with both a start and an end.")),
                (
                    "took_us",
                    models.BigIntegerField(help_text="Sum of the timed runs' end minus start, in microseconds."),
                ),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("hour", "status"), name="one_rollup_per_hour_status")]
            },
        ),
        migrations.CreateModel(
            name="RunHourDuration",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("hour", models.DateTimeField()),
                ("ms", models.BigIntegerField()),
                ("runs", models.PositiveIntegerField()),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("hour", "ms"), name="one_duration_bar_per_hour")]
            },
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRES, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP}),
        ),
    ]
