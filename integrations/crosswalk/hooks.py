"""What the crosswalk announces to the apps above it (connected in their AppConfig.ready)."""

from integrations.hooks import Hook

# A delivery held back fields its flow's source system does not own. Sent with `run`,
# `step_id` and `held` (enforcement.HeldBack), inside the run's transaction, every time the
# deliver step executes (a resumed run executes it again): handlers must be idempotent.
# The runtime side opens the one `conflict` exception of that run and step.
ownership_conflict = Hook("crosswalk.ownership_conflict")
