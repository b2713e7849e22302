"""What the delivery ledger announces to the apps above it (connected in their AppConfig.ready)."""

from integrations.hooks import Hook

# A delivery reached SUCCEEDED or DEAD; sent after the commit that recorded it, with
# `delivery_id` and `delivery` (the row as written, or None: read it). The runtime resumes
# (or fails) the run that waits for it.
delivery_finished = Hook("deliveries.delivery_finished")

# Many deliveries of one worker's round SUCCEEDED at once (ledger.finish_succeeded_many); sent
# after their commit with `deliveries` (the rows as written). The runtime wakes the runs that
# wait for them in one statement; a listener that acts per delivery loops.
deliveries_succeeded = Hook("deliveries.deliveries_succeeded")
