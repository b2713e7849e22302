"""Suggest mapping rows for unmapped target fields: deterministic and explainable.

Pure (no Django, no database): given the target fields, the source fields read from a sample
record and the targets already mapped, `suggest()` proposes at most one source per unmapped
target and says why it matched. Three signals, strongest first:

1. the same name once case, `_`, `-`, spaces and vendor suffixes (`__c`) are ignored;
2. a known vendor ↔ canonical synonym (SYNONYMS below), e.g. Salesforce `CloseDate` → `start_date`;
3. a similar name: the share of name tokens in common, or the character similarity of the
   normalised names (difflib), whichever is higher, from 0.75 up.

A candidate whose sample value cannot become the target's type is dropped; one that needs a
conversion says which (`text → date`). Each source is proposed once, to the target it fits
best; ties go to the alphabetically first path, so the same input always gives the same rows.

SYNONYMS: each canonical field name lists the vendor field names (compared normalised) that
hold the same fact. The vendor names come from the vendors' objects as our sandboxes model
them (integrations/sandboxes/<vendor>): Salesforce Opportunity and Account, HubSpot deals and
companies, Kantata workspaces and time entries, BambooHR and Workday workers, NetSuite jobs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

# canonical field name → vendor field names that mean the same thing (see the module docstring)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("Name", "dealname", "title", "project_name", "opportunity_name", "companyName"),
    "client_id": ("AccountId", "account_id", "customer_id", "company_id", "associatedcompanyid", "customer"),
    "crm_opportunity_id": ("OpportunityId", "opportunity_id", "Id", "hs_object_id", "deal_id"),
    "status": ("StageName", "dealstage", "status", "Status", "employmentStatus"),
    "start_date": ("CloseDate", "Project_Start_Date__c", "start_date", "startDate", "closedate"),
    "end_date": ("Project_End_Date__c", "due_date", "endDate"),
    "contract_value": ("Amount", "amount", "price", "ExpectedRevenue", "deal_value"),
    "currency": ("CurrencyIsoCode", "deal_currency_code", "currency_code", "currencyCode"),
    "region": ("Region__c", "region", "sales_region"),
    "practice": ("Practice__c", "department", "Department", "division"),
    "description": ("Description", "description", "notes"),
    "budget_hours": ("Budget_Hours__c", "budget_hours", "estimated_hours"),
    "project_manager_email": ("Owner.Email", "owner_email", "hubspot_owner_email"),
    "billing_type": ("Billing_Type__c", "billing_type", "contract_type"),
    "first_name": ("FirstName", "firstName", "first_name", "givenName"),
    "last_name": ("LastName", "lastName", "last_name", "familyName"),
    "email": ("Email", "workEmail", "email", "primary_work_email"),
    "hire_date": ("hireDate", "Hire_Date", "hire_date", "startDate"),
    "termination_date": ("terminationDate", "termination_date"),
    "job_title": ("jobTitle", "Title", "job_title"),
    "employee_number": ("employeeNumber", "employee_id", "Employee_ID"),
    "worker_id": ("user_id", "employee_id", "employeeId", "worker"),
    "project_id": ("workspace_id", "job_id", "project"),
    "total_hours": ("time_in_hours", "hours", "quantity", "reportedQuantity"),
    "legal_name": ("legalName", "companyName", "Legal_Name__c"),
    "industry": ("Industry", "industry"),
    "tax_id": ("VAT_Number__c", "vatRegNumber", "tax_id"),
}

THRESHOLD = 0.75  # below this a similar name is not proposed
_SUFFIX = re.compile(r"(__c|__pc)$", re.I)
_SPLIT = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
# JSON value types a target type accepts as it is, and those it accepts after a conversion
_SAME = {
    "string": {"string"},
    "number": {"number", "integer"},
    "integer": {"integer"},
    "boolean": {"boolean"},
    "date": {"date"},
    "datetime": {"datetime"},
    "object": {"object"},
    "array": {"array"},
}
_CONVERTS = {
    "string": {"number", "integer", "boolean", "date", "datetime"},
    "number": {"string"},
    "integer": {"string", "number"},
    "boolean": {"string", "integer"},
    "date": {"string", "datetime", "integer"},
    "datetime": {"string", "date", "integer"},
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


@dataclass(frozen=True)
class Target:
    path: str  # output field, dotted
    type: str  # string, number, integer, boolean, date, datetime, object, array ("" = any)
    required: bool = False


@dataclass(frozen=True)
class Source:
    path: str  # JSONPath, e.g. $.opportunity.CloseDate
    name: str  # the last key, e.g. CloseDate
    value: Any = None


@dataclass(frozen=True)
class Suggestion:
    target: str
    source: str
    score: float
    reasons: tuple[str, ...]
    coercion: str | None  # e.g. "text → date", None when the value fits as it is

    @property
    def why(self) -> str:
        return "; ".join(self.reasons)


def normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", _SUFFIX.sub("", name).lower())


def tokens(name: str) -> frozenset[str]:
    """`Project_Start_Date__c` → {project, start, date}; `closeDate` → {close, date}."""
    return frozenset(t.lower() for t in _SPLIT.findall(_SUFFIX.sub("", name)))


def value_type(value: Any) -> str:
    """The JSON type of a sample value, with dates and date-times told apart from text."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        if _DATE.match(value):
            return "date"
        if _DATETIME.match(value):
            return "datetime"
        return "string"
    return ""  # null or unknown: no type evidence either way


def fit(source_type: str, target_type: str) -> tuple[bool, str | None]:
    """(compatible, conversion) of a source value type for a target type."""
    if not source_type or not target_type or source_type in _SAME.get(target_type, set()):
        return True, None
    if source_type in ("date", "datetime") and target_type == "string":
        return True, None  # dates travel as ISO text
    if source_type in _CONVERTS.get(target_type, set()):
        return True, f"{_LABEL.get(source_type, source_type)} → {_LABEL.get(target_type, target_type)}"
    return False, None


_LABEL = {"string": "text", "integer": "whole number", "number": "number", "date": "date", "datetime": "date-time"}
_SYNONYMS_NORMALISED = {target: {normalise(name) for name in names} for target, names in SYNONYMS.items()}


def _name_score(target: str, source: str) -> tuple[float, str] | None:
    leaf = target.rsplit(".", 1)[-1]
    if normalise(source) == normalise(leaf):
        return 1.0, f"same name ({source} = {leaf})"
    if normalise(source) in _SYNONYMS_NORMALISED.get(leaf, ()):
        return 0.97, f"known synonym: {source} ↔ {leaf}"
    a, b = tokens(leaf), tokens(source)
    overlap = len(a & b) / len(a | b) if a and b else 0.0
    ratio = SequenceMatcher(None, normalise(leaf), normalise(source)).ratio()
    score = round(max(overlap, ratio) * 0.9, 3)  # similar names never outrank an exact one
    if score < THRESHOLD * 0.9:
        return None
    return score, f"similar name: {source} ~ {leaf} ({round(max(overlap, ratio) * 100)}%)"


def candidates(target: Target, sources: list[Source]) -> list[Suggestion]:
    found = []
    for source in sources:
        named = _name_score(target.path, source.name)
        if named is None:
            continue
        score, reason = named
        ok, coercion = fit(value_type(source.value), target.type)
        if not ok:
            continue
        reasons = [reason]
        if target.type and value_type(source.value):
            reasons.append(f"types fit ({coercion})" if coercion else f"types fit ({target.type})")
            score = round(score - (0.02 if coercion else 0.0), 3)
        found.append(Suggestion(target.path, source.path, score, tuple(reasons), coercion))
    return found


def suggest(
    targets: list[Target], sources: list[Source], mapped: set[str] | frozenset[str] = frozenset()
) -> list[Suggestion]:
    """At most one suggestion per unmapped target, each source used once, best matches first
    (required targets win ties), in target order."""
    pool = [c for t in targets if t.path not in mapped for c in candidates(t, sources)]
    required = {t.path for t in targets if t.required}
    pool.sort(key=lambda s: (-s.score, s.target not in required, s.target, s.source))
    taken_targets: set[str] = set()
    taken_sources: set[str] = set()
    chosen: dict[str, Suggestion] = {}
    for item in pool:
        if item.target in taken_targets or item.source in taken_sources:
            continue
        taken_targets.add(item.target)
        taken_sources.add(item.source)
        chosen[item.target] = item
    return [chosen[t.path] for t in targets if t.path in chosen]


def sources_of(record: Any, prefix: str = "$", depth: int = 0, limit: int = 500) -> list[Source]:
    """Every leaf of a sample record as a source (nested objects are walked), up to `limit`
    fields and four levels: keys that are not plain names use the bracket form (`$['odd key']`)."""
    found: list[Source] = []
    if not isinstance(record, dict) or depth > 3:
        return found
    for key, value in record.items():
        if len(found) >= limit:
            break
        key = str(key)
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            path = f"{prefix}.{key}"
        elif "'" not in key and "\\" not in key:
            path = f"{prefix}['{key}']"
        else:
            continue  # a key JSONPath cannot quote: map it with a template instead
        if isinstance(value, dict):
            found.extend(sources_of(value, path, depth + 1, limit - len(found)))
        else:
            found.append(Source(path, key, value))
    return found[:limit]
