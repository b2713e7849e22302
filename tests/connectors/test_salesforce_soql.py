"""The Salesforce sandbox's SOQL subset and record ids: pure, no database."""

from __future__ import annotations

import pytest

from integrations.sandboxes.salesforce import ids, soql
from integrations.sandboxes.salesforce.schema import SOBJECTS

RECORDS = [
    {"Id": "1", "Name": "Northwind - ERP", "Amount": 185000.0, "IsWon": True, "CloseDate": "2025-03-28",
     "SystemModstamp": "2025-03-28T21:40:05.000+0000", "Region__c": "NA"},
    {"Id": "2", "Name": "Contoso - CRM", "Amount": 40000.0, "IsWon": False, "CloseDate": "2025-05-02",
     "SystemModstamp": "2025-05-02T08:00:00.000+0000", "Region__c": None},
    {"Id": "3", "Name": "northwind - Data", "Amount": None, "IsWon": False, "CloseDate": "2025-01-15",
     "SystemModstamp": "2025-01-15T10:00:00.000+0000", "Region__c": "EMEA"},
]  # fmt: skip


def ids_of(text: str) -> list[str]:
    query = soql.canonicalize(soql.parse(text), SOBJECTS["Opportunity"].canonical)
    return [r["Id"] for r in soql.run(query, RECORDS)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT Id FROM Opportunity WHERE IsWon = true", ["1"]),
        ("select id from opportunity where amount > 50000", ["1"]),
        ("SELECT Id FROM Opportunity WHERE Name LIKE 'north%' ORDER BY CloseDate", ["3", "1"]),
        ("SELECT Id FROM Opportunity WHERE SystemModstamp > 2025-02-01T00:00:00Z ORDER BY SystemModstamp DESC",
         ["2", "1"]),
        ("SELECT Id FROM Opportunity WHERE CloseDate >= 2025-03-01 AND CloseDate < 2025-05-01", ["1"]),
        ("SELECT Id FROM Opportunity WHERE Region__c IN ('NA', 'EMEA') ORDER BY Id", ["1", "3"]),
        ("SELECT Id FROM Opportunity WHERE Region__c NOT IN ('NA') ORDER BY Id", ["2", "3"]),
        ("SELECT Id FROM Opportunity WHERE Region__c = null", ["2"]),
        ("SELECT Id FROM Opportunity ORDER BY Amount", ["3", "2", "1"]),  # nulls first ascending
        ("SELECT Id FROM Opportunity ORDER BY Amount DESC LIMIT 2", ["1", "2"]),
        ("SELECT Id FROM Opportunity WHERE Name = 'Northwind - ERP'", ["1"]),
    ],
)  # fmt: skip
def test_queries_filter_order_and_limit(text, expected):
    assert ids_of(text) == expected


@pytest.mark.parametrize(
    ("text", "code", "fragment"),
    [
        ("", "MALFORMED_QUERY", "expecting 'SELECT', found 'end of query'"),
        ("SELECT Id Opportunity", "MALFORMED_QUERY", "expecting 'FROM'"),
        ("SELECT Id FROM Opportunity WHERE", "MALFORMED_QUERY", "unexpected end of query"),
        ("SELECT Id FROM Opportunity LIMIT ten", "MALFORMED_QUERY", "LIMIT must be a non-negative integer"),
        ("SELECT Id FROM Opportunity WHERE Name ~ 'x'", "MALFORMED_QUERY", "unexpected token"),
        ("SELECT Shoe__c FROM Opportunity", "INVALID_FIELD", "No such column 'Shoe__c' on entity 'Opportunity'"),
        ("SELECT Id FROM Opportunity WHERE Name > 5", "INVALID_FIELD", "must be of matching type"),
    ],
)
def test_bad_queries_raise_salesforce_codes(text, code, fragment):
    with pytest.raises(soql.SoqlError) as err:
        ids_of(text)
    assert err.value.code == code and fragment in str(err.value)


def test_ids_carry_prefix_and_case_safe_suffix():
    opp = ids.make_id("Opportunity", 1)
    assert opp.startswith("006") and len(opp) == 18 and ids.is_valid(opp) and ids.is_valid(opp[:15])
    assert ids.checksum("0065g00000XyZ12") == "AAF"  # X and Z upper case in the last chunk: bits 0 and 2
    assert not ids.is_valid(opp[:15] + "ZZZ")
