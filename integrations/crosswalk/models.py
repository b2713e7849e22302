"""The crosswalk: links between one canonical identity and its ids in each system, the
system-of-record rules (which system may change which field), the owners' last known
values, the keys first-contact matching looks up, and the queue of uncertain matches."""

from django.conf import settings
from django.db import models

from integrations.crosswalk.systems import System


class LinkSource(models.TextChoices):
    DELIVERY = "delivery", "Delivery (id returned by a create or upsert)"
    MATCH = "match", "Matching rule"
    REVIEW = "review", "Review queue decision"
    MANUAL = "manual", "Linked by hand"
    SEED = "seed", "Seeded"


class CrosswalkLink(models.Model):
    object = models.CharField(max_length=64, help_text="Canonical object, e.g. 'client'.")
    canonical_id = models.CharField(max_length=64)
    system = models.CharField(max_length=64, help_text="Connection name, e.g. 'salesforce'.")
    external_id = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=10, choices=LinkSource.choices, default=LinkSource.SEED, db_default="seed")
    # The run whose delivery created the link (no foreign key: crosswalk sits below runs).
    run_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["object", "canonical_id", "system"]
        constraints = [
            models.UniqueConstraint(fields=["object", "system", "external_id"], name="crosswalk_external_unique"),
            models.UniqueConstraint(fields=["object", "canonical_id", "system"], name="crosswalk_one_id_per_system"),
        ]
        indexes = [models.Index(fields=["object", "system", "canonical_id"], name="crosswalk_by_system")]

    def __str__(self) -> str:
        return f"{self.object}:{self.canonical_id} = {self.system}:{self.external_id}"


class OwnershipRule(models.Model):
    """An owner chosen on the ownership page; without a row the built-in default holds
    (integrations/crosswalk/ownership.py DEFAULTS). Field '*' = every field of the object."""

    object = models.CharField(max_length=64)
    field = models.CharField(max_length=100)
    owner = models.CharField(max_length=8, choices=System.choices, blank=True, help_text="'' = nobody owns it.")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["object", "field"]
        constraints = [models.UniqueConstraint(fields=["object", "field"], name="ownership_one_rule_per_field")]

    def __str__(self) -> str:
        return f"{self.object}.{self.field} owned by {self.owner or 'nobody'}"


class OwnerValue(models.Model):
    """The last value the owning system delivered for one field of one canonical record:
    what a conflict shows as 'the owner's value'."""

    object = models.CharField(max_length=64)
    canonical_id = models.CharField(max_length=64)
    field = models.CharField(max_length=100)
    value = models.JSONField(null=True)
    system = models.CharField(max_length=64, help_text="Connection the owner's value came from.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["object", "canonical_id", "field"], name="owner_value_one_per_field")
        ]

    def __str__(self) -> str:
        return f"{self.object}:{self.canonical_id}.{self.field} = {self.value!r} (from {self.system})"


class MatchKey(models.Model):
    """A normalised identifying value of a canonical record (employee number, work e-mail,
    ERP customer id, tax id, name) that first-contact matching looks up."""

    object = models.CharField(max_length=64)
    canonical_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=32)
    value = models.CharField(max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["object", "canonical_id", "kind", "value"], name="match_key_unique")
        ]
        indexes = [models.Index(fields=["object", "kind", "value"], name="match_key_lookup")]

    def __str__(self) -> str:
        return f"{self.object}:{self.canonical_id} {self.kind}={self.value}"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    ACCEPTED = "accepted", "Linked"
    REJECTED = "rejected", "Kept apart"


class MatchCandidate(models.Model):
    """An uncertain first-contact match waiting for a person: the record of `system` may be
    the canonical record `candidate_id` (found by `rule`). Until decided, the record keeps
    the identity of its own it was given (`canonical_id`)."""

    object = models.CharField(max_length=64)
    system = models.CharField(max_length=64)
    external_id = models.CharField(max_length=255)
    canonical_id = models.CharField(max_length=64, help_text="The identity the record has now.")
    candidate_id = models.CharField(max_length=64, help_text="The identity it may really be.")
    rule = models.CharField(max_length=32)
    detail = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["object", "system", "external_id", "candidate_id"], name="match_candidate_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.object} {self.system}:{self.external_id} may be {self.candidate_id} ({self.rule})"
