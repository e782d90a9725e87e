"""The public web form at /help/: anyone opens a case and gets a reference; bots and floods
are turned away; nothing of other customers is shown."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from kehu.customers import services as customer_services
from kehu.customers.models import Customer
from kehu.service.models import Case, ComplaintCategory
from kehu.webform import services
from kehu.webform.models import SubmissionWindow

from ..conftest import logged_in

URL = "/help/"
T0 = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)


def form(**fields) -> dict:
    return {
        "name": "李娜",
        "phone": "",
        "email": "lina@example.com",
        "kind": "complaint",
        "category": "",
        "subject": "快递送错地址",
        "description": "包裹被送到了隔壁小区。",
        "website": "",
    } | fields


def counts() -> tuple[int, int]:
    return Case.objects.count(), Customer.objects.count()


@pytest.fixture
def fang(agent):
    return customer_services.customer_create(
        actor=agent,
        kind="individual",
        name="王芳",
        phones=["138 0013 8000"],
        emails=["wang@example.com"],
    )


def test_a_visitor_opens_a_case_and_gets_its_reference(
    client, db, django_capture_on_commit_callbacks
):
    assert client.get(URL).status_code == 200
    product = ComplaintCategory.objects.get(code="product")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            URL, form(phone="139 1234 5678", category=product.pk, description="<b>坏了</b>")
        )
    assert response.status_code == 302 and response["Location"] == reverse("webform:thanks")
    case = Case.objects.get()
    assert case.channel == Case.Channel.WEB and case.kind == "complaint"
    assert case.category == product and case.created_by is None and case.owner is None
    assert case.description.startswith("<b>坏了</b>") and "lina@example.com" in case.description
    customer = case.customer
    assert customer.name == "李娜" and customer.kind == "individual"
    assert [p.e164 for p in customer.phones.all()] == ["+8613912345678"]
    assert [e.address for e in customer.emails.all()] == ["lina@example.com"]
    assert [(e.kind, e.actor) for e in case.events.all()] == [("created", None)]
    thanks = client.get(response["Location"]).content.decode()
    assert case.reference in thanks
    assert customer.number not in thanks and "13912345678" not in thanks
    [message] = mail.outbox
    assert message.to == ["lina@example.com"] and case.reference in message.subject


def test_an_existing_customer_is_found_by_a_differently_written_phone(client, fang):
    before = counts()
    response = client.post(URL, form(name="Fang", phone="+86 138-0013-8000", email=""))
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.customer == fang and counts() == (before[0] + 1, before[1])
    # The anonymous form never changes the customer's record.
    fang.refresh_from_db()
    assert fang.name == "王芳" and fang.emails.count() == 1
    thanks = client.get(response["Location"]).content.decode()
    assert case.reference in thanks
    assert "王芳" not in thanks and fang.number not in thanks and "wang@example.com" not in thanks


def test_an_existing_customer_is_found_by_email_and_a_contact_by_phone(client, fang, xihu):
    client.post(URL, form(email="Wang@Example.com"))
    client.post(URL, form(phone="13910002000", email=""))
    by_email, by_phone = Case.objects.order_by("pk")
    assert by_email.customer == fang
    assert by_phone.customer == xihu and by_phone.contact.name == "王建国"
    assert Customer.objects.count() == 2


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"phone": "", "email": ""}, "phone", "Give a phone number or an email address."),
        ({"phone": "12345", "email": ""}, "phone", "is not a valid phone number"),
        ({"email": "lina@"}, "email", "is not an email address"),
        ({"subject": "长" * 201}, "subject", "at most 200 characters"),
        ({"subject": "   "}, "subject", "This field is required."),
        ({"description": ""}, "description", "This field is required."),
        ({"name": ""}, "name", "This field is required."),
        ({"name": "<script>"}, "name", "may not contain"),
        ({"kind": "refund"}, "kind", "Select a valid choice."),
    ],
)
def test_bad_input_is_explained_on_its_field_and_nothing_is_created(
    client, db, fields, field, message
):
    before = counts()
    response = client.post(URL, form(**fields))
    page = response.content.decode()
    assert response.status_code == 200 and message in page
    assert f'id="id_{field}_error"' in page and f'aria-describedby="id_{field}_error' in page
    assert counts() == before and not SubmissionWindow.objects.exists()


def test_a_filled_honeypot_creates_nothing_and_looks_accepted(client, db):
    response = client.post(URL, form(website="http://spam.example"), follow=True)
    assert response.status_code == 200 and "Thank you" in response.content.decode()
    assert counts() == (0, 0)


def test_the_sixth_submission_within_the_hour_is_refused_with_429(client, db):
    for n in range(5):
        assert client.post(URL, form(subject=f"第{n}次")).status_code == 302
    before = counts()
    response = client.post(URL, form(subject="第六次"), HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.status_code == 429 and "请稍后再试" in response.content.decode()
    english = client.post(URL, form(subject="again"))
    assert english.status_code == 429 and "Please try again later" in english.content.decode()
    assert counts() == before
    # Another address has its own allowance.
    assert client.post(URL, form(), REMOTE_ADDR="10.0.0.9").status_code == 302


def test_the_limit_resets_once_the_window_has_passed(db, settings):
    settings.KEHU_WEBFORM_LIMIT = 2
    submit = {k: v for k, v in form().items() if k != "website"} | {"category": None}
    for minutes in (0, 30):
        services.web_case_submit(client="10.0.0.1", now=T0 + timedelta(minutes=minutes), **submit)
    with pytest.raises(services.RateLimited):
        services.web_case_submit(client="10.0.0.1", now=T0 + timedelta(minutes=59), **submit)
    # The first submission leaves the window; the second is still in it.
    services.web_case_submit(client="10.0.0.1", now=T0 + timedelta(minutes=61), **submit)
    with pytest.raises(services.RateLimited):
        services.web_case_submit(client="10.0.0.1", now=T0 + timedelta(minutes=62), **submit)
    assert Case.objects.count() == 3
    assert services.submission_windows_prune(now=T0 + timedelta(minutes=200)) == 1


def test_x_forwarded_for_counts_only_behind_a_configured_proxy(client, db, settings):
    settings.KEHU_WEBFORM_LIMIT = 1
    assert client.post(URL, form(), HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 302
    # Without a proxy the header is anyone's to write: the address is still 127.0.0.1.
    assert client.post(URL, form(), HTTP_X_FORWARDED_FOR="2.2.2.2").status_code == 429
    settings.KEHU_PROXY_COUNT = 1
    # Behind one proxy, the entry it appended is the client; what the client wrote is not.
    forwarded = {"HTTP_X_FORWARDED_FOR": "9.9.9.9, 3.3.3.3"}
    assert client.post(URL, form(), **forwarded).status_code == 302
    assert client.post(URL, form(), HTTP_X_FORWARDED_FOR="8.8.8.8, 3.3.3.3").status_code == 429
    assert set(SubmissionWindow.objects.values_list("client", flat=True)) == {
        "127.0.0.1",
        "3.3.3.3",
    }


def test_the_form_needs_a_csrf_token(db):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(URL, form()).status_code == 403
    assert not Case.objects.exists()


def test_the_page_is_public_in_the_visitors_language_and_shows_no_customers(client, fang):
    english = client.get(URL).content.decode()
    assert "Contact us" in english and 'name="csrfmiddlewaretoken"' in english
    chinese = client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "联系我们" in chinese and 'lang="zh-hans"' in chinese
    for page in (english, chinese):
        assert "王芳" not in page and fang.number not in page and "/customers/" not in page
    assert client.get(reverse("webform:thanks")).status_code == 302


def test_html_in_the_text_is_kept_as_text_and_escaped_for_agents(client, agent):
    client.post(URL, form(subject="<img src=x onerror=alert(1)>"))
    case = Case.objects.get()
    assert case.subject == "<img src=x onerror=alert(1)>"
    page = logged_in(agent).get(reverse("service:case", args=[case.pk])).content.decode()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
