"""The Prometheus collector: every scrape reads the database (queries.snapshot) and turns
the result into metric families. Nothing is kept in process memory, so any web process may
answer the scrape and every worker process's work is counted, with no shared state."""

from collections.abc import Iterator

from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from studio.observability import queries

CIRCUIT_VALUES = {"closed": 0, "half-open": 1, "open": 2}


def _counts(name: str, documentation: str, labels: list[str], rows) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for *values, n in rows:
        family.add_metric([str(v) for v in values], n)
    return family


class DatabaseCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        snap = queries.snapshot()
        yield _counts(
            "switchboard_runs_last_hour",
            "Runs created in the last hour (test runs excluded), by flow and current status.",
            ["flow", "status"],
            snap.runs_recent,
        )
        yield _counts(
            "switchboard_runs_unfinished",
            "Runs not finished yet (queued, running or waiting), whatever their age, by flow and status.",
            ["flow", "status"],
            snap.runs_unfinished,
        )
        steps = GaugeHistogramMetricFamily(
            "switchboard_step_duration_seconds",
            f"Engine time of the last {queries.STEP_WINDOW} step runs, by flow and step.",
            labels=["flow", "step"],
        )
        for row in snap.steps:
            bounds = [*(str(b) for b in queries.STEP_BUCKETS), "+Inf"]
            steps.add_metric(
                [row.flow, row.step], list(zip(bounds, [*row.buckets, row.count], strict=True)), row.sum_seconds
            )
        yield steps
        yield _counts(
            "switchboard_deliveries",
            "Deliveries in the ledger that have not succeeded, by connection and state "
            "(succeeded ones show in switchboard_delivery_attempts_last_hour).",
            ["connection", "state"],
            snap.deliveries,
        )
        yield _counts(
            "switchboard_delivery_attempts_last_hour",
            "Delivery attempts started in the last hour, by connection and outcome.",
            ["connection", "outcome"],
            snap.attempts_recent,
        )
        yield _counts(
            "switchboard_exceptions_open",
            "Exceptions in the inbox not yet resolved or skipped, by flow, status and classification.",
            ["flow", "status", "classification"],
            snap.exceptions,
        )
        backlog = GaugeMetricFamily(
            "switchboard_backlog_age_seconds",
            "How long the longest-waiting due row has waited to be taken (0: none waits), by kind: "
            "run (an event's run, or a retry), chunk (of a batch run), delivery (held ones included).",
            labels=["kind"],
        )
        for kind, seconds in sorted(snap.backlog_seconds.items()):
            backlog.add_metric([kind], seconds)
        yield backlog
        circuit = GaugeMetricFamily(
            "switchboard_circuit_state",
            "Circuit breaker per connection: 0 closed, 1 half-open, 2 open.",
            labels=["connection"],
        )
        failures = GaugeMetricFamily(
            "switchboard_circuit_failures",
            "Consecutive outage failures counted by the circuit breaker.",
            labels=["connection"],
        )
        held = GaugeMetricFamily(
            "switchboard_connection_held",
            "1 while the connection's deliveries are held (paused, maintenance window or open circuit).",
            labels=["connection"],
        )
        throttled = GaugeMetricFamily(
            "switchboard_throttle_deferrals_last_5m",
            "Deliveries deferred by the connection's rate or concurrency limit in the last 5 minutes.",
            labels=["connection"],
        )
        for c in snap.connections:
            circuit.add_metric([c.name], CIRCUIT_VALUES[c.circuit])
            failures.add_metric([c.name], c.circuit_failures)
            held.add_metric([c.name], int(c.held))
            throttled.add_metric([c.name], c.throttle_deferrals)
        yield from (circuit, failures, held, throttled)


def registry() -> CollectorRegistry:
    """A registry of our collector alone: no process or runtime metrics of whichever web
    process happens to answer the scrape."""
    fresh = CollectorRegistry(auto_describe=False)
    fresh.register(DatabaseCollector())
    return fresh
