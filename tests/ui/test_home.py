"""The overview: role, capabilities and the numbers waiting for people."""

import re

from integrations.connections.models import Connection


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
