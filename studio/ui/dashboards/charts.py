"""Server-rendered SVG charts (pygal): no chart script in the browser, each bar a link to
the list it counts. The page puts the same figures in a table under each chart, so the
numbers and links are there for a keyboard or a screen reader too."""

from dataclasses import dataclass
from html import escape

import pygal
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1d2433",
    foreground_strong="#1d2433",
    foreground_subtle="#c9cfdb",
    colors=("#1f7a4d", "#b42318", "#7a8294", "#2f5bd3", "#b26b00"),
    font_family="system-ui, -apple-system, 'Segoe UI', sans-serif",
    title_font_size=20,
    label_font_size=15,
    major_label_font_size=15,
    legend_font_size=15,
    value_font_size=14,
    tooltip_font_size=14,
)
COMMON = {
    "style": STYLE,
    "js": (),  # pygal's tooltip script comes from a CDN; the links and the table are enough
    "disable_xml_declaration": True,
    "width": 800,
    "height": 340,
    "legend_at_bottom": True,
    "legend_at_bottom_columns": 3,
    "print_values": False,
    "truncate_label": -1,
    "margin": 12,
}


@dataclass(frozen=True)
class Point:
    value: float | None
    href: str
    label: str  # what the bar is, for its tooltip: "3 Dec: 12 failed"


def svg(chart, title: str, description: str) -> SafeString:
    """Render and name the chart for assistive technology: the root is a labelled group
    (it holds links, so it cannot be a single image)."""
    rendered = chart.render(is_unicode=True)
    label = escape(f"{title}. {description}", quote=True)
    return mark_safe(rendered.replace("<svg ", f'<svg role="group" aria-label="{label}" ', 1))  # noqa: S308


def _series(points: list[Point]) -> list:
    return [
        {"value": p.value, "label": p.label, "xlink": {"href": p.href, "target": "_top"}} if p.value else None
        for p in points
    ]


def stacked_bars(title: str, description: str, x_labels: list[str], series: dict[str, list[Point]]) -> SafeString:
    chart = pygal.StackedBar(title=title, x_label_rotation=0 if len(x_labels) <= 8 else 45, **COMMON)
    chart.x_labels = x_labels
    for name, points in series.items():
        chart.add(name, _series(points))
    return svg(chart, title, description)


def line(title: str, description: str, x_labels: list[str], series: dict[str, list[Point]], unit: str) -> SafeString:
    chart = pygal.Line(
        title=title,
        x_label_rotation=0 if len(x_labels) <= 8 else 45,
        value_formatter=lambda v: f"{v:,.0f} {unit}",
        show_dots=True,
        dots_size=4,
        **COMMON,
    )
    chart.x_labels = x_labels
    for name, points in series.items():
        chart.add(
            name, [{"value": p.value, "label": p.label, "xlink": {"href": p.href, "target": "_top"}} for p in points]
        )
    return svg(chart, title, description)


def horizontal_bars(title: str, description: str, points: list[Point], names: list[str]) -> SafeString:
    chart = pygal.HorizontalBar(title=title, show_legend=False, **{**COMMON, "height": max(200, 60 + 44 * len(points))})
    chart.x_labels = names
    chart.add("", _series(points))
    return svg(chart, title, description)
