"""Thin Celery tasks: a periodic health check keeps each connection's status current
(Offline shows without anyone pressing Test)."""

from celery import shared_task

from integrations.connections import services
from integrations.connections.models import Connection

CHECK_EXPIRES = 240  # a check not started within 4 minutes is superseded by the next round


@shared_task(name="integrations.connections.tasks.check_connections", ignore_result=True)
def check_connections() -> int:
    ids = list(services.connections_to_check().values_list("pk", flat=True))
    for pk in ids:
        check_connection.apply_async(args=[pk], expires=CHECK_EXPIRES)
    return len(ids)


@shared_task(name="integrations.connections.tasks.check_connection", ignore_result=True)
def check_connection(connection_id: int) -> None:
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is not None:
        services.check_connection("system:health-check", connection)
