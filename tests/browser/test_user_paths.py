"""Real user paths in Chromium against the live server: the pages, htmx and the worker."""

import re

import pytest
from huey.contrib.djhuey import HUEY
from playwright.sync_api import expect

from kehu.customers import services
from kehu.customers.models import Customer, ImportJob
from tests.browser.conftest import assert_htmx_loaded, log_in, mark_document, same_document
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

CARD_SCREENSHOT = "/tmp/kehu-card.png"


def _organisation(actor) -> Customer:
    customer = services.customer_create(
        actor=actor,
        kind="organisation",
        name="杭州西湖茶业有限公司",
        salutation="周总",
        industry="茶叶",
        phones=["010 6552 9988", "+86 138-0013-8000"],
        emails=["order@xihu-tea.example"],
        usual="明前龙井 250g 礼盒",
        preferences="下午三点以后来电；发票开增值税专票",
        needs="中秋节前备货两百盒",
    )
    services.contact_create(
        actor=actor,
        organisation=customer,
        name="王建国",
        title="采购总监",
        decision_role="decision",
        style="eagle",
        phones=["139 1000 2000"],
    )
    services.contact_create(
        actor=actor,
        organisation=customer,
        name="李小红",
        title="前台",
        decision_role="operational",
        style="dove",
    )
    return customer


def test_log_in_through_the_form_and_land_on_the_customer_list(page, live_server, agent):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.get_by_label("Username").fill("agent")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()  # wrong password: stays, says so
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Customers", level=1)).to_be_visible()
    expect(page.get_by_role("searchbox", name="Search customers")).to_be_visible()
    assert_htmx_loaded(page)
    # The stylesheet loaded too: Pico styles the page's container.
    assert page.evaluate(
        "getComputedStyle(document.querySelector('main.container')).maxWidth"
    ) not in ("", "none")


def test_chinese_substring_search_updates_results_without_reloading(page, agent):
    services.customer_create(actor=agent, kind="individual", name="张伟明", phones=["13800138000"])
    services.customer_create(actor=agent, kind="individual", name="李娜")
    log_in(page, agent)
    results = page.locator("#results")
    expect(results).to_contain_text("李娜")  # the empty search lists everyone
    assert_htmx_loaded(page)
    mark_document(page)

    page.get_by_role("searchbox", name="Search customers").fill("伟明")
    expect(results).not_to_contain_text("李娜")
    expect(results.get_by_role("link", name="张伟明")).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]q=%E4%BC%9F%E6%98%8E"))  # pushed: back works
    assert same_document(page), "the search reloaded the page instead of swapping results"

    page.get_by_role("searchbox", name="Search customers").fill("明伟")
    expect(results).to_contain_text("No customer matches")
    assert same_document(page)


def test_customer_card_first_screen(page, agent):
    customer = _organisation(agent)
    log_in(page, agent)
    page.get_by_role("searchbox", name="Search customers").fill("西湖茶业")
    page.locator("#results").get_by_role("link", name=customer.name).click()
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(customer.name)

    # Phones in national format, each one a tel: link.
    landline = page.get_by_role("link", name="010 6552 9988", exact=True)
    expect(landline).to_have_attribute("href", "tel:+861065529988")
    mobile = page.get_by_role("link", name="138 0013 8000", exact=True)
    expect(mobile).to_have_attribute("href", "tel:+8613800138000")
    # The usual and the preferences are on the first screen, without scrolling.
    usual = page.locator(".usual")
    expect(usual).to_have_text("明前龙井 250g 礼盒")
    expect(usual).to_be_in_viewport()
    expect(page.get_by_text("下午三点以后来电")).to_be_in_viewport()
    expect(page.locator(".salutation")).to_have_text("周总")

    # Contacts with their role in the decision and how to deal with their style.
    decider = page.locator("article.contact", has_text="王建国")
    expect(decider).to_contain_text("采购总监")
    expect(decider).to_contain_text("Decision layer")
    expect(decider).to_contain_text("Eagle")
    expect(decider.locator(".guidance")).to_contain_text("lead with results")
    expect(decider.get_by_role("link", name="139 1000 2000")).to_have_attribute(
        "href", "tel:+8613910002000"
    )
    front_desk = page.locator("article.contact", has_text="李小红")
    expect(front_desk).to_contain_text("Operational layer")
    expect(front_desk.locator(".guidance")).to_contain_text("Be patient and sincere")

    page.screenshot(path=CARD_SCREENSHOT, full_page=True)


def test_note_appears_on_the_timeline_without_reloading(page, agent):
    customer = services.customer_create(actor=agent, kind="individual", name="陈静")
    log_in(page, agent, next_path=f"/customers/{customer.pk}/")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Nothing on the timeline yet.")
    mark_document(page)

    timeline.get_by_role("combobox", name="Kind", exact=True).select_option("call")
    timeline.get_by_role("textbox", name="Note").fill("来电询问发票，已答应周五前寄出")
    timeline.get_by_role("button", name="Add").click()

    entry = page.locator("ol.timeline li", has_text="来电询问发票，已答应周五前寄出")
    expect(entry).to_be_visible()
    expect(entry).to_contain_text("Call")
    expect(entry).to_contain_text("agent")
    expect(timeline.get_by_role("textbox", name="Note")).to_have_value("")  # ready for the next
    assert same_document(page), "adding a note reloaded the page"
    assert customer.notes.count() == 1


def test_new_customer_with_a_known_phone_warns_then_creates_when_confirmed(page, agent):
    existing = services.customer_create(
        actor=agent, kind="individual", name="张伟明", phones=["13800138000"]
    )
    log_in(page, agent)
    page.get_by_role("link", name="New customer").first.click()
    expect(page.get_by_role("heading", name="New customer", level=1)).to_be_visible()
    page.locator("#id_kind").select_option("individual")
    page.locator("#id_name").fill("张伟")
    page.get_by_label("Phone numbers").fill("138-0013-8000")  # same number, written differently
    page.get_by_role("button", name="Save").click()

    warning = page.locator("article.warning")
    expect(warning).to_contain_text("Possible duplicate")
    expect(warning.get_by_role("link", name=re.compile(existing.number))).to_be_visible()
    assert Customer.objects.count() == 1, "nothing is created before the agent confirms"

    warning.get_by_label("Create a new customer anyway").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("created")
    expect(page.get_by_role("heading", level=1)).to_contain_text("张伟")
    created = Customer.objects.exclude(pk=existing.pk).get()
    expect(page).to_have_url(re.compile(rf"/customers/{created.pk}/$"))
    # The card itself flags the twin.
    expect(page.get_by_role("alert")).to_contain_text(existing.number)


def test_agent_opening_the_import_page_gets_the_403_page(page, agent):
    log_in(page, agent)
    nav_import = page.get_by_role("navigation").get_by_role("link", name="Import", exact=True)
    expect(nav_import).to_have_count(0)
    response = page.goto("/customers/import/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not allowed", level=1)).to_be_visible()
    expect(page.get_by_text("Your role does not allow this.")).to_be_visible()
    # Still the normal frame: the agent can go back to work from here.
    expect(page.get_by_role("link", name="Customers", exact=True)).to_be_visible()


def test_language_switch_changes_the_navigation(page_zh, agent):
    page = page_zh
    log_in(page, agent)
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "zh-hans")  # a Chinese browser gets Chinese
    expect(page.get_by_role("link", name="客户", exact=True)).to_be_visible()

    # The switcher's buttons, found by the language they switch to (their labels are
    # themselves translated: "英语" on a Chinese page).
    switch = page.locator("form.lang")
    switch.locator("button[value=en]").click()
    expect(html).to_have_attribute("lang", "en")
    expect(page.get_by_role("link", name="Customers", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="客户", exact=True)).to_have_count(0)

    switch.locator("button[value=zh-hans]").click()
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("link", name="客户", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Customers", exact=True)).to_have_count(0)


@pytest.fixture
def worker_queue():
    """The real task queue (not immediate mode): the test plays the background worker."""
    was_immediate = HUEY.immediate
    HUEY.immediate = False
    yield HUEY
    HUEY.immediate = was_immediate


def _run_queued_import(huey, job_id: int) -> None:
    """Does what the worker process does: take the queued import task and execute it."""
    others, found = [], None
    for _ in range(10_000):
        try:
            task = huey.dequeue()
        except Exception:  # a message from an older version of the code: consumed, dropped
            continue
        if task is None:
            break
        if task.name.endswith("import_job_run") and tuple(task.args) == (job_id,):
            found = task
            break
        others.append(task)
    for task in others:  # not ours (e.g. left by another run): leave them queued
        huey.enqueue(task)
    assert found is not None, f"no queued import task for job {job_id}"
    huey.execute(found)


def test_supervisor_imports_a_csv_file_and_reads_the_report(
    page, supervisor, worker_queue, tmp_path
):
    csv_file = tmp_path / "客户名单.csv"
    csv_file.write_text(
        "外部编号,类型,名称,电话,常购\n"
        "T-1,个人,赵敏,138 0013 8001,铁观音\n"
        "T-2,企业,宁波港物流有限公司,0574-8765 4321,\n"
        "T-3,个人,钱多多,12345,普洱\n"  # not a phone number: rejected, reported
        "T-4,个人,孙丽,+86 139 0013 8002,\n",
        encoding="utf-8-sig",
    )
    log_in(page, supervisor)
    page.get_by_role("navigation").get_by_role("link", name="Import", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Import customers or contacts")
    page.get_by_label("What the file holds").select_option("customers")
    page.get_by_label("CSV or Excel file").set_input_files(csv_file)
    page.get_by_label("Import the valid rows and skip the invalid ones").check()
    page.locator("main form").get_by_role("button", name="Import").click()

    # Queued: the page shows the job waiting, with a progress bar, and keeps polling.
    expect(page).to_have_url(re.compile(r"/customers/import/\d+/$"))
    job = ImportJob.objects.get()
    progress = page.locator("#import-progress")
    expect(progress.locator(".job-status")).to_have_text("Waiting")
    expect(progress.locator("progress")).to_be_visible()
    mark_document(page)

    _run_queued_import(worker_queue, job.pk)

    # htmx polling swaps the report in; the page itself never reloads.
    expect(progress.locator(".job-status")).to_have_text("Imported")
    expect(progress.locator("progress")).to_have_count(0)
    expect(progress).to_contain_text("Rows read: 4")
    expect(progress).to_contain_text("Created: 3")
    expect(progress).to_contain_text("Rejected: 1")
    rejected = progress.locator("table tbody tr")
    expect(rejected).to_have_count(1)
    expect(rejected.first.locator("td").first).to_have_text("4")  # the file's 4th line
    assert same_document(page)
    assert sorted(Customer.objects.values_list("name", flat=True)) == sorted(
        ["赵敏", "宁波港物流有限公司", "孙丽"]
    )

    # The imported customers are found by a Chinese substring straight away.
    page.get_by_role("link", name="Customers", exact=True).click()
    page.get_by_role("searchbox", name="Search customers").fill("宁波港")
    expect(page.locator("#results").get_by_role("link", name="宁波港物流有限公司")).to_be_visible()
