"""Run and step statuses in the words people use, with the badge each shows. A run waiting
for a delivery whose connection is paused, in a maintenance window or behind an open
circuit reads "Held" rather than "Waiting": nothing will move until the hold ends."""

from dataclasses import dataclass

from integrations.runs.choices import TERMINAL, RunStatus, StepStatus


@dataclass(frozen=True)
class Shown:
    label: str
    badge: str  # css class


RUN = {
    RunStatus.QUEUED: Shown("Queued", "badge"),
    RunStatus.RUNNING: Shown("Running", "badge badge-info"),
    RunStatus.WAITING_APPROVAL: Shown("Waiting for approval", "badge badge-warn"),
    RunStatus.WAITING_DELIVERY: Shown("Waiting for delivery", "badge badge-info"),
    RunStatus.WAITING_BATCH: Shown("Waiting for batch", "badge badge-info"),
    RunStatus.WAITING_CHUNKS: Shown("Running in chunks", "badge badge-info"),
    RunStatus.SUCCEEDED: Shown("Succeeded", "badge badge-ok"),
    RunStatus.FAILED: Shown("Failed", "badge badge-bad"),
    RunStatus.HALTED: Shown("Halted", "badge"),
    RunStatus.CANCELLED: Shown("Cancelled", "badge"),
}
HELD = Shown("Held", "badge badge-warn")

STEP = {
    StepStatus.SUCCEEDED: Shown("Succeeded", "badge badge-ok"),
    StepStatus.SKIPPED: Shown("Skipped", "badge"),
    StepStatus.WAITING: Shown("Waiting", "badge badge-info"),
    StepStatus.FAILED: Shown("Failed", "badge badge-bad"),
}


def run_status(status: str, held: bool = False) -> Shown:
    if held and status == RunStatus.WAITING_DELIVERY:
        return HELD
    return RUN.get(status, Shown(status, "badge"))


def step_status(status: str) -> Shown:
    return STEP.get(status, Shown(status, "badge"))


def is_active(status: str) -> bool:
    """Still changing: the detail page keeps polling until this is False."""
    return status not in TERMINAL


def filter_choices() -> list[tuple[str, str]]:
    return [(value, RUN[value].label) for value in RunStatus.values]
