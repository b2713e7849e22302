"""A flow that declares its source record's id (`canonical.id`) makes that id the business key
of its runs: runs of lead to project are found by the opportunity id, not the event id."""

import io

from integrations.connections.models import Connection
from integrations.events.services import ingest_event
from integrations.gallery import demo as gallery_demo
from integrations.runs.models import Run
from integrations.runs.queries import filter_runs
from tests.runtime.conftest import doorbells  # noqa: F401


def test_runs_are_searchable_by_the_opportunity_id(db, doorbells):  # noqa: F811
    for name in ("salesforce", "kantata", "netsuite", "workday"):
        Connection.objects.create(name=name, kind="generic_rest", base_url=f"https://{name}.example.com")
    gallery_demo.seed(io.StringIO())
    payload = {"Id": "0065g000000AcmeQAA", "StageName": "Closed Won"}
    run = ingest_event(source="salesforce", type="opportunity.won", external_id="evt-77", payload=payload).runs[0]
    assert run.business_key == "0065g000000AcmeQAA"
    assert list(filter_runs(Run.objects.all(), {"business_key": "0065g000000AcmeQAA"})) == [run]
