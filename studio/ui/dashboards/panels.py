"""One function per dashboard panel: the figures of its template, each with the link to the
list behind it. A panel with nothing to show says why instead of drawing an empty chart."""

from datetime import timedelta

from django.utils.formats import date_format

from integrations.reconcile.queries import latest_counts
from integrations.runs.choices import RunStatus
from studio.ui.dashboards import charts, links, queries
from studio.ui.dashboards.window import Window
from studio.ui.runs.history import human_duration
from studio.ui.runs.statuses import run_status


def top(window: Window) -> dict:
    figures = queries.run_figures(window)
    backlog = queries.backlog()
    return {
        "figures": figures,
        "p95": human_duration(figures.p95) if figures.p95 is not None else None,
        "runs_url": links.runs(since=window.first_day),
        "failed_url": links.runs(since=window.first_day, status=RunStatus.FAILED),
        "succeeded_url": links.runs(since=window.first_day, status=RunStatus.SUCCEEDED),
        "open_exceptions": queries.open_exceptions(),
        "exceptions_url": links.exceptions(),
        "backlog": backlog,
        "backlog_age": age(backlog.age) if backlog.age else None,
        "backlog_url": links.runs(status=RunStatus.QUEUED),
        "held": [{**h, "url": links.connection(h["name"])} for h in queries.held_deliveries()],
    }


def usage(window: Window) -> dict:
    rows = queries.api_usage()
    return {"usage": [{"row": u, "url": links.connection(u.name)} for u in rows]}


def business(window: Window) -> dict:
    definitions = queries.live_definitions()
    unbilled = queries.unbilled_hours(definitions)
    for row in unbilled.waiting:
        row["url"] = links.runs(flow=row["flow"], status=RunStatus.WAITING_DELIVERY)
    for row in unbilled.failed:
        row["url"] = links.exceptions(flow=row["flow"], step_id=row["step"])
    late = queries.opportunities_without_project(definitions, window.today)
    for row in late.by_status:
        row["url"] = links.runs(flow=row["flow"], status=row["status"], until=late.until)
        row["label"] = run_status(row["status"]).label
    return {
        "unbilled": unbilled,
        "value": sorted(unbilled.value.items(), key=lambda kv: str(kv[0])),
        "late": late,
    }


def age(span: timedelta) -> str:
    """A waiting time in its two largest units: 45 s, 12 min, 3 h 5 min, 2 d 4 h."""
    seconds = int(span.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours < 48 else f"{hours // 24} d {hours % 24} h"


def _day(day) -> str:
    return date_format(day, "j M")


def throughput(window: Window) -> dict:
    days = queries.by_day(window)
    if not any(d.succeeded or d.failed or d.other for d in days):
        return {"empty": f"No runs were created since {_day(window.first_day)}: nothing to chart."}
    # Each day's name and links once: the chart and the table under it show the same ones.
    rows = [
        {
            "day": _day(d.day),
            "succeeded": d.succeeded,
            "failed": d.failed,
            "other": d.other,
            "succeeded_url": links.runs(since=d.day, until=d.day, status=RunStatus.SUCCEEDED),
            "failed_url": links.runs(since=d.day, until=d.day, status=RunStatus.FAILED),
            "all_url": links.runs(since=d.day, until=d.day),
        }
        for d in days
    ]

    def bars(count: str, url: str, name: str) -> list[charts.Point]:
        return [charts.Point(r[count], r[url], f"{r['day']}: {r[count]} {name}") for r in rows]

    series = {
        "Succeeded": bars("succeeded", "succeeded_url", "succeeded"),
        "Failed": bars("failed", "failed_url", "failed"),
        "Other (running, waiting, halted…)": bars("other", "all_url", "other"),
    }
    description = f"Runs per day since {_day(window.first_day)}, by outcome; each bar opens the runs it counts."
    labels = [r["day"] for r in rows]
    return {"chart": charts.stacked_bars("Throughput", description, labels, series), "rows": rows}


def latency(window: Window) -> dict:
    days = queries.by_day(window)
    if not any(d.avg_ms is not None for d in days):
        return {"empty": f"No run both started and ended since {_day(window.first_day)}, so there is no time to show."}
    rows = [
        {"day": _day(d.day), "mean": human_duration_ms(d.avg_ms), "url": links.runs(since=d.day, until=d.day)}
        for d in days
    ]
    points = [
        charts.Point(round(d.avg_ms) if d.avg_ms is not None else None, r["url"], f"{r['day']}: mean {r['mean']}")
        for d, r in zip(days, rows, strict=True)
    ]
    labels = [r["day"] for r in rows]
    description = "Mean time from a run's start to its end, per day; each point opens that day's runs."
    chart = charts.line("Mean run time", description, labels, points, "ms")
    return {"chart": chart, "rows": rows, "description": description}


def human_duration_ms(ms: float | None) -> str:
    return human_duration(timedelta(milliseconds=ms)) if ms is not None else "—"


def stages(window: Window) -> dict:
    rows = queries.failures_by_stage()
    if not rows:
        return {"empty": "No open exception: no flow is failing at any step right now."}
    for row in rows:
        row["url"] = links.exceptions(flow=row["flow"], step_id=row["step"])
        row["name"] = f"{row['flow']} › {row['step'] or 'before the first step'}"
    points = [charts.Point(r["n"], r["url"], f"{r['name']}: {r['n']} open") for r in rows]
    description = "Open exceptions by flow and step, most first; each bar opens the exception queue for that step."
    chart = charts.horizontal_bars("Failures by stage", description, points, [r["name"] for r in rows])
    return {"chart": chart, "rows": rows}


def regions(window: Window) -> dict:
    found = queries.invoice_exceptions(queries.live_definitions())
    if not found.flows:
        return {"empty": "No published flow carries invoices (no trigger or target names an invoice)."}
    for row in found.flows:
        row["url"] = links.exceptions(flow=row["flow"])
    if not found.total:
        return {"empty": "No open exception on the invoice flows.", "flows": found.flows}
    # The queue filtered by the invoice flows and the region counts exactly the bar's exceptions.
    flows = ",".join(f["flow"] for f in found.flows)
    for r in found.by_region:
        r["url"] = links.exceptions(flow=flows, region=r["region"])
    points = [charts.Point(r["n"], r["url"], f"{r['region']}: {r['n']} open") for r in found.by_region]
    description = "Open exceptions of the invoice flows by the invoice's region."
    chart = charts.horizontal_bars(
        "Invoice exceptions by region", description, points, [r["region"] for r in found.by_region]
    )
    return {"chart": chart, "regions": found.by_region, "flows": found.flows, "total": found.total}


def reconciliation(window: Window) -> dict:
    """Latest reconciliation counts (not the range: each job compares the systems as they are)."""
    return {"counts": latest_counts()}


PANELS = {
    "top": top,
    "reconciliation": reconciliation,
    "usage": usage,
    "business": business,
    "throughput": throughput,
    "latency": latency,
    "stages": stages,
    "regions": regions,
}
