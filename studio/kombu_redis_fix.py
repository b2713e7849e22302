"""A narrow workaround for a kombu bug that ends a Celery worker when Redis dies mid-task.

With kombu 5.7.0 (the newest release; none fixes it yet): the broker connection is lost while
a task runs (acks late, so its message is unacknowledged); the consumer closes the broken
connection; closing its channel tries to put the unacknowledged message back in Redis, but
the transport has already been detached from its connection (`transport.client is None`), and
building a Redis client for the restore raises
`AttributeError: 'NoneType' object has no attribute 'hostname'` (in `Channel._connparams`).
Celery only ignores *connection* errors there, so the worker stops ("Unrecoverable error").

The fix: when the transport is detached, skip the restore and say so. Nothing is lost: the
message stays in Redis's unacked set (restored after the visibility timeout), and the
database is the truth anyway — the dispatchers re-send every row still due.
Remove when kombu fixes `restore_unacked` for a detached transport.
"""

import logging

from kombu.transport import redis as kombu_redis

logger = logging.getLogger("studio.celery")

_restore_unacked = kombu_redis.QoS.restore_unacked


def restore_unacked(self, client=None):
    transport = getattr(self.channel, "connection", None)
    if client is None and transport is not None and getattr(transport, "client", None) is None:
        logger.warning(
            "broker connection gone: %d unacknowledged message(s) left in Redis (the dispatchers re-send due rows)",
            len(self._delivered),
        )
        self._delivered.clear()
        return None
    return _restore_unacked(self, client)


def install() -> None:
    """Idempotent: patch kombu's Redis QoS once per process."""
    if kombu_redis.QoS.restore_unacked is not restore_unacked:
        kombu_redis.QoS.restore_unacked = restore_unacked
