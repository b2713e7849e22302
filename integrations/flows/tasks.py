from celery import shared_task


@shared_task(acks_late=True)
def poll_flow(flow_id: int) -> int:
    from integrations.flows.polls import poll

    return poll(flow_id)
