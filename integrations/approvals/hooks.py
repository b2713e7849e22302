"""What approvals announce to the apps above them (connected in their AppConfig.ready)."""

from integrations.hooks import Hook

# A task was approved or rejected (by a person or at its due time); sent inside the
# transaction that decided it, with `task`. The runtime wakes the run that waits for it.
approval_decided = Hook("approvals.approval_decided")
