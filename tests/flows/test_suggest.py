"""Suggest mappings: the rows proposed for a Salesforce opportunity onto the canonical project,
and why each matched (integrations/flows/suggest.py is pure: no database)."""

from integrations.flows.suggest import Source, Target, fit, normalise, sources_of, suggest, tokens, value_type

OPPORTUNITY = {
    "Id": "006A000001",
    "Name": "Acme rollout",
    "AccountId": "001A000009",
    "StageName": "Closed Won",
    "Amount": 300000.0,
    "CurrencyIsoCode": "EUR",
    "CloseDate": "2026-03-01",
    "Region__c": "Europe",
    "Owner": {"Email": "pm@example.com"},
    "Probability": 100,
}
PROJECT = [
    Target("name", "string", True),
    Target("client_id", "string", True),
    Target("crm_opportunity_id", "string"),
    Target("status", "string", True),
    Target("start_date", "date", True),
    Target("currency", "string", True),
    Target("contract_value", "number"),
    Target("region", "string"),
    Target("budget_hours", "number"),
]


def by_target(rows):
    return {s.target: s for s in rows}


def test_synonyms_propose_the_opportunity_fields_for_the_project():
    rows = by_target(suggest(PROJECT, sources_of(OPPORTUNITY)))
    assert rows["name"].source == "$.Name"
    assert rows["client_id"].source == "$.AccountId"
    assert rows["start_date"].source == "$.CloseDate"
    assert rows["contract_value"].source == "$.Amount"
    assert rows["currency"].source == "$.CurrencyIsoCode"
    assert rows["region"].source == "$.Region__c"
    assert rows["crm_opportunity_id"].source == "$.Id"
    assert "known synonym: CloseDate ↔ start_date" in rows["start_date"].why
    assert "budget_hours" not in rows  # nothing in the record resembles it


def test_already_mapped_targets_and_used_sources_are_not_proposed_again():
    rows = by_target(suggest(PROJECT, sources_of(OPPORTUNITY), mapped={"name", "start_date"}))
    assert "name" not in rows and "start_date" not in rows
    sources = [s.source for s in rows.values()]
    assert len(sources) == len(set(sources))


def test_same_name_and_similar_name_say_so():
    targets = [Target("project_manager_email", "string"), Target("invoice_number", "string")]
    sources = [
        Source("$.project_manager_email", "project_manager_email", "a@b.co"),
        Source("$.Invoice_Num", "Invoice_Num", "7"),
    ]
    rows = by_target(suggest(targets, sources))
    assert rows["project_manager_email"].why.startswith("same name")
    assert rows["invoice_number"].source == "$.Invoice_Num"
    assert rows["invoice_number"].why.startswith("similar name: Invoice_Num ~ invoice_number")
    assert rows["invoice_number"].score < rows["project_manager_email"].score


def test_a_value_that_cannot_become_the_target_type_is_not_proposed():
    targets = [Target("start_date", "date", True)]
    assert suggest(targets, [Source("$.start_date", "start_date", {"nested": 1})]) == []
    rows = suggest(targets, [Source("$.start_date", "start_date", "next week")])
    assert rows[0].coercion == "text → date"  # may fail at run time: the row says what will happen
    assert "types fit (text → date)" in rows[0].why


def test_the_same_input_always_gives_the_same_rows():
    sources = sources_of(OPPORTUNITY)
    first = suggest(PROJECT, sources)
    assert all(suggest(PROJECT, list(reversed(sources))) == first for _ in range(3))


def test_each_source_goes_to_the_target_it_fits_best():
    targets = [Target("amount", "number"), Target("contract_value", "number")]
    rows = by_target(suggest(targets, [Source("$.Amount", "Amount", 10.5)]))
    assert list(rows) == ["amount"]  # the same name beats a synonym; contract_value gets no second use


def test_helpers():
    assert normalise("Project_Start_Date__c") == "projectstartdate"
    assert tokens("closeDate") == {"close", "date"}
    assert value_type("2026-01-02") == "date" and value_type("2026-01-02T10:00:00Z") == "datetime"
    assert value_type(True) == "boolean" and value_type(3) == "integer" and value_type(None) == ""
    assert fit("integer", "number") == (True, None)
    assert fit("string", "number") == (True, "text → number")
    assert fit("object", "string") == (False, None)


def test_sources_walk_nested_objects_and_quote_odd_keys():
    found = {s.path: s.value for s in sources_of({"a": {"b c": 1, "it's": 2}, "d": [1]})}
    assert found == {"$.a['b c']": 1, "$.d": [1]}
