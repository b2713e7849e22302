"""The approver inbox in a real browser: approve one card, try to reject one without a
comment and see the error at the field, then reject it with one — all swapped in place;
open a task from its e-mail link (?task=) and decide it there, by keyboard; the badge in the
navigation follows; no serious or critical axe-core violation, wide or at 390 px."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from integrations.approvals.models import ApprovalTask
from integrations.events.services import ingest_event
from integrations.runs.services import execute_run
from tests.api.runtime_fixtures import *  # noqa: F403
from tests.runtime.conftest import publish_flow
from tests.runtime.test_approvals import deal_flow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}
BLOCKING = {"serious", "critical"}


@pytest.fixture
def tasks(personas, crm, erp_offline, doorbells):
    publish_flow(personas["analyst"], deal_flow(), key="deals")
    made = []
    for i in range(3):
        payload = {"name": f"client-{i}", "value": 5000 + i}
        event = ingest_event(source="crm", type="deal.won", external_id=f"d-{i}", payload=payload)
        made.append(execute_run(event.runs[0].pk).approvals.get())
    return made


def card(page, task):
    return page.locator(f"#task-{task.pk}")


def test_approve_and_reject_from_the_inbox(page, login, live_server, tasks):
    first, second, _ = tasks
    login(page, "approver")
    page.goto("/approvals/")
    expect(page.locator("[data-testid=approvals-badge]")).to_contain_text("3")
    expect(page.locator("[data-testid=approval-card]")).to_have_count(3)
    expect(card(page, first).locator("[data-testid=approval-summary]")).to_contain_text("5000")

    card(page, first).locator("[data-testid=approve]").click()
    expect(card(page, first).locator("[data-testid=approval-status]")).to_have_text("Approved")
    expect(card(page, first).locator("[data-testid=approval-notice]")).to_have_text("Approved by you.")
    expect(page.locator("[data-testid=approvals-badge]")).to_contain_text("2")

    card(page, second).locator("[data-testid=reject]").click()
    expect(card(page, second).locator("[data-testid=approval-comment-error]")).to_contain_text("needs a comment")
    expect(card(page, second).locator("[data-testid=approval-status]")).to_have_text("Pending")
    card(page, second).locator("[data-testid=approval-comment]").fill("Budget not signed")
    card(page, second).locator("[data-testid=reject]").click()
    expect(card(page, second).locator("[data-testid=approval-status]")).to_have_text("Rejected")
    expect(card(page, second).locator("[data-testid=approval-decision]")).to_contain_text("Budget not signed")

    assert [t.status for t in ApprovalTask.objects.order_by("id")] == ["approved", "rejected", "pending"]


def test_the_email_link_opens_the_card_and_it_is_decided_by_keyboard(page, login, live_server, tasks):
    task = tasks[2]
    login(page, "approver")
    page.goto(f"/approvals/?task={task.pk}")
    focus = page.locator("[data-testid=focus] [data-testid=approval-card]")
    expect(focus).to_have_attribute("data-task", str(task.pk))
    expect(focus).to_be_focused()  # the page opens on it
    page.keyboard.press("Tab")  # the run link
    page.keyboard.press("Tab")  # "Details"
    page.keyboard.press("Tab")  # comment
    expect(focus.locator("[data-testid=approval-comment]")).to_be_focused()
    page.keyboard.type("Checked with finance")
    page.keyboard.press("Tab")
    expect(focus.locator("[data-testid=approve]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(f"#task-{task.pk} [data-testid=approval-status]")).to_have_text("Approved")
    task.refresh_from_db()
    assert (task.status, task.comment, task.decided_by.username) == ("approved", "Checked with finance", "approver")

    page.goto(f"/approvals/?task={task.pk}")  # the link still works once decided
    expect(page.locator("[data-testid=focus] [data-testid=approval-decision]")).to_contain_text("Approved by approver")
    expect(page.locator("[data-testid=focus] [data-testid=approve]")).to_have_count(0)


def _serious(results) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING
    ]


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["desktop", "phone"])
def test_no_serious_accessibility_violations_and_nothing_wider_than_the_screen(
    page, login, live_server, tasks, viewport
):
    login(page, "approver")
    page.set_viewport_size(viewport)
    axe, found = Axe(), {}
    for path in ("/approvals/", f"/approvals/?task={tasks[0].pk}", "/approvals/?tab=decided", "/approvals/?task=x"):
        page.goto(path)
        problems = _serious(axe.run(page))
        if problems:
            found[path] = problems
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{path} is {width}px wide at {viewport['width']}px"
    page.goto("/approvals/")
    card(page, tasks[1]).locator("[data-testid=reject]").click()
    expect(card(page, tasks[1]).locator("[data-testid=approval-comment-error]")).to_be_visible()
    problems = _serious(axe.run(page))
    assert not problems and not found, {**found, "reject without a comment": problems}
