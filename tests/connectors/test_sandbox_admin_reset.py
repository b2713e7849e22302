"""Every vendor sandbox's admin reset, over real HTTP: administrators only, and a reset
re-seeds the same firm (a second reset changes nothing)."""

import httpx
import pytest

from integrations.sandboxes.credentials import admin_token
from integrations.sandboxes.models import SandboxRecord

pytestmark = pytest.mark.django_db(transaction=True)

VENDORS = ["bamboohr", "dynamics", "hubspot", "kantata", "netsuite", "salesforce", "workday"]


def snapshot(vendor: str) -> dict:
    rows = SandboxRecord.objects.filter(vendor=vendor).exclude(object_type__startswith="_")
    return {(r.object_type, r.record_id): r.data for r in rows}


@pytest.mark.parametrize("vendor", VENDORS)
def test_admin_reset_reseeds_the_same_firm(sandbox_origin, vendor):
    url = f"{sandbox_origin}/sandbox/{vendor}/_admin/reset"
    assert httpx.post(url, json={"size": "test"}).status_code == 403  # administrators only
    headers = {"X-Sandbox-Admin-Token": admin_token()}
    first = httpx.post(url, json={"size": "test"}, headers=headers)
    assert first.status_code == 200 and all(n > 0 for n in first.json()["seeded"].values())
    before = snapshot(vendor)
    assert httpx.post(url, json={"size": "test"}, headers=headers).json() == first.json()
    assert snapshot(vendor) == before and len(before) == sum(first.json()["seeded"].values())
