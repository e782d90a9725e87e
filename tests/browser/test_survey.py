"""A customer answers a SERVQUAL survey on a phone, in Chinese, without logging in."""

import re

import pytest
from django.core import mail
from django.test import TestCase
from playwright.sync_api import expect

from kehu.customers import services as customer_services
from kehu.feedback import services
from kehu.feedback.models import Response, ServqualItem, Survey
from kehu.feedback.seeds import servqual_items_seed

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/kehu-survey.png"


def test_a_customer_answers_servqual_on_a_phone_in_chinese(browser, live_server, agent, supervisor):
    # The data migration's items, gone if an earlier live-server test flushed the tables.
    servqual_items_seed(ServqualItem)
    customer = customer_services.customer_create(
        actor=agent,
        kind="individual",
        name="李娜",
        salutation="李女士",
        owner=agent,
        emails=["li.na@example.com"],
    )
    survey = services.survey_create(
        actor=supervisor, name="服务质量调查", kind=Survey.Kind.SERVQUAL
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.invitation_send(survey=survey, customer=customer, occasion="t", language="zh-hans")
    path = re.search(r"/s/[A-Za-z0-9_-]+", mail.outbox[-1].body).group(0)
    items = list(ServqualItem.objects.filter(is_active=True))
    reliability = {i.pk for i in items if i.dimension == "reliability"}

    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    try:
        page.goto(path)
        expect(page.get_by_role("heading", name="您的意见")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        # A greeting, and no other personal data.
        expect(page.get_by_text("李女士，您好")).to_be_visible()
        assert "李娜" not in page.content() and "li.na@" not in page.content()
        expect(page.get_by_role("heading", name="可靠性")).to_be_visible()
        # Nothing fits sideways on a phone.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        # Sending half-answered shows what is missing, and keeps what was chosen.
        first = page.get_by_role("group", name=items[0].text_zh)
        first.get_by_role("group", name="一家优秀的同类企业").get_by_role("radio", name="6").check()
        page.get_by_role("button", name="提交我的回答").click()
        expect(page.locator("#form-errors")).to_contain_text("请回答标出的问题")
        assert Response.objects.count() == 0

        for n, item in enumerate(items):
            group = page.get_by_role("group", name=item.text_zh)
            expected = group.get_by_role("group", name="一家优秀的同类企业")
            perceived = group.get_by_role("group", name="我们")
            if n == 0:
                # By keyboard: the chosen 6, one step right to 7.
                expected.get_by_role("radio", name="6").focus()
                page.keyboard.press("ArrowRight")
                expect(expected.get_by_role("radio", name="7")).to_be_checked()
            else:
                expected.get_by_role("radio", name="5" if n % 2 else "6").check()
            perceived.get_by_role("radio", name="3" if item.pk in reliability else "6").check()
        page.get_by_label("还有什么想告诉我们的吗？").fill("建议准时上门")
        page.screenshot(path=SCREENSHOT, full_page=True)
        page.get_by_role("button", name="提交我的回答").click()
        expect(page.get_by_role("heading", name="谢谢您")).to_be_visible()

        response = Response.objects.get()
        assert response.servqual.count() == 22 and response.comment == "建议准时上门"
        pairs = {a.item_id: (a.expectation, a.perception) for a in response.servqual.all()}
        gap = sum(p - e for e, p in pairs.values()) / 22
        assert response.gap == pytest.approx(gap)
        assert response.reading == services.servqual_reading(gap)
        # Opening the link again, in another browser, says it was answered.
        other = browser.new_context(base_url=live_server.url, locale="zh-CN")
        again = other.new_page()
        again.goto(path)
        expect(again.get_by_role("heading", name="已经答过了")).to_be_visible()
        other.close()
    finally:
        context.close()
