"""Bad input to the Workday, BambooHR, NetSuite and Dynamics sandboxes gets the vendor's 4xx,
never a 500 and never a half-written record."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from integrations.sandboxes import bearer
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.models import SandboxRecord
from integrations.sandboxes.seed.firm import generate_firm
from integrations.sandboxes.workday.seed import wid

pytestmark = pytest.mark.django_db

D, N, W, B = (
    "/sandbox/dynamics/api/data/v9.2",
    "/sandbox/netsuite/services/rest",
    "/sandbox/workday/ccx",
    "/sandbox/bamboohr/api",
)
WT = f"{W}/api/timeTracking/v5/switchboard_sb"
WID = "f" * 32  # a well-formed Workday ID that names nothing
WORKER = wid("worker", generate_firm(42, "test").consultants[0]["id"])  # seeded by the seeded cases
CASES = [
    ("dynamics", "post", f"{D}/accounts", "not json", 400),
    ("dynamics", "post", f"{D}/accounts", "[1, 2]", 400),
    ("dynamics", "post", f"{D}/accounts", '{"name": ["x"]}', 400),
    ("dynamics", "patch", f"{D}/accounts(name='x')", '{"name": "x"}', 400),
    ("dynamics", "patch", f"{D}/opportunities(nonsense)", "{}", 400),
    ("dynamics", "get", f"{D}/accounts?$filter=name eq", None, 400),
    ("dynamics", "get", f"{D}/accounts?$select=nope", None, 400),
    ("dynamics", "get", f"{D}/unicorns", None, 404),
    ("netsuite", "post", f"{N}/record/v1/customer", "{", 400),
    ("netsuite", "post", f"{N}/record/v1/customer", '{"companyName": 5, "subsidiary": {"id": "1"}}', 400),
    ("netsuite", "patch", f"{N}/record/v1/customer/1", "[]", 404),
    ("netsuite", "put", f"{N}/record/v1/customer/17", "{}", 400),
    ("netsuite", "get", f"{N}/record/v1/unicorn", None, 404),
    ("netsuite", "get", f"{N}/record/v1/customer?limit=0", None, 400),
    ("netsuite", "get", f"{N}/record/v1/customer?limit=2&offset=3", None, 400),
    ("netsuite", "get", f"{N}/record/v1/customer?q=companyName%20IS", None, 400),
    ("netsuite", "post", f"{N}/query/v1/suiteql", '{"q": "SELECT id FROM unicorn"}', 400),
    ("netsuite", "post", f"{N}/query/v1/suiteql", "[]", 400),
    ("workday", "post", f"{WT}/timeBlocks", "{}", 404),
    ("workday", "post", f"{WT}/workers/{WID}/workerTimeBlock", "{}", 404),
    ("workday", "get", f"{W}/api/v1/switchboard_sb/workers?limit=0", None, 400),
    ("workday", "get", f"{W}/api/v1/switchboard_sb/workers?offset=x", None, 400),
    ("workday", "get", f"{W}/api/v1/other_tenant/workers", None, 404),
    ("workday", "get", f"{W}/service/customreport2/switchboard_sb/ISU_Switchboard/Nope?format=json", None, 404),
    ("bamboohr", "post", f"{B}/v1/employees", "x", 400),
    ("bamboohr", "post", f"{B}/v1/employees", '{"firstName": "A", "lastName": "B", "hireDate": 5}', 409),
    ("bamboohr", "post", f"{B}/v1/employees/101", '{"shoeSize": 9}', 404),
    ("bamboohr", "get", f"{B}/v1/employees/changed?since=yesterday", None, 400),
    ("bamboohr", "get", f"{B}/v1/employees?page%5Blimit%5D=abc", None, 400),
    ("bamboohr", "get", f"{B}/v1/employees?filter%5Bstatus%5D=gone", None, 400),
    ("bamboohr", "post", f"{B}/v1/webhooks", "{}", 400),
    ("bamboohr", "get", f"{B}/v1/employees?sort=-lastName", None, 400),
    ("bamboohr", "post", f"{B}/v2/datasets/employee/data", '{"fields": "x"}', 400),
    ("bamboohr", "post", f"{B}/v2/datasets/employee/data", '{"fields": ["id"], "filter": "(("}', 400),
]


def auth(vendor: str) -> dict[str, str]:
    if vendor == "bamboohr":
        raw = f"{sandbox_credentials(vendor)['api_key']}:x".encode()
        return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(raw).decode()}
    return {"HTTP_AUTHORIZATION": f"Bearer {bearer.issue(vendor, 'tests')[0]}", "HTTP_PREFER": "transient"}


@pytest.mark.parametrize(("vendor", "method", "url", "body", "status"), CASES)
def test_bad_input_is_a_4xx_with_nothing_written(settings, vendor, method, url, body, status):
    settings.SWITCHBOARD_SANDBOXES_ENABLED = True
    before = SandboxRecord.objects.exclude(object_type="_auth").count()
    kwargs = {"data": body, "content_type": "application/json"} if body is not None else {}
    response = getattr(Client(), method)(url, **kwargs, **auth(vendor))
    assert response.status_code == status, response.content[:300]
    assert SandboxRecord.objects.exclude(object_type="_auth").count() == before


SEEDED_CASES = [
    ("bamboohr", "post", f"{B}/v1/employees/101", '{"shoeSize": 9}', 400, {}),
    ("bamboohr", "post", f"{B}/v1/employees/101", '{"workEmail": "nope"}', 409, {}),
    ("netsuite", "patch", f"{N}/record/v1/customer/1000", "[]", 400, {}),
    ("netsuite", "patch", f"{N}/record/v1/customer/1000", '{"subsidiary": {"id": "77"}}', 400, {}),
    ("netsuite", "put", f"{N}/record/v1/customer/eid:C-10001", '{"externalId": "other"}', 400, {}),
    ("dynamics", "patch", f"{D}/accounts(accountnumber='C-10001')", '{"name": "x"}', 412, {"HTTP_IF_MATCH": 'W/"99"'}),
    ("dynamics", "patch", f"{D}/accounts(accountnumber='C-10001')", '{"accountnumber": "C-10002"}', 412, {}),
    ("workday", "post", f"{WT}/workers/{WORKER}/workerTimeBlock", "x", 400, {}),
    ("workday", "post", f"{WT}/workers/{WORKER}/workerTimeBlock", '{"reportedQuantity": "a"}', 400, {}),
    ("workday", "patch", f"{WT}/workers/{WORKER}/workerTimeBlock/{WID}", "{}", 404, {}),
]


@pytest.mark.parametrize(("vendor", "method", "url", "body", "status", "headers"), SEEDED_CASES)
def test_bad_changes_to_seeded_records_are_refused_unchanged(settings, vendor, method, url, body, status, headers):
    from importlib import import_module

    settings.SWITCHBOARD_SANDBOXES_ENABLED = True
    import_module(f"integrations.sandboxes.{vendor}.seed").seed("test")
    before = {(r.object_type, r.record_id): (r.data, r.version) for r in SandboxRecord.objects.filter(vendor=vendor)}
    response = getattr(Client(), method)(url, data=body, content_type="application/json", **auth(vendor), **headers)
    assert response.status_code == status, response.content[:300]
    after = {(r.object_type, r.record_id): (r.data, r.version) for r in SandboxRecord.objects.filter(vendor=vendor)}
    assert after == before
