"""Lanes at the broker: a worker takes the next message from the most urgent lane that has one
(docs/ARCHITECTURE.md#lanes-and-queues). Plain kombu, no Django: kombu imports these by name.

Lanes, most urgent first: `control` (heartbeat, dispatchers, sweepers, schedule ticks),
`default` (interactive: events, webhooks, manual and test runs, resumptions), the
per-connection `deliveries.<id>` queues, then `bulk` (polls, replays, bulk jobs, batch chunks).

Celery consumes several queues round-robin on every broker; this module makes the order strict:

- Redis: `LaneCycle` is the channel's `queue_order_strategy`. BRPOP is sent the keys in lane
  order and Redis pops from the first non-empty one; within one lane (the delivery queues)
  the last-used queue moves to the back, so connections still take turns.
- Filesystem (the embedded default): `FilesystemTransport` lists the message folder once per
  poll and takes the oldest message of the most urgent lane, instead of one listing per queue
  in turn; its polling interval is a transport option (kombu's default sleeps 1 s whenever
  the folder had nothing for it, which capped a worker at about two tasks a second).
"""

import logging
import os
from queue import Empty

from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import loads
from kombu.utils.scheduling import round_robin_cycle

logger = logging.getLogger(__name__)

CONTROL = "control"
INTERACTIVE = "default"  # Celery's default queue: what nobody routes elsewhere is interactive
BULK = "bulk"
DELIVERY_PREFIX = "deliveries."
LANES = (CONTROL, INTERACTIVE, BULK)  # the queues every worker consumes (the delivery queues are added per connection)


def rank(queue: str) -> int:
    """0 is served first."""
    if queue == CONTROL:
        return 0
    if queue == BULK:
        return 3
    if queue.startswith(DELIVERY_PREFIX):
        return 2
    return 1


class LaneCycle(round_robin_cycle):
    """kombu's queue cycle for Redis: strict order between lanes, round-robin within one."""

    def consume(self, n):
        return sorted(self.items[:n], key=rank)  # sorted() is stable: the rotation order stays within a lane


class LaneFolderCycle:
    """What the filesystem channel polls: one listing, the best message across its queues."""

    def __init__(self, channel) -> None:
        self.channel = channel

    def get(self, callback, **kwargs):
        channel = self.channel
        wanted = {f"{queue}.msg": queue for queue in channel._active_queues}
        if not wanted:
            raise Empty()
        folder = channel.data_folder_in
        candidates = []
        for name in os.listdir(folder):
            queue = wanted.get(name.partition(".")[2])
            if queue is not None:
                # "<monotonic ms>_<uuid>.<queue>.msg": the name orders messages by age within a lane.
                candidates.append((rank(queue), name, queue))
        candidates.sort()
        claimed_dir = channel.processed_folder
        for _, name, queue in candidates:
            path = os.path.join(folder, name)
            try:
                if not os.stat(path).st_size:
                    continue  # created, not written yet: the sender is between open() and write()
                claimed = os.path.join(claimed_dir, f"claimed-{os.getpid()}-{name}")
                os.rename(path, claimed)  # atomic: one worker wins the message
            except OSError:  # another worker took it first
                continue
            with open(claimed, "rb") as f:
                filesystem.lock(f, filesystem.LOCK_SH)  # waits for a sender still writing (it holds LOCK_EX)
                payload = f.read()
                filesystem.unlock(f)
            os.remove(claimed)
            try:
                message = loads(bytes_to_str(payload))
            except ValueError:  # never a worker crash: the database is the truth, the dispatchers send again
                logger.warning("dropped unreadable broker message %s (%d bytes)", name, len(payload))
                continue
            return callback(message, queue)
        raise Empty()

    def close(self) -> None:
        pass


class FilesystemChannel(filesystem.Channel):
    def _reset_cycle(self):
        self._cycle = LaneFolderCycle(self)


class FilesystemTransport(filesystem.Transport):
    """kombu's filesystem transport with lanes; `polling_interval` from the transport options."""

    Channel = FilesystemChannel
