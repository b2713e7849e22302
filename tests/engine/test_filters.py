"""The registered filter set, as analysts use it in templates."""

from datetime import date, datetime

import pytest

from integrations.engine.errors import TemplateFailure
from integrations.engine.templating import compile_template


def render(source, **variables):
    return compile_template(source)({"record": {}, "input": {}, "steps": {}, "value_maps": {}, **variables})


@pytest.mark.parametrize(
    ("source", "value", "expected"),
    [
        ("{{ value | as_date }}", "2026-03-01", date(2026, 3, 1)),
        ("{{ value | as_date }}", "2026-03-01T23:10:00Z", date(2026, 3, 1)),
        ("{{ value | as_date('%d/%m/%Y') }}", "01/03/2026", date(2026, 3, 1)),
        ("{{ value | as_datetime }}", "2026-03-01T10:00:00+00:00", datetime.fromisoformat("2026-03-01T10:00:00+00:00")),
        ("{{ value | format_date('%d %b %Y') }}", "2026-03-01", "01 Mar 2026"),
        ("{{ value | as_number }}", "1,234", 1234),
        ("{{ value | as_number }}", "1,234.50", 1234.5),
        ("{{ value | round_money }}", "10.005", 10.01),
        ("{{ value | round_money(0) }}", 2.5, 3.0),
        ("{{ value | format_money('EUR') }}", 1234.5, "EUR 1,234.50"),
        ("{{ value | upper }}", "emea", "EMEA"),
        ("{{ value | lower }}", "EMEA", "emea"),
        ("{{ value | trim }}", "  x ", "x"),
        ("{{ value | slug }}", "Ærø Café & Co.", "aero-cafe-co"),
        ("{{ value | truncate(5) }}", "abcdefgh", "abcde"),
        ("{{ value | truncate(5, '…') }}", "abcdefgh", "abcd…"),
        ("{{ value | split(',') }}", "a, b ,c", ["a", "b", "c"]),
        ("{{ value | join('-') }}", ["a", None, 3], "a-3"),
        ("{{ value | default('n/a') }}", "", "n/a"),
        ("{{ value | default('n/a') }}", None, "n/a"),
        ("{{ value | default('n/a') }}", 0, 0),
        ("{{ value | coalesce(record.b, 'z') }}", None, "z"),
        ("{{ value | upper }}", None, None),
    ],
)
def test_filters(source, value, expected):
    assert render(source, value=value) == expected


def test_value_map_filter():
    maps = {"regions": {"Europe": "EMEA", "true": "yes"}}
    assert render("{{ value | value_map('regions') }}", value="Europe", value_maps=maps) == "EMEA"
    assert render("{{ value | value_map('regions') }}", value=True, value_maps=maps) == "yes"
    assert render("{{ value | value_map('regions', 'OTHER') }}", value="Mars", value_maps=maps) == "OTHER"
    with pytest.raises(TemplateFailure, match="'Mars' is not in value map 'regions'"):
        render("{{ value | value_map('regions') }}", value="Mars", value_maps=maps)
    with pytest.raises(TemplateFailure, match="no value map named 'nope'"):
        render("{{ value | value_map('nope') }}", value="x", value_maps=maps)


@pytest.mark.parametrize(
    ("source", "value", "message"),
    [
        ("{{ value | as_date }}", "next tuesday", "'next tuesday' is not a date (expected YYYY-MM-DD)"),
        ("{{ value | as_date('%d/%m/%Y') }}", "2026-01-01", "expected %d/%m/%Y"),
        ("{{ value | as_number }}", "12abc", "'12abc' is not a number"),
        ("{{ value | round_money }}", True, "True is not a number"),
        ("{{ value | as_datetime }}", "noon", "is not a date-time"),
    ],
)
def test_bad_input_gives_a_clear_message(source, value, message):
    with pytest.raises(TemplateFailure, match=message.replace("(", r"\(").replace(")", r"\)")):
        render(source, value=value)


def test_default_and_coalesce_cover_undefined_fields():
    assert render("{{ record.nothing | default('x') }}", record={}) == "x"
    assert render("{{ record.a | coalesce(record.b) }}", record={"a": None, "b": 2}) == 2
