"""Late commits through a real worker: the target works past our 1 s client timeout and
commits afterwards (at 1.5, 2.5 or 4 s), as an ERP under load does, and ignores
Idempotency-Key. 1,000 postings each:

- a target with an idempotent upsert (PUT by external reference): retried at once, 0 duplicates;
- a target without one: each unclear attempt waits the settle time (5 s, above the 4 s the
  target works at most) and looks up first, 0 duplicates; rows the target never commits
  (lost three times over) end `uncertain` after three posts, never a fourth."""

from collections import Counter

from integrations.deliveries.choices import Classification, DeliveryState, Outcome
from integrations.deliveries.models import Delivery, DeliveryAttempt

from .harness import WORKER_TEST_MARKS, all_terminal, check, drive, make_connection, request_postings

pytestmark = WORKER_TEST_MARKS

ROWS = 1000
LATE = {"honour_keys": False, "late_rate": 0.05, "late_seconds": [1.5, 2.5, 4.0], "seed": 11}


def late_commits(simulator) -> int:
    return sum(1 for r in simulator.state()["requests"] if str(r["status"]).startswith("late:"))


def test_a_target_with_an_idempotent_upsert_gets_no_duplicate_from_late_commits(simulator, worker):
    simulator.config(**LATE)
    erp = make_connection(simulator, upsert=True, timeout_seconds=1)
    request_postings(erp, ROWS)
    worker()
    drive(all_terminal, timeout=300)
    figures = check(simulator, late_commits=late_commits(simulator))
    figures.show("late commits, idempotent upsert")
    assert figures.extra["late_commits"] >= 20, "the fault did not fire"
    assert (figures.posted, figures.lost, figures.duplicated, figures.dead) == (ROWS, 0, 0, 0)


def test_a_target_without_one_gets_no_duplicate_and_uncertain_rows_are_never_posted_again(simulator, worker):
    never = [f"inv:{i}" for i in range(0, ROWS, 200)]  # five rows the target never commits
    simulator.config(**LATE, script={ref: ["lost:1.5"] * 5 for ref in never})
    erp = make_connection(simulator, timeout_seconds=1, config={"settle_seconds": 5})
    request_postings(erp, ROWS)
    worker()
    drive(all_terminal, timeout=300)
    outcomes = Counter(DeliveryAttempt.objects.values_list("outcome", flat=True))
    posts = Counter(r["ref"] for r in simulator.state()["requests"] if r["method"] == "POST")
    figures = check(
        simulator,
        expect_dead=set(never),
        late_commits=late_commits(simulator),
        found_by_lookup=outcomes[Outcome.FOUND],
        uncertain=outcomes[Outcome.UNCERTAIN],
    )
    figures.show("late commits, no idempotent write")
    assert figures.extra["late_commits"] >= 20, "the fault did not fire"
    assert (figures.posted, figures.lost, figures.duplicated, figures.dead) == (ROWS - len(never), 0, 0, len(never))
    dead = Delivery.objects.filter(state=DeliveryState.DEAD)
    assert set(dead.values_list("classification", flat=True)) == {Classification.UNCERTAIN}
    assert all(posts[ref] == 3 for ref in never), {ref: posts[ref] for ref in never}
    assert outcomes[Outcome.FOUND] >= figures.extra["late_commits"], "a late commit was not settled by look-up"
