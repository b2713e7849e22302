from celery import shared_task


@shared_task
def expire_due_approvals() -> int:
    from integrations.approvals.services import expire_due

    return expire_due()
