from django.db import models


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"


class OnExpiry(models.TextChoices):
    ESCALATE = "escalate", "Escalate"
    REJECT = "reject", "Auto-reject"
    APPROVE = "approve", "Auto-approve"
