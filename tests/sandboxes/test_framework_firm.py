"""The deterministic professional-services firm every sandbox seeds from."""

import pytest

from integrations.sandboxes.seed.firm import generate_firm


def test_same_seed_same_firm_other_seed_other_firm():
    a, b, c = generate_firm(7, "test"), generate_firm(7, "test"), generate_firm(8, "test")
    assert a.clients == b.clients and a.projects == b.projects and list(a.time_entries()) == list(b.time_entries())
    assert a.opportunities != c.opportunities


def test_records_hang_together():
    firm = generate_firm(42, "demo")
    clients = {c["id"] for c in firm.clients}
    consultants = {c["id"] for c in firm.consultants}
    won = {o["id"] for o in firm.opportunities if o["won"]}
    projects = {p["id"] for p in firm.projects}
    assert won and len(won) < len(firm.opportunities)  # some won, not all
    assert {p["opportunity_id"] for p in firm.projects} == won
    assert all(p["client_id"] in clients for p in firm.projects)
    assert all(a["project_id"] in projects and a["consultant_id"] in consultants for a in firm.assignments)
    assert all(i["project_id"] in projects for i in firm.invoices)
    assert all(e["project_id"] in projects for e in firm.expenses)
    assert len({c["email"] for c in firm.consultants}) == len(firm.consultants)


@pytest.mark.parametrize(("size", "entries"), [("test", 1200), ("demo", 6000), (2500, 2500), (100_000, 100_000)])
def test_time_entries_are_exactly_the_size_asked_for_and_lazy(size, entries):
    firm = generate_firm(42, size)
    stream = firm.time_entries()
    assert not isinstance(stream, list)
    ids = set()
    for entry in stream:
        ids.add(entry["id"])
    assert len(ids) == entries


def test_unknown_size_is_refused():
    with pytest.raises(ValueError, match="size"):
        generate_firm(1, "huge")
