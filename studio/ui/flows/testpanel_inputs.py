"""The test panel's input: which source the analyst picked and the record it gives."""

from integrations.flowtests import inputs
from integrations.flowtests.models import Sample
from integrations.flowtests.samples import SampleInvalid

SOURCES = (
    ("paste", "Paste JSON"),
    ("file", "Upload a file"),
    ("run", "Input of run #"),
    ("connection", "Record from a connection"),
    ("sample", "Pinned sample"),
)


def record_from(request, flow) -> tuple[dict, str]:
    """(record, source label) from the POSTed form; SampleInvalid names the field at fault."""
    data = request.POST
    source = data.get("source", "paste")
    if source == "file":
        upload = request.FILES.get("file")
        return inputs.from_upload(upload), f"file {str(getattr(upload, 'name', ''))[:100]}"
    if source == "run":
        return inputs.from_run(flow, data.get("run")), f"run #{data.get('run', '').strip().lstrip('#')}"
    if source == "connection":
        record = inputs.from_connection(data.get("connection"), data.get("object"), data.get("record_id"))
        if not isinstance(record, dict):
            raise SampleInvalid("record_id", "the connection did not answer with a record")
        return record, f"{data.get('connection')} {data.get('object')} {data.get('record_id')}"[:200]
    if source == "sample":
        sample = sample_of(flow, data.get("sample"))
        return sample.record, f"sample {sample.name}"
    if source != "paste":
        raise SampleInvalid("source", "pick where the input comes from")
    return inputs.from_text(data.get("record")), "pasted"


def sample_of(flow, sample_id) -> Sample:
    sample_id = str(sample_id or "")
    sample = flow.samples.filter(pk=int(sample_id)).first() if sample_id.isdigit() and len(sample_id) < 18 else None
    if sample is None:
        raise SampleInvalid("sample", "pick one of this flow's pinned samples")
    return sample
