"""Where a test-run's input record comes from: pasted JSON, an uploaded file, the input of
an earlier run of the flow, or a record read from a connection. Each answer is a JSON object
and a label of its source; a bad input raises SampleInvalid naming the form field."""

import json

from integrations.connections.models import Connection
from integrations.connectors.errors import ConnectorError
from integrations.connectors.registry import get_connector
from integrations.flowtests.samples import MAX_SAMPLE_BYTES, SampleInvalid
from integrations.runs.models import Run


def from_text(text, field: str = "record") -> dict:
    text = str(text or "").strip()
    if not text:
        raise SampleInvalid(field, 'paste a JSON object, e.g. {"Id": "006..."}')
    if len(text) > MAX_SAMPLE_BYTES:
        raise SampleInvalid(field, f"larger than {MAX_SAMPLE_BYTES:,} bytes")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise SampleInvalid(field, f"not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise SampleInvalid(field, "must be a JSON object ({...}), not a list or a single value")
    return value


def from_upload(upload, field: str = "file") -> dict:
    if upload is None:
        raise SampleInvalid(field, "choose a .json file")
    if upload.size > MAX_SAMPLE_BYTES:
        raise SampleInvalid(field, f"larger than {MAX_SAMPLE_BYTES:,} bytes")
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SampleInvalid(field, "the file is not UTF-8 text") from exc
    return from_text(text, field)


def from_run(flow, run_id, field: str = "run") -> dict:
    run_id = str(run_id or "").strip().lstrip("#")
    if not run_id.isdigit() or len(run_id) > 18:
        raise SampleInvalid(field, "give the number of a run of this flow, e.g. 42")
    run = Run.objects.select_related("event").filter(pk=int(run_id), flow_version__flow=flow).first()
    if run is None:
        raise SampleInvalid(field, f"this flow has no run #{run_id}")
    record = run.record
    if not isinstance(record, dict):
        raise SampleInvalid(field, f"run #{run_id} has no record input")
    return record


def _connection(name) -> Connection:
    # PostgreSQL refuses a NUL in a query: a name carrying one names no connection.
    name = str(name or "")
    connection = None if "\x00" in name else Connection.objects.filter(name=name).first()
    if connection is None:
        raise SampleInvalid("connection", "pick a connection")
    return connection


def from_connection(connection_name, object_name, record_id, field: str = "record_id") -> dict:
    """One record read through the connector (a sandbox or the real system: reads only)."""
    connection = _connection(connection_name)
    object_name, record_id = str(object_name or "").strip(), str(record_id or "").strip()
    if not object_name or len(object_name) > 100:
        raise SampleInvalid("object", "name the object to read, e.g. Opportunity")
    if not record_id or len(record_id) > 200:
        raise SampleInvalid(field, "give the id of the record to read")
    connector = get_connector(connection)
    try:
        return connector.read(object_name, record_id)
    except ConnectorError as exc:
        raise SampleInvalid(field, f"{connection.name} answered: {exc.message}") from exc
    finally:
        connector.close()


def recent(connection_name, object_name, limit: int = 10) -> list[dict]:
    """A few records of the object to pick from (the connector's first page)."""
    connection = _connection(connection_name)
    object_name = str(object_name or "").strip()
    if not object_name or len(object_name) > 100:
        raise SampleInvalid("object", "name the object to read, e.g. Opportunity")
    connector = get_connector(connection)
    try:
        return connector.query(object_name, page_size=limit).records[:limit]
    except ConnectorError as exc:
        raise SampleInvalid("object", f"{connection.name} answered: {exc.message}") from exc
    finally:
        connector.close()
