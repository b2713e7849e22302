"""NetSuite asynchronous writes: the only writes NetSuite makes idempotent by key.

`X-NetSuite-Idempotency-Key` counts only with `Prefer: respond-async` (a synchronous
request ignores it). The answer is 202 + the job's `Location`; a repeat with the same key
is refused with 400 IDEMPOTENCY_ERROR and the *first* job's `Location`, so a retry after
a lost answer finds the first job and its result instead of writing again.
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/chapter_161251386312.html
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/subsect_164494900632.html
Job, task and result: .../subsect_161278579295.html, .../subsect_161252896355.html,
.../subsect_161252889998.html (same folder).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import httpx

from integrations.connectors.errors import ConnectorError
from integrations.connectors.payloads import json_object

if TYPE_CHECKING:
    from integrations.connectors.base import Connector

DEFAULT_WAIT_SECONDS = 60.0
FIRST_POLL_SECONDS = 0.2
MAX_POLL_SECONDS = 5.0


def _job_url(connector: Connector, location: str) -> str:
    # Oracle's examples give the job as a path from the account's REST host.
    return connector.url(location.lstrip("/")) if location.startswith("/services/") else location


def submit(connector: Connector, method: str, path: str, body: dict[str, Any], key: str) -> httpx.Response:
    """Send the write as a job named by `key`, wait for it, and return the job's result."""
    headers = {"Prefer": "respond-async", "X-NetSuite-Idempotency-Key": key}
    response = connector.request(method, path, json=body, headers=headers, raise_for_status=False)
    location = response.headers.get("Location", "")
    already = response.status_code == 400 and connector.error_code(response) == "IDEMPOTENCY_ERROR"
    if response.status_code == 202 or (already and location):
        if not location:
            raise ConnectorError(
                "NetSuite accepted the job but sent no Location.", kind="transient", ambiguous=True, status_code=202
            )
        return result(connector, _job_url(connector, location), key)
    connector.raise_for_response(response)
    return response  # answered synchronously: the account did not apply respond-async


def result(connector: Connector, job_url: str, key: str) -> httpx.Response:
    wait = float(connector.config.get("async_wait_seconds") or DEFAULT_WAIT_SECONDS)
    deadline, pause = time.monotonic() + wait, FIRST_POLL_SECONDS
    while not json_object(connector.request("GET", job_url)).get("completed"):
        if time.monotonic() + pause > deadline:
            # Not an error of the write: the job is queued. The same key finds it again.
            raise ConnectorError(
                f"NetSuite has not finished job {job_url.rsplit('/', 1)[-1]} (key {key}) after {wait:.0f} s; "
                "a retry with the same key waits for the same job.",
                kind="transient",
                ambiguous=True,
            )
        time.sleep(pause)
        pause = min(pause * 2, MAX_POLL_SECONDS)
    tasks = json_object(connector.request("GET", f"{job_url}/task")).get("items") or []
    if not tasks or not isinstance(tasks[0], dict):
        raise ConnectorError(f"NetSuite job {job_url} has no task.", kind="permanent", ambiguous=True)
    task_id = str(tasks[0].get("id", ""))
    answer = connector.request("GET", f"{job_url}/task/{task_id}/result", raise_for_status=False)
    connector.raise_for_response(answer)
    return answer
