"""A narrow workaround for a kombu bug that ends a Celery worker when Redis dies mid-task.

With kombu 5.7.0 (the newest release; none fixes it yet): the broker connection is lost while
a task runs (acks late, so its message is unacknowledged); the consumer closes the broken
connection; closing its channel tries to put the unacknowledged message back in Redis, but
the transport has already been detached from its connection (`transport.client is None`), and
building a Redis client for the restore raises
`AttributeError: 'NoneType' object has no attribute 'hostname'` (in `Channel._connparams`).
Celery only ignores *connection* errors there, so the worker stops ("Unrecoverable error").

The same detached channel also fails a late acknowledgement (a task that ends after the
connection dropped acks through `QoS.ack` → `_remove_from_indices`, which raises
`AttributeError: 'NoneType' object has no attribute 'client'`), and a reject likewise.

The fix: when the transport is detached, skip the restore (or the ack) and say so. Nothing is lost: the
message stays in Redis's unacked set (restored after the visibility timeout), and the
database is the truth anyway — the dispatchers re-send every row still due.
Remove when kombu fixes `restore_unacked` for a detached transport.
"""

import logging

from kombu.transport import redis as kombu_redis
from kombu.transport import virtual

logger = logging.getLogger("studio.celery")

_restore_unacked = kombu_redis.QoS.restore_unacked
_ack = kombu_redis.QoS.ack
_reject = kombu_redis.QoS.reject


def _detached(channel) -> bool:
    transport = getattr(channel, "connection", None)
    return transport is None or getattr(transport, "client", None) is None


def _forget(qos, delivery_tag, what: str) -> None:
    logger.warning(
        "broker connection gone: could not %s a message; Redis hands it out again after the visibility "
        "timeout and the worker drops it, its row being settled in the database",
        what,
    )
    virtual.QoS.ack(qos, delivery_tag)  # forget it locally, as an ack would


def ack(self, delivery_tag):
    if _detached(self.channel):
        return _forget(self, delivery_tag, "acknowledge")
    return _ack(self, delivery_tag)


def reject(self, delivery_tag, requeue=False):
    if _detached(self.channel):
        return _forget(self, delivery_tag, "reject")
    return _reject(self, delivery_tag, requeue=requeue)


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
        kombu_redis.QoS.ack = ack
        kombu_redis.QoS.reject = reject
