"""A map field's crosswalk read the other way: `crosswalk: {object, to}` turns a canonical id
into the id a given system has for it (a PRJ-… project → its Salesforce opportunity), with the
same missing-link rule as `{object, system}`, an `optional` form for both, save-time errors
naming the field, and a batch chunk answering from one query."""

import pytest

from integrations.crosswalk.models import CrosswalkLink
from integrations.engine import compile_flow, run, validate_definition
from integrations.engine.dryrun import DryRunEffects
from integrations.runs.batch.chunk_effects import ChunkEffects
from integrations.runs.batch.chunk_links import ChunkLinks

from .conftest import FakeEffects, flow, map_step

TO_SALESFORCE = {"object": "project", "to": "salesforce"}
OPPORTUNITY = "006000000000001AAA"


class LinkedEffects(FakeEffects):
    """The fake, answering reads from a canonical id too."""

    def linked_id(self, object, canonical_id, system):
        self.calls.append(("linked_id", (object, canonical_id, system)))
        return self.answers.get("linked", {}).get((object, canonical_id, system))


def mapped(*fields, record, effects):
    return run(compile_flow(flow(map_step(*fields))), record, effects)


def test_a_canonical_id_becomes_the_systems_id():
    effects = LinkedEffects(linked={("project", "PRJ-2025-0001", "salesforce"): OPPORTUNITY})
    field = {"to": "opportunity_id", "from": "$.project_id", "crosswalk": TO_SALESFORCE}
    outcome = mapped(field, {"to": "project_id", "from": "$.project_id"}, record={"project_id": "PRJ-2025-0001"},
                     effects=effects)  # fmt: skip
    assert outcome.status == "completed"
    assert outcome.record == {"opportunity_id": OPPORTUNITY, "project_id": "PRJ-2025-0001"}
    assert effects.called("linked_id") == [("project", "PRJ-2025-0001", "salesforce")]
    assert effects.called("crosswalk") == []


def test_no_link_fails_the_record_naming_the_field_as_the_other_direction_does():
    effects = LinkedEffects()
    field = {"to": "opportunity_id", "from": "$.project_id", "crosswalk": TO_SALESFORCE, "default": "none"}
    outcome = mapped(field, record={"project_id": "PRJ-9"}, effects=effects)
    assert outcome.status == "failed" and outcome.error.kind == "mapping"
    assert outcome.error.message == "opportunity_id: project 'PRJ-9' has no salesforce id in the crosswalk"
    # a missing or null source is not read at all: the default applies, as for {object, system}
    assert mapped(field, record={}, effects=effects).record == {"opportunity_id": "none"}
    assert effects.called("linked_id") == [("project", "PRJ-9", "salesforce")]


def test_an_optional_crosswalk_without_a_link_leaves_the_value_missing_in_both_directions():
    effects = LinkedEffects(links={("client", "salesforce", "001"): "C-1"})
    to_crm = {"to": "opportunity_id", "from": "$.project_id", "crosswalk": {**TO_SALESFORCE, "optional": True}}
    from_crm = {"to": "client_id", "from": "$.AccountId",
                "crosswalk": {"object": "client", "system": "salesforce", "optional": True}}  # fmt: skip
    outcome = mapped(to_crm, from_crm, record={"project_id": "PRJ-9", "AccountId": "002"}, effects=effects)
    assert outcome.status == "completed" and outcome.record == {}
    with_default = mapped({**to_crm, "default": ""}, record={"project_id": "PRJ-9"}, effects=effects)
    assert with_default.record == {"opportunity_id": ""}
    required = mapped({**to_crm, "required": True}, record={"project_id": "PRJ-9"}, effects=effects)
    assert required.error.message == "opportunity_id is required but missing (from $.project_id)"
    # a link found is used as ever
    assert mapped(from_crm, record={"AccountId": "001"}, effects=effects).record == {"client_id": "C-1"}


@pytest.mark.parametrize(
    ("crosswalk", "field", "message"),
    [
        ({"object": "invoice", "to": "salesforce"}, "crosswalk.object", "there is no canonical object 'invoice'"),
        ({"object": "project", "to": "sales force"}, "crosswalk.to", "'sales force' is not a connection name"),
        ({"object": "project", "system": "a/b"}, "crosswalk.system", "'a/b' is not a connection name"),
        ({"object": "project", "system": "kantata", "to": "salesforce"}, "crosswalk", "not both"),
        ({"object": "project"}, "crosswalk", "give system (its id → the canonical id) or to"),
        ({"object": "project", "to": "salesforce", "optional": "yes"}, "crosswalk.optional", "is not of type"),
        ({"object": "project", "towards": "salesforce"}, "crosswalk", "'towards' was unexpected"),
    ],
)
def test_a_bad_crosswalk_is_an_error_naming_its_field(crosswalk, field, message):
    errors = validate_definition(flow(map_step({"to": "x", "from": "$.id", "crosswalk": crosswalk})))
    assert [(e.step_id, e.field) for e in errors] == [("m", f"steps[0].fields[0].{field}")]
    assert message in errors[0].message


def test_a_test_run_reads_through_the_callable_given_or_says_it_did_not():
    field = {"to": "opportunity_id", "from": "$.project_id", "crosswalk": TO_SALESFORCE}
    given = DryRunEffects(linked_id=lambda o, c, s: {("project", "PRJ-1", "salesforce"): OPPORTUNITY}.get((o, c, s)))
    assert mapped(field, record={"project_id": "PRJ-1"}, effects=given).record == {"opportunity_id": OPPORTUNITY}
    assert mapped(field, record={"project_id": "PRJ-1"}, effects=DryRunEffects()).record == {
        "opportunity_id": "dry-run:project:PRJ-1:salesforce"}  # fmt: skip


@pytest.mark.django_db
def test_a_batch_chunk_reads_the_links_of_a_system_in_one_query_both_ways(django_assert_num_queries):
    CrosswalkLink.objects.bulk_create(
        [CrosswalkLink(object="project", canonical_id=f"PRJ-{n}", system="salesforce", external_id=f"006-{n}")
         for n in range(50)]
        + [CrosswalkLink(object="project", canonical_id="PRJ-1", system="kantata", external_id="W-1")]
    )  # fmt: skip
    from_crm = {"object": "project", "system": "salesforce"}
    plan = compile_flow(flow(map_step(
        {"to": "opportunity_id", "from": "$.project", "crosswalk": {**TO_SALESFORCE, "optional": True}},
        {"to": "project", "from": "$.opportunity", "crosswalk": from_crm})))  # fmt: skip
    effects = ChunkEffects()
    records = [{"project": f"PRJ-{n}", "opportunity": f"006-{n}"} for n in range(0, 60, 2)]
    with django_assert_num_queries(1):
        outcomes = [run(plan, record, effects) for record in records[:25]]
    assert [o.record for o in outcomes[:2]] == [
        {"opportunity_id": "006-0", "project": "PRJ-0"}, {"opportunity_id": "006-2", "project": "PRJ-2"}]  # fmt: skip
    # PRJ-50 and beyond have no Salesforce link: left out (optional), still within the one query
    with django_assert_num_queries(0):
        late = run(plan, {"project": "PRJ-52", "opportunity": "006-4"}, effects)
    assert late.record == {"project": "PRJ-4"}
    # a link made after the chunk's first read is not seen by that chunk (one snapshot), but by the next
    CrosswalkLink.objects.create(object="project", canonical_id="PRJ-52", system="salesforce", external_id="006-52")
    assert effects.linked_id("project", "PRJ-52", "salesforce") is None
    assert ChunkEffects().linked_id("project", "PRJ-52", "salesforce") == "006-52"


@pytest.mark.django_db
def test_beyond_the_chunk_limit_each_canonical_id_is_read_once(monkeypatch, django_assert_num_queries):
    monkeypatch.setattr("integrations.runs.batch.chunk_links.LINKS_AT_ONCE", 3)
    CrosswalkLink.objects.bulk_create(
        [CrosswalkLink(object="project", canonical_id=f"PRJ-{n}", system="salesforce", external_id=f"006-{n}")
         for n in range(5)]
    )  # fmt: skip
    links = ChunkLinks(lambda *args: None)
    with django_assert_num_queries(3):  # the table (too big), then PRJ-1 and PRJ-9 once each
        assert [links.linked_id("project", c, "salesforce") for c in ("PRJ-1", "PRJ-9", "PRJ-1", "PRJ-9")] == [
            "006-1", None, "006-1", None]  # fmt: skip
