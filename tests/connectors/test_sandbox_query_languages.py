"""The OData ($filter, keys) and SuiteQL subsets the Dataverse and NetSuite sandboxes
understand: pure functions, no database."""

from __future__ import annotations

import pytest

from integrations.sandboxes.dynamics import odata
from integrations.sandboxes.netsuite import suiteql

ROWS = [
    {
        "name": "Northwind",
        "revenue": 5,
        "modifiedon": "2025-04-02T00:00:00Z",
        "accountid": "6f1c2a3e-9b1d-ef11-8409-000d3a5b2c10",
    },
    {"name": "Contoso", "revenue": 50, "modifiedon": "2025-03-01T00:00:00Z", "accountid": None},
    {"name": "O'Hara", "revenue": None, "modifiedon": "2025-05-01T00:00:00Z", "accountid": None},
]


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("modifiedon gt 2025-04-01T00:00:00Z", ["Northwind", "O'Hara"]),
        ("name eq 'northwind'", ["Northwind"]),
        ("name eq 'O''Hara'", ["O'Hara"]),
        ("revenue ge 5 and revenue lt 50", ["Northwind"]),
        ("(name eq 'Contoso' or revenue eq null) and modifiedon ge 2025-01-01", ["Contoso", "O'Hara"]),
        ("accountid eq 6F1C2A3E-9B1D-EF11-8409-000D3A5B2C10", ["Northwind"]),
        ("name ne 'Contoso'", ["Northwind", "O'Hara"]),
    ],
)
def test_odata_filter(expr, names):
    predicate = odata.parse_filter(expr)
    assert [r["name"] for r in ROWS if predicate(r)] == names


@pytest.mark.parametrize("expr", ["name eq", "name like 'x'", "(name eq 'a'", "name eq 'a' xor b eq 1"])
def test_odata_filter_syntax_errors(expr):
    with pytest.raises(odata.ODataSyntaxError):
        odata.parse_filter(expr)


def test_odata_conjunction_is_only_offered_for_plain_and_chains():
    assert odata.conjunction("modifiedon ge 2025-04-01T00:00:00Z and revenue gt 3") == [
        ("modifiedon", "ge", "2025-04-01T00:00:00Z"),
        ("revenue", "gt", 3),
    ]
    for expr in ("a eq 1 or b eq 2", "(a eq 1)", "a eq null", "a eq true"):
        assert odata.conjunction(expr) is None


def test_odata_key_segments():
    assert odata.parse_key_segment("accounts") == ("accounts", None)
    assert (
        odata.parse_key_segment("accounts(6F1C2A3E-9B1D-EF11-8409-000D3A5B2C10)")[1]
        == "6f1c2a3e-9b1d-ef11-8409-000d3a5b2c10"
    )
    assert odata.parse_key_segment("accounts(accountnumber='C-1''0')") == ("accounts", {"accountnumber": "C-1'0"})
    with pytest.raises(odata.ODataSyntaxError):
        odata.parse_key_segment("accounts(nonsense)")


def test_suiteql_parse_and_match():
    q = suiteql.parse(
        "SELECT id, email FROM employee WHERE lastmodifieddate >= TO_TIMESTAMP('2025-04-01 10:00:00', "
        "'YYYY-MM-DD HH24:MI:SS') AND email <> 'x@example.com' ORDER BY id DESC"
    )
    assert q.table == "employee" and q.columns == ["id", "email"] and q.order == ("id", True)
    assert q.matches({"lastmodifieddate": "2025-04-01T10:00:00Z", "email": "a@example.com"})
    assert not q.matches({"lastmodifieddate": "2025-04-01T09:59:59Z", "email": "a@example.com"})
    assert not q.matches({"lastmodifieddate": "2025-05-01T00:00:00Z", "email": "x@example.com"})
    assert q.project({"id": "7", "email": "a", "title": "t"}) == {"id": "7", "email": "a"}


def test_suiteql_or_and_errors():
    q = suiteql.parse("SELECT * FROM customer WHERE companyname = 'Acme' OR id > 5")
    assert q.columns is None and q.joins == ["or"]
    assert q.matches({"companyname": "Acme", "id": 1}) and q.matches({"companyname": "b", "id": 9})
    assert not q.matches({"companyname": "ACME", "id": 1})  # case-sensitive, as in Oracle SQL
    for bad in ("SELECT FROM customer", "DELETE FROM customer", "SELECT id FROM customer WHERE id LIKE 'x'"):
        with pytest.raises(suiteql.SuiteQLError):
            suiteql.parse(bad)
