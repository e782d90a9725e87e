"""A complaint's whole road in Chromium: a call rings, the agent opens a complaint from the
call panel, works through the analysis worksheet, offers compensation above their
authority, a supervisor approves it, and the complaint is resolved with its root cause
and closed."""

import re

import pytest
from playwright.sync_api import expect

from kehu.service import seeds
from kehu.service.models import AuthorityLimit, Case, ComplaintWorksheet, Remedy, RootCause
from tests.browser.conftest import TIMEOUT_MS, log_in
from tests.browser.test_call_panel import cti, token  # noqa: F401  (the PBX and its token)

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _seeded(transactional_db):
    """The data migration's root causes and limits, which the flush after each live-server
    test removes."""
    seeds.seed(root_cause_model=RootCause, authority_limit_model=AuthorityLimit)


@pytest.fixture
def supervisor_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def test_a_complaint_from_the_call_panel_to_closure(
    page,
    supervisor_page,
    live_server,
    token,
    xihu,
    agent,
    supervisor,  # noqa: F811
):
    log_in(page, agent)
    status, _answer = cti(
        live_server,
        token,
        event="newCall",
        callId="r1",
        from_="13910002000",
        to="4008001234",
        direction="in",
        user=["agent"],
    )
    assert status == 200
    panel = page.locator("#call-panel")
    expect(panel.locator(".caller-name")).to_have_text("王总")

    # From the panel: a complaint for the caller's organisation, by phone.
    panel.get_by_role("link", name="New case").click()
    expect(page).to_have_url(re.compile(r"/cases/new/\?customer="))
    page.get_by_label("Subject").fill("龙井礼盒破损，客户要求赔偿")
    page.get_by_label("Description").fill("三箱礼盒外包装压坏，客户下周要送礼")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("龙井礼盒破损")
    case = Case.objects.get()
    assert (case.kind, case.channel, case.customer) == ("complaint", "phone", xihu)

    # The four-step worksheet; the agent keeps the decision.
    page.get_by_role("button", name=re.compile("Complaint analysis worksheet")).click()
    step1 = page.locator("#step-1")
    step1.get_by_label("Mostly").first.check()
    step1.get_by_label("What is the key point of conflict?").fill("礼盒下周要用，换货来不及")
    step1.get_by_label("Wants an explanation").check()
    page.locator("#step-2").get_by_label("Entirely our fault").check()
    page.locator("#step-3").get_by_label("Losing this customer").check()
    step4 = page.locator("#step-4")
    step4.get_by_label("We should agree").check()
    step4.get_by_label("My proposal").check()
    step4.get_by_label("Proposal", exact=True).fill("加急补发并赔偿 600 元")
    step4.get_by_label("Approval is easy").check()
    page.get_by_role("button", name="Save worksheet").click()
    expect(page.locator("main")).to_contain_text("Worksheet saved.")
    answers = ComplaintWorksheet.objects.get(case=case).answers
    assert answers["motive"] == ["explanation"] and answers["position"] == "proposal"

    # 600 is above an agent's 200: it goes to a supervisor.
    goodwill = page.locator("#goodwill")
    goodwill.get_by_label("What *").select_option("compensation")
    goodwill.get_by_label("Amount").fill("600")
    goodwill.get_by_label("What is given, and why").fill("礼盒破损赔偿")
    goodwill.get_by_role("button", name="Give").click()
    expect(page.locator("main")).to_contain_text("Above your authority")
    expect(page.locator("#goodwill")).to_contain_text("Waiting for approval")

    log_in(supervisor_page, supervisor, next_path="/cases/approvals/")
    approval = supervisor_page.locator("article.approval")
    expect(approval).to_contain_text("CN¥600.00")
    approval.get_by_label("Approve").check()
    approval.get_by_label("Reason *").fill("我们的包装问题，老客户")
    approval.get_by_role("button", name="Decide").click()
    expect(supervisor_page.locator("main")).to_contain_text("Nothing is waiting for approval.")
    assert Remedy.objects.get().status == Remedy.Status.APPROVED

    page.reload()
    expect(page.locator("#goodwill")).to_contain_text("Approved")
    expect(page.locator("#goodwill")).to_contain_text("我们的包装问题，老客户")

    # Resolved only with the root cause; then closed.
    resolve = page.locator("form.resolve")
    resolve.get_by_label("Root cause").select_option(label="Delivery or installation")
    resolve.get_by_label("What exactly went wrong").fill("快递外包装不足")
    resolve.get_by_role("button", name="Resolved").click()
    expect(page.locator("hgroup")).to_contain_text("Resolved")
    page.locator("main").get_by_role("button", name="Closed").click()
    expect(page.locator("hgroup")).to_contain_text("Closed")
    case.refresh_from_db()
    assert (case.status, case.root_cause.code) == ("closed", "delivery")
    history = page.locator("article", has_text="History")
    for step in ("Worksheet updated", "Approval requested", "Approved", "Root cause recorded"):
        expect(history).to_contain_text(step)
