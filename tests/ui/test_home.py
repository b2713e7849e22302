"""The overview: role, capabilities and the numbers waiting for people."""

import html as entities
import re
from datetime import timedelta

from integrations.connections.models import Connection
from integrations.runs.models import RunException
from tests.ui.test_runs import make_flow, make_run


def tile(html: str, key: str) -> tuple[str, bool]:
    match = re.search(
        rf'<a class="tile( tile-alert)?" href="([^"]+)" data-testid="tile-{key}">\s*'
        r'<span class="tile-count">(\d+)</span>',
        html,
    )
    assert match, f"no tile {key}"
    return match.group(3), bool(match.group(1))


def test_counts_link_to_their_lists_and_flag_what_needs_someone(client_for, db):
    Connection.objects.create(name="netsuite", kind="netsuite", base_url="https://ns.example.com", paused=True)
    html = client_for("viewer").get("/").content.decode()
    assert tile(html, "paused") == ("1", True)
    assert tile(html, "exceptions") == ("0", False)
    assert 'href="/connections/" data-testid="tile-paused"' in html
    assert 'href="/approvals/" data-testid="tile-approvals"' in html


def test_no_numbers_for_a_user_without_a_role(client_for):
    html = client_for("outsider").get("/").content.decode()
    assert 'data-testid="home-tiles"' not in html and "You have no role yet" in html


def rows_on(client, url: str) -> int:
    return client.get(url).content.decode().count('data-testid="run-row"')


def test_each_run_tile_counts_exactly_the_rows_of_the_list_it_opens(client_for, db):
    (version,) = make_flow()
    make_run(version, "succeeded", ago=timedelta(minutes=5))
    failed = make_run(version, "failed", ago=timedelta(minutes=1))
    make_run(version, "failed", ago=timedelta(days=2))  # not today: in neither tile nor list
    for item, status in (("1", "open"), ("2", "retrying")):
        RunException.objects.create(run=failed, flow=version.flow, item=item, message="x", status=status)
    client = client_for("viewer")
    html = client.get("/").content.decode()
    for key, expected in (("runs", "2"), ("failed", "1")):
        count, _ = tile(html, key)
        url = entities.unescape(re.search(rf'href="([^"]+)" data-testid="tile-{key}"', html).group(1))
        assert count == expected and rows_on(client, url) == int(expected), (key, url)
    assert tile(html, "exceptions") == ("1", True)  # the Open tab: the retrying one is elsewhere
