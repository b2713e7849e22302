"""Regression samples run before publishing: a failing one blocks the publish unless overridden."""

from integrations.flows.services import DraftInvalid
from integrations.flows.testing import run_definition
from integrations.flowtests.outputs import field_diff, output_of


def failures(flow, draft) -> list:
    """The pinned samples of `flow` whose expected output the draft no longer produces.

    Each item is {"sample": name, "sample_id", "message", "diff": [{"field", "expected",
    "actual"}]}; an empty list means publishing may go ahead. Look-ups read for real (as in
    the test panel), writes are simulated."""
    found = []
    for sample in flow.samples.filter(expected__isnull=False).order_by("name"):
        try:
            actual = output_of(run_definition(draft.definition, sample.record))
        except DraftInvalid as exc:
            actual = {"status": "invalid", "error": str(exc)}
        diff = field_diff(sample.expected, actual)
        if diff:
            fields = ", ".join(d["field"] for d in diff[:5]) + (" …" if len(diff) > 5 else "")
            message = f"sample '{sample.name}': {len(diff)} field(s) differ from the expected output ({fields})"
            found.append({"sample": sample.name, "sample_id": sample.pk, "message": message, "diff": diff})
    return found
