"""The HubSpot sandbox's search semantics: pure, no database."""

from __future__ import annotations

import pytest

from integrations.sandboxes.hubspot import search


def deal(record_id: str, stage: str, amount: str, modified: str) -> dict:
    return {"id": record_id, "properties": {"dealstage": stage, "amount": amount, "hs_lastmodifieddate": modified}}


DEALS = [
    deal("1", "closedwon", "185000", "2025-03-28T21:40:05.301Z"),
    deal("2", "qualifiedtobuy", "40000", "2025-05-02T08:00:00.000Z"),
    deal("3", "closedwon", "", "2025-01-15T10:00:00.000Z"),
]


def ids_of(**body) -> list[str]:
    return [r["id"] for r in search.run(search.validate({"limit": 10, **body}), DEALS)]


def flt(name, op, value=None, **extra) -> dict:
    return {"filterGroups": [{"filters": [{"propertyName": name, "operator": op, "value": value, **extra}]}]}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (flt("dealstage", "EQ", "closedwon"), ["1", "3"]),
        (flt("amount", "GT", "50000"), ["1"]),
        (flt("amount", "BETWEEN", "1000", highValue="50000"), ["2"]),
        (flt("dealstage", "IN", None, values=["qualifiedtobuy", "closedlost"]), ["2"]),
        (flt("amount", "HAS_PROPERTY"), ["1", "2"]),
        (flt("amount", "NOT_HAS_PROPERTY"), ["3"]),
        (flt("hs_lastmodifieddate", "GT", "1740787200000"), ["1", "2"]),  # epoch ms for 2025-03-01
        ({"filterGroups": [{"filters": [{"propertyName": "amount", "operator": "LT", "value": "50000"}]},
                           {"filters": [{"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"}]}]},
         ["1", "2", "3"]),  # groups are ORed
        ({"sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "DESCENDING"}]}, ["2", "1", "3"]),
        ({"sorts": [{"propertyName": "amount", "direction": "ASCENDING"}]}, ["2", "1", "3"]),  # empty last
    ],
)  # fmt: skip
def test_filters_and_sorts(body, expected):
    assert ids_of(**body) == expected


@pytest.mark.parametrize(
    "body",
    [
        {"filterGroups": [{"filters": []}] * 6},
        {"filterGroups": [{"filters": [{"propertyName": "a", "operator": "EQ"}] * 7}]},
        flt("dealstage", "ROUGHLY", "closedwon"),
        {"limit": 201},
        {"limit": 0},
        {"filterGroups": [{"filters": [{"operator": "EQ", "value": "x"}]}]},
    ],
)
def test_requests_beyond_hubspot_limits_are_refused(body):
    with pytest.raises(search.SearchError):
        search.validate({"limit": 10, **body})
