"""Server-rendered SVG charts (pygal): no chart script in the browser, each bar a link to
the list it counts. Each chart is drawn twice, wide and narrow, and CSS shows the one that
fits (an 800-unit drawing shrunk onto a phone has unreadable labels). The page puts the
same figures in a list or table under each chart for a keyboard or a screen reader too."""

from dataclasses import dataclass
from html import escape

import pygal
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

OK, BAD, OTHER = "#1f7a4d", "#b42318", "#7a8294"
LINE = "#2f5bd3"


def style(colors, narrow: bool) -> Style:
    size = 20 if narrow else 15
    return Style(
        background="transparent",
        plot_background="transparent",
        foreground="#1d2433",
        foreground_strong="#1d2433",
        foreground_subtle="#dde2ea",
        colors=tuple(colors),
        font_family="system-ui, -apple-system, 'Segoe UI', sans-serif",
        label_font_size=size,
        major_label_font_size=size,
        legend_font_size=size,
        value_font_size=size,
        tooltip_font_size=size,
    )


def options(colors, narrow: bool, labels: int, **extra) -> dict:
    every = max(1, -(-labels // (4 if narrow else 10)))  # at most 4 (narrow) or 10 labels on the axis
    return {
        "style": style(colors, narrow),
        "js": (),  # pygal's tooltip script comes from a CDN; the links and the lists are enough
        "disable_xml_declaration": True,
        "width": 420 if narrow else 800,
        "height": 360 if narrow else 340,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 1 if narrow else 3,
        "truncate_label": -1,
        "truncate_legend": -1,
        "margin": 8,
        "x_labels_major_every": every,
        "show_minor_x_labels": every == 1,
        **extra,
    }


@dataclass(frozen=True)
class Point:
    value: float | None
    href: str
    label: str  # what the bar is, for its tooltip: "3 Dec: 12 failed"


def _values(points: list[Point], keep_zero: bool = False) -> list:
    return [
        {"value": p.value, "label": p.label, "xlink": {"href": p.href, "target": "_top"}}
        if p.value or (keep_zero and p.value is not None)
        else None
        for p in points
    ]


def _both(title: str, description: str, draw) -> SafeString:
    """The wide and the narrow drawing, each a labelled group (it holds links, so it cannot
    be one image); CSS hides the one that does not fit."""
    label = escape(f"{title}. {description}", quote=True)
    parts = []
    for narrow in (False, True):
        rendered = draw(narrow).render(is_unicode=True)
        named = rendered.replace("<svg ", f'<svg role="group" aria-label="{label}" ', 1)
        parts.append(f'<div class="chart-{"narrow" if narrow else "wide"}">{named}</div>')
    return mark_safe("".join(parts))  # noqa: S308  (pygal's own SVG; the label is escaped)


def shorten(text: str, most: int) -> str:
    return text if len(text) <= most else "…" + text[-(most - 1) :]


def whole_numbers(top: float) -> list[int]:
    """About five round ticks from 0 past `top` (1, 2 or 5 times a power of ten apart)."""
    rough = max(top / 5, 1)
    magnitude = 10 ** (len(str(int(rough))) - 1)
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    return list(range(0, int(top) + step + 1, step))


def stacked_bars(title: str, description: str, x_labels: list[str], series: dict[str, list[Point]]) -> SafeString:
    top = max((sum(p.value or 0 for p in column) for column in zip(*series.values(), strict=True)), default=0)

    def draw(narrow):
        chart = pygal.StackedBar(**options((OK, BAD, OTHER), narrow, len(x_labels), y_labels=whole_numbers(top)))
        chart.x_labels = x_labels
        for name, points in series.items():
            chart.add(name, _values(points))
        return chart

    return _both(title, description, draw)


def line(title: str, description: str, x_labels: list[str], points: list[Point], unit: str) -> SafeString:
    def draw(narrow):
        chart = pygal.Line(
            **options(
                (LINE,),
                narrow,
                len(x_labels),
                show_legend=False,
                value_formatter=lambda v: f"{v:,.0f} {unit}",
                dots_size=5,
                y_labels=whole_numbers(max((p.value or 0 for p in points), default=0)),
                allow_interruptions=True,
            )
        )
        chart.x_labels = x_labels
        chart.add(title, _values(points, keep_zero=True))
        return chart

    return _both(title, description, draw)


def horizontal_bars(title: str, description: str, points: list[Point], names: list[str]) -> SafeString:
    top = max((p.value or 0 for p in points), default=0)

    def draw(narrow):
        height = max(220, 90 + (56 if narrow else 44) * len(points))
        chart = pygal.HorizontalBar(
            **options((BAD,), narrow, 1, show_legend=False, height=height, y_labels=whole_numbers(top))
        )
        # Narrow: long flow-and-step names are cut (the list under the chart has them whole).
        chart.x_labels = [shorten(n, 16) for n in names] if narrow else names
        chart.add(title, _values(points))
        return chart

    return _both(title, description, draw)
