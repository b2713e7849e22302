"""First contact: a record a system sends that the crosswalk has never seen is matched to
an existing canonical record by the object's rules, in order:

    worker:  employee number, then work e-mail            (each certain when one record has it)
    client:  ERP customer id, then tax id, then normalised name  (the name is never certain)

A certain match links the record. An uncertain one (a name match, or a key two records
share) gives the record an identity of its own and puts the possible match in the review
queue (MatchCandidate); a person links or keeps them apart (`decide`). Either way the
record's keys are stored (MatchKey) for the next first contact."""

import re
import unicodedata
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from integrations.audit import services as audit
from integrations.crosswalk.models import CrosswalkLink, LinkSource, MatchCandidate, MatchKey, ReviewStatus
from integrations.crosswalk.services import LinkInvalid, link, new_canonical_id

# object → ((attribute, certain), ...) in the order they are tried
RULES: dict[str, tuple[tuple[str, bool], ...]] = {
    "worker": (("employee_number", True), ("email", True)),
    "client": (("erp_customer_id", True), ("tax_id", True), ("name", False)),
}
_SUFFIXES = {"inc", "incorporated", "ltd", "limited", "llc", "plc", "gmbh", "ag", "sa", "bv", "corp", "corporation",
             "co", "company", "the"}  # fmt: skip


def normalise(kind: str, value) -> str:
    text = unicodedata.normalize("NFKD", str(value or "")).encode("ascii", "ignore").decode().casefold().strip()
    if kind == "name":
        words = [w for w in re.split(r"[^a-z0-9]+", text.replace("&", " and ")) if w and w not in _SUFFIXES]
        return " ".join(words)
    if kind in ("tax_id", "employee_number", "erp_customer_id"):
        return re.sub(r"[^a-z0-9]", "", text)
    return text


@dataclass(frozen=True)
class Match:
    canonical_id: str
    rule: str  # "link" (known already), a rule attribute, or "new"
    certain: bool
    candidates: tuple[str, ...] = ()  # identities sent to the review queue


def keys_of(object: str, attributes: dict) -> list[tuple[str, str]]:
    rules = RULES.get(object, ())
    return [(kind, normalise(kind, attributes.get(kind))) for kind, _ in rules if normalise(kind, attributes.get(kind))]


@transaction.atomic
def first_contact(object: str, system: str, external_id: str, attributes: dict, *, run_id: int | None = None) -> Match:
    """The canonical identity of `system:external_id`, linking it on first contact."""
    known = CrosswalkLink.objects.filter(object=object, system=system, external_id=str(external_id)).first()
    if known:
        return Match(known.canonical_id, "link", True)
    match = _match(object, attributes)
    canonical = (match.certain and match.canonical_id) or new_canonical_id()
    link(object, system, external_id, canonical, source=LinkSource.MATCH, run_id=run_id)
    remember_keys(object, canonical, attributes)
    for candidate in match.candidates:
        MatchCandidate.objects.get_or_create(
            object=object, system=system, external_id=str(external_id), candidate_id=candidate,
            defaults={"canonical_id": canonical, "rule": match.rule, "detail": _detail(match.rule, attributes)},
        )  # fmt: skip
    return Match(canonical, match.rule, match.certain, match.candidates)


def _match(object: str, attributes: dict) -> Match:
    for kind, certain in RULES.get(object, ()):
        value = normalise(kind, attributes.get(kind))
        if not value:
            continue
        hits = tuple(sorted(set(MatchKey.objects.filter(object=object, kind=kind, value=value)
                                .values_list("canonical_id", flat=True))))  # fmt: skip
        if len(hits) == 1 and certain:
            return Match(hits[0], kind, True)
        if hits:
            return Match("", kind, False, hits)
    return Match("", "new", True)


def _detail(rule: str, attributes: dict) -> str:
    return f"same {rule.replace('_', ' ')}: {attributes.get(rule)}"[:500]


def remember_keys(object: str, canonical: str, attributes: dict) -> None:
    MatchKey.objects.bulk_create(
        [
            MatchKey(object=object, canonical_id=canonical, kind=k, value=v[:255])
            for k, v in keys_of(object, attributes)
        ],
        ignore_conflicts=True,
    )


@transaction.atomic
def decide(user, candidate: MatchCandidate, accept: bool, reason: str) -> MatchCandidate:
    """Link the record to the candidate identity (accept) or keep them apart; audited."""
    if not (reason or "").strip():
        raise LinkInvalid("reason", "say why")
    candidate = MatchCandidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.status != ReviewStatus.PENDING:
        raise LinkInvalid("status", f"already {candidate.get_status_display().lower()}")
    if accept:
        _relink(candidate)
    candidate.status = ReviewStatus.ACCEPTED if accept else ReviewStatus.REJECTED
    candidate.decided_by, candidate.decided_at, candidate.reason = user, timezone.now(), reason.strip()
    candidate.save()
    action = "crosswalk.match_accept" if accept else "crosswalk.match_reject"
    audit.record(user, action, candidate, message=reason.strip()[:500])
    return candidate


def _relink(candidate: MatchCandidate) -> None:
    taken = CrosswalkLink.objects.filter(
        object=candidate.object, canonical_id=candidate.candidate_id, system=candidate.system
    ).exclude(external_id=candidate.external_id)
    if taken.exists():
        raise LinkInvalid("candidate_id", f"{candidate.candidate_id} already has a {candidate.system} id")
    CrosswalkLink.objects.filter(
        object=candidate.object, system=candidate.system, external_id=candidate.external_id
    ).update(canonical_id=candidate.candidate_id, source=LinkSource.REVIEW)
