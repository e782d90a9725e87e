"""The public web form in Chromium: a visitor on a phone, in Chinese, without logging in."""

import re

import pytest
from playwright.sync_api import expect

from kehu.service.models import Case

pytestmark = pytest.mark.browser

FORM_SCREENSHOT = "/tmp/kehu-public-form.png"


def test_a_visitor_on_a_phone_sends_a_complaint_and_gets_the_reference(browser, live_server, db):
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    try:
        page.goto("/help/")
        expect(page.get_by_role("heading", name="联系我们")).to_be_visible()
        # The honeypot is out of sight, so a person never fills it.
        expect(page.locator("#id_website")).not_to_be_in_viewport()
        page.get_by_label("您的姓名").fill("李娜")
        page.get_by_role("button", name="提交").click()
        # The browser's own checks are off: the server's messages are shown on the fields.
        expect(page.locator("#id_phone_error")).to_have_text(re.compile("请填写电话或邮箱"))
        expect(page.get_by_label("电话")).to_have_attribute(
            "aria-describedby", re.compile("id_phone_error")
        )
        page.get_by_label("电话").fill("138-0013-8000")
        page.get_by_label("主题").fill("快递送错地址")
        page.get_by_label("请描述具体情况").fill("包裹被送到了隔壁小区。")
        page.screenshot(path=FORM_SCREENSHOT, full_page=True)
        page.get_by_role("button", name="提交").click()
        expect(page.get_by_role("heading", name="谢谢您")).to_be_visible()
        case = Case.objects.get()
        expect(page.locator("#reference")).to_have_text(case.reference)
        assert case.channel == "web" and case.customer.name == "李娜"
        # Reloading the thank-you page shows the same reference and sends nothing again.
        page.reload()
        expect(page.locator("#reference")).to_have_text(case.reference)
        assert Case.objects.count() == 1
        page.get_by_role("button", name="English").click()
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    finally:
        context.close()
