"""My day in Chromium: an agent does a callback, keeps a promise and books a visit, each
from the worklist, and the customer's card shows what happened."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kehu.customers.models import Note
from kehu.promises import services
from kehu.promises.models import Commitment, FollowUp, Visit
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_a_callback_a_kept_promise_and_a_booked_visit_from_my_day(
    page, agent, xihu, local_morning
):
    now = timezone.now()
    services.commitment_create(
        actor=agent, customer=xihu, promise="今天下班前发报价单", due_at=now + timedelta(minutes=30)
    )
    callback = services.follow_up_create(
        actor=agent,
        customer=xihu,
        kind="callback",
        purpose="确认龙井礼盒到货",
        due_at=now + timedelta(minutes=20),
    )
    FollowUp.objects.filter(pk=callback.pk).update(due_at=now - timedelta(hours=1))  # overdue

    log_in(page, agent, next_path="/my-day/")
    items = page.locator("article.work-item")
    expect(items).to_have_count(2)
    # Overdue first.
    expect(items.first).to_contain_text("overdue")
    expect(items.first).to_contain_text("确认龙井礼盒到货")

    items.first.get_by_label("Outcome").fill("已到货，客户满意")
    items.first.get_by_role("button", name="Done").click()
    expect(page.locator("main")).to_contain_text("Done, and on the customer's timeline.")
    expect(page.locator("article.work-item")).to_have_count(1)

    promise = page.locator("article.work-promise")
    promise.get_by_label("How it was kept").fill("已邮件发送报价单 V2")
    promise.get_by_role("button", name="Kept").click()
    expect(page.locator("main")).to_contain_text("Promise kept.")
    expect(page.locator("main")).to_contain_text("Nothing is due today")
    assert Commitment.objects.get().status == "kept"

    # From the customer's card, a visit is booked (by phone first), then prepared.
    page.goto(f"/customers/{xihu.pk}/")
    expect(page.locator("ol.timeline")).to_contain_text("已到货，客户满意")
    page.get_by_role("link", name="Book a visit").click()
    expect(page.locator("main")).to_contain_text(
        "Face-to-face visits are always booked by phone first."
    )
    page.get_by_label("Purpose").fill("季度拜访：介绍集团专线")
    due = timezone.localtime(now + timedelta(days=2)).strftime("%Y-%m-%dT10:00")
    page.get_by_label("Due *").fill(due)
    page.get_by_label("Where (visits)").fill("杭州西湖区总部")
    page.get_by_role("button", name="Book").click()
    expect(page).to_have_url(re.compile(r"/visits/\d+/$"))
    expect(page.locator("hgroup")).to_contain_text("Booked")
    for item in (
        "Purpose of the visit agreed",
        "Customer card and recent contacts read",
        "Material and proposal ready",
        "Decision-makers to meet known",
    ):
        page.get_by_label(item).check()
    page.locator("form", has=page.locator("input[value=prepare]")).get_by_role(
        "button", name="Save"
    ).click()
    expect(page.locator("hgroup")).to_contain_text("Prepared")
    visit = Visit.objects.get()
    assert visit.follow_up.customer == xihu and visit.place == "杭州西湖区总部"
    assert Note.objects.filter(customer=xihu, kind="call").count() == 1
