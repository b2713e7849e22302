"""Benchmarks 1 and 2 of issue 3: compiled mapping plans against their baselines.

1. path-only: a 30-field mapping of a nested CRM opportunity, run as a compiled plan through
   `integrations.engine.run`, against the same mapping hand-written in plain Python.
   Target: plan >= 0.5x hand-written.
2. transforms: the same 30 fields of which 6 go through templates, a route with 3 rules and
   validation against the canonical `project@1` schema, against a baseline that does the
   same with jsonpath-ng paths parsed once, Jinja2 templates and conditions compiled once and
   a precompiled jsonschema validator. Target: plan >= 2.5x baseline.

Both variants of a benchmark run alternately, REPEATS times each, in this one process over
the same records, timed in process CPU time (so other processes on a shared machine skew
the figures less). The median records/s of each variant is printed with the median of the
per-run ratios. Exits 1 if a target is missed.

    .venv/bin/python bench/mapping.py [--repeats 7] [--records 2000]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jsonpath_ng import parse as jsonpath_parse
from jsonschema import Draft202012Validator

from integrations.canonical.registry import get_schema
from integrations.engine import compile_flow, run
from integrations.engine.filters import FILTERS

TARGET_PATHS = 0.5
TARGET_TRANSFORMS = 2.5

# (output field, source path) — 30 fields of a Salesforce opportunity with its account and owner
FIELDS: list[tuple[str, str]] = [
    ("crm_opportunity_id", "$.Id"),
    ("name", "$.Name"),
    ("stage", "$.StageName"),
    ("close_date", "$.CloseDate"),
    ("amount", "$.Amount"),
    ("currency", "$.CurrencyIsoCode"),
    ("probability", "$.Probability"),
    ("type", "$.Type"),
    ("lead_source", "$.LeadSource"),
    ("region", "$.Region__c"),
    ("practice", "$.Practice__c"),
    ("billing_type", "$.Billing_Type__c"),
    ("start_date", "$.Start_Date__c"),
    ("end_date", "$.End_Date__c"),
    ("budget_hours", "$.Budget_Hours__c"),
    ("account_id", "$.Account.Id"),
    ("account_name", "$.Account.Name"),
    ("account_industry", "$.Account.Industry"),
    ("billing_street", "$.Account.BillingAddress.street"),
    ("billing_city", "$.Account.BillingAddress.city"),
    ("billing_country", "$.Account.BillingAddress.country"),
    ("billing_postal_code", "$.Account.BillingAddress.postalCode"),
    ("owner_id", "$.Owner.Id"),
    ("owner_email", "$.Owner.Email"),
    ("owner_name", "$.Owner.Name"),
    ("primary_contact_email", "$.OpportunityContactRoles.records[0].Contact.Email"),
    ("primary_contact_name", "$.OpportunityContactRoles.records[0].Contact.Name"),
    ("first_product", "$.OpportunityLineItems.records[0].Product2.Name"),
    ("first_product_quantity", "$.OpportunityLineItems.records[0].Quantity"),
    ("first_product_price", "$.OpportunityLineItems.records[0].UnitPrice"),
]

# benchmark 2: six of the fields get a template, and the output is a canonical project
TEMPLATES = {
    "name": "{{ value | trim }}",
    "currency": "{{ value | upper }}",
    "start_date": "{{ value | as_date }}",
    "end_date": "{{ value | as_date }}",
    "amount": "{{ value | round_money }}",
    "practice": "{{ value | lower }}",
}
RULES = [
    ("emea", "record.region == 'EMEA'"),
    ("big", "record.contract_value > 250000"),
    ("apac", "record.region == 'APAC'"),
]


def make_record(rng: random.Random, i: int) -> dict[str, Any]:
    region = rng.choice(["NA", "EMEA", "APAC", "LATAM"])
    return {
        "attributes": {"type": "Opportunity", "url": f"/services/data/v60.0/sobjects/Opportunity/006{i:015d}"},
        "Id": f"006{i:015d}",
        "Name": f"  Acme {i} data platform rollout ",
        "StageName": "Closed Won",
        "CloseDate": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "Amount": round(rng.uniform(10_000, 900_000), 3),
        "CurrencyIsoCode": rng.choice(["usd", "eur", "gbp"]),
        "Probability": 100,
        "Type": "New Business",
        "LeadSource": "Partner",
        "Region__c": region,
        "Practice__c": rng.choice(["Data", "Cloud", "Strategy"]),
        "Billing_Type__c": rng.choice(["time_and_materials", "fixed_fee"]),
        "Start_Date__c": "2026-02-01",
        "End_Date__c": "2026-11-30",
        "Budget_Hours__c": rng.randint(100, 5000),
        "Description": "x" * 200,
        "Account": {
            "Id": f"001{i:015d}",
            "Name": f"Acme Holdings {i}",
            "Industry": "Manufacturing",
            "BillingAddress": {"street": "1 Main St", "city": "Springfield", "country": "US", "postalCode": "01101"},
            "Owner": {"Id": "005000000000001", "Name": "Sam Seller"},
        },
        "Owner": {"Id": "005000000000002", "Email": "pat@example.com", "Name": "Pat Partner"},
        "OpportunityContactRoles": {
            "totalSize": 2,
            "records": [
                {"Role": "Decision Maker", "Contact": {"Name": "Dana Buyer", "Email": f"dana{i}@acme.example"}},
                {"Role": "Evaluator", "Contact": {"Name": "Eli User", "Email": "eli@acme.example"}},
            ],
        },
        "OpportunityLineItems": {
            "totalSize": 1,
            "records": [{"Product2": {"Name": "Implementation"}, "Quantity": 10, "UnitPrice": 1500.0}],
        },
    }


def hand_written(r: dict[str, Any]) -> dict[str, Any]:
    account, owner = r["Account"], r["Owner"]
    address = account["BillingAddress"]
    contact = r["OpportunityContactRoles"]["records"][0]["Contact"]
    item = r["OpportunityLineItems"]["records"][0]
    return {
        "crm_opportunity_id": r["Id"],
        "name": r["Name"],
        "stage": r["StageName"],
        "close_date": r["CloseDate"],
        "amount": r["Amount"],
        "currency": r["CurrencyIsoCode"],
        "probability": r["Probability"],
        "type": r["Type"],
        "lead_source": r["LeadSource"],
        "region": r["Region__c"],
        "practice": r["Practice__c"],
        "billing_type": r["Billing_Type__c"],
        "start_date": r["Start_Date__c"],
        "end_date": r["End_Date__c"],
        "budget_hours": r["Budget_Hours__c"],
        "account_id": account["Id"],
        "account_name": account["Name"],
        "account_industry": account["Industry"],
        "billing_street": address["street"],
        "billing_city": address["city"],
        "billing_country": address["country"],
        "billing_postal_code": address["postalCode"],
        "owner_id": owner["Id"],
        "owner_email": owner["Email"],
        "owner_name": owner["Name"],
        "primary_contact_email": contact["Email"],
        "primary_contact_name": contact["Name"],
        "first_product": item["Product2"]["Name"],
        "first_product_quantity": item["Quantity"],
        "first_product_price": item["UnitPrice"],
    }


class NoEffects:
    """Benchmarks have no lookups, crosswalk links or deliveries."""

    def crosswalk(self, object: str, system: str, external_id: str) -> None:
        return None


# ---- benchmark 2: the project flow -------------------------------------------------------

PROJECT_FIELDS = [
    ("id", "$.Id"),
    ("crm_opportunity_id", "$.Id"),
    ("name", "$.Name"),
    ("client_id", "$.Account.Id"),
    ("status", None),
    ("billing_type", "$.Billing_Type__c"),
    ("start_date", "$.Start_Date__c"),
    ("end_date", "$.End_Date__c"),
    ("currency", "$.CurrencyIsoCode"),
    ("contract_value", "$.Amount"),
    ("budget_hours", "$.Budget_Hours__c"),
    ("region", "$.Region__c"),
    ("practice", "$.Practice__c"),
    ("project_manager_email", "$.Owner.Email"),
]
# the remaining fields of the 30 go, as strings, to the external_ids of the project
EXTRA_FIELDS = [f for f in FIELDS if f[0] not in {p for p, _ in PROJECT_FIELDS}][: 30 - len(PROJECT_FIELDS)]
TEMPLATE_OF = {
    "name": TEMPLATES["name"],
    "currency": TEMPLATES["currency"],
    "start_date": TEMPLATES["start_date"],
    "end_date": TEMPLATES["end_date"],
    "contract_value": TEMPLATES["amount"],
    "practice": TEMPLATES["practice"],
}


def transforms_definition() -> dict[str, Any]:
    fields: list[dict[str, Any]] = []
    for to, source in PROJECT_FIELDS:
        field: dict[str, Any] = {"to": to, "constant": "won"} if source is None else {"to": to, "from": source}
        if to in TEMPLATE_OF:
            field["template"] = TEMPLATE_OF[to]
        fields.append(field)
    fields += [{"to": f"external_ids.{to}", "from": source, "type": "string"} for to, source in EXTRA_FIELDS]
    rules = [{"name": name, "when": when, "to": f"deliver_{name}"} for name, when in RULES]
    deliver = [
        {"id": f"deliver_{n}", "type": "map", "merge": True, "fields": [{"to": "route", "constant": n}]}
        for n in [*(name for name, _ in RULES), "other"]
    ]
    return {
        "trigger": {"type": "manual"},
        "steps": [
            {"id": "project", "type": "map", "target": "project@1", "fields": fields},
            {"id": "check", "type": "validate", "schema": "project@1"},
            {"id": "by_region", "type": "route", "mode": "first-match", "rules": rules, "otherwise": "deliver_other"},
            *deliver,
        ],
    }


def paths_definition() -> dict[str, Any]:
    fields = [{"to": to, "from": source} for to, source in FIELDS]
    return {"trigger": {"type": "manual"}, "steps": [{"id": "map", "type": "map", "fields": fields}]}


def baseline_transforms() -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Precompiled jsonpath-ng and compiled Jinja2 for everything, precompiled jsonschema."""
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    env.filters.update(FILTERS)
    fields = []
    for to, source in PROJECT_FIELDS:
        getter = jsonpath_parse(source) if source else None
        template = env.from_string(TEMPLATE_OF[to]) if to in TEMPLATE_OF else None
        fields.append((to, getter, template))
    extras = [(to, jsonpath_parse(source)) for to, source in EXTRA_FIELDS]
    rules = [(name, env.compile_expression(when)) for name, when in RULES]
    validator = Draft202012Validator(get_schema("project", 1))

    def convert(to: str, text: str) -> Any:  # templates render strings; bring numbers back
        return float(text) if to == "contract_value" else text

    def mapped(record: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for to, getter, template in fields:
            if getter is None:
                out[to] = "won"
                continue
            matches = getter.find(record)
            if not matches:
                continue
            value = matches[0].value
            out[to] = convert(to, template.render(value=value)) if template else value
        external = out.setdefault("external_ids", {})
        for to, getter in extras:
            matches = getter.find(record)
            if matches:
                external[to] = str(matches[0].value)
        if not validator.is_valid(out):
            raise ValueError("invalid")
        route = next((name for name, rule in rules if rule(record=out)), "other")
        return {**out, "route": route}

    return mapped


def _rate(func: Callable[[dict[str, Any]], Any], records: list[dict[str, Any]]) -> float:
    started = time.process_time()
    for record in records:
        func(record)
    return len(records) / max(time.process_time() - started, 1e-9)


def compare(labels: tuple[str, str], funcs: tuple[Callable[..., Any], Callable[..., Any]], records, repeats) -> float:
    """Run the two variants alternately (so both see the same machine load); median ratio b/a."""
    rates: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for rate, func in zip(rates, funcs, strict=True):
            rate.append(_rate(func, records))
    for label, rate in zip(labels, rates, strict=True):
        runs = ", ".join(f"{r:,.0f}" for r in rate)
        print(f"  {label:<58} {statistics.median(rate):>10,.0f} records/s  (runs: {runs})")
    return statistics.median(b / a for a, b in zip(*rates, strict=True))


def check_equivalence(records: list[dict[str, Any]]) -> None:
    plan = compile_flow(paths_definition())
    for record in records[:50]:
        assert run(plan, record, NoEffects()).record == hand_written(record), "plan and hand-written disagree"
    plan2, baseline = compile_flow(transforms_definition()), baseline_transforms()
    for record in records[:50]:
        outcome = run(plan2, record, NoEffects())
        assert outcome.status == "completed", outcome.error
        assert outcome.record == baseline(record), "plan and baseline disagree"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--records", type=int, default=2000)
    args = parser.parse_args()
    rng = random.Random(42)
    records = [make_record(rng, i) for i in range(args.records)]
    check_equivalence(records)
    effects = NoEffects()
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]};"
        f" {args.records} records x {args.repeats} runs"
    )

    print("Benchmark 1: 30-field path-only mapping")
    paths_plan = compile_flow(paths_definition())
    ratio1 = compare(
        ("hand-written Python", "compiled plan (engine.run)"),
        (hand_written, lambda r: run(paths_plan, r, effects)),
        records,
        args.repeats,
    )
    print(f"  ratio plan / hand-written (median of per-run ratios) = {ratio1:.2f}  (target >= {TARGET_PATHS})")

    print("Benchmark 2: 30 fields, 6 templates, 3 routing rules, schema validation")
    transforms_plan, baseline = compile_flow(transforms_definition()), baseline_transforms()
    ratio2 = compare(
        ("baseline (jsonpath-ng + Jinja2 + jsonschema, precompiled)", "compiled plan (engine.run)"),
        (baseline, lambda r: run(transforms_plan, r, effects)),
        records[: max(len(records) // 4, 1)],
        args.repeats,
    )
    print(f"  ratio plan / baseline (median of per-run ratios) = {ratio2:.2f}  (target >= {TARGET_TRANSFORMS})")

    missed = [name for name, ok in (("1", ratio1 >= TARGET_PATHS), ("2", ratio2 >= TARGET_TRANSFORMS)) if not ok]
    if missed:
        print(f"MISSED target(s) of benchmark {', '.join(missed)}")
        return 1
    print("both targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
