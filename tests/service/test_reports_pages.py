"""The report pages and API: who may see them, the CSV export, the iceberg's labelling."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from kehu.service import services
from kehu.service.models import ComplaintCategory

from ..conftest import bearer, logged_in
from .calendars_fixtures import at
from .cases_fixtures import case_open

PAGES = ["service:report_sla", "service:report_iceberg", "service:complainants"]
API = ["/api/service/reports/sla", "/api/service/reports/iceberg", "/api/service/complainants"]
MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


@pytest.fixture
def march_cases(agent, customer, xihu, policy):
    product = ComplaintCategory.objects.get(code="product")
    answered = case_open(agent, customer, now=at(2026, 3, 16, 9), team="一组", category=product)
    services.case_note_add(
        actor=agent,
        case=answered,
        kind="reply",
        body="您好",
        expected_version=1,
        now=at(2026, 3, 16, 9, 30),
    )
    case_open(agent, xihu, now=at(2026, 3, 16, 9), team="一组", category=product)
    services.case_sla_sweep(now=at(2026, 3, 20, 9))


@pytest.mark.parametrize("name", PAGES)
def test_report_pages_refuse_agents_managers_and_strangers(name, agent, manager, client):
    url = reverse(name)
    assert client.get(url).status_code in (302, 403)
    assert logged_in(agent).get(url).status_code == 403
    assert logged_in(manager).get(url).status_code == 403


@pytest.mark.parametrize("name", PAGES)
def test_report_pages_open_to_supervisors_analysts_and_admins(
    name, supervisor, analyst, admin_user
):
    for user in (supervisor, analyst, admin_user):
        assert logged_in(user).get(reverse(name)).status_code == 200


@pytest.mark.parametrize("url", API)
def test_report_api_refuses_agents_managers_and_strangers(url, agent, manager, client):
    assert client.get(url).status_code == 401
    assert client.get(url, **bearer(agent)).status_code == 403
    assert client.get(url, **bearer(manager)).status_code == 403


@pytest.mark.parametrize("url", API)
def test_report_api_answers_supervisors_analysts_and_admins(url, supervisor, analyst, admin_user):
    for user in (supervisor, analyst, admin_user):
        assert logged_in(user).get(url).status_code == 200


def test_the_sla_page_shows_the_table_and_its_definitions(analyst, march_cases):
    page = logged_in(analyst).get(reverse("service:report_sla"), MARCH).content.decode()
    assert "一组" in page and "50.0%" in page
    assert "fell due" in page and "Asia/Shanghai" in page


def test_the_sla_csv_has_a_row_per_group_and_total(analyst, march_cases):
    response = logged_in(analyst).get(
        reverse("service:report_sla"), MARCH | {"format": "csv", "by": "category"}
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, product, total = rows
    assert header[:3] == ["Period", "Complaint category", "First response: due"]
    assert product[:7] == ["2026-03-01", "Product", "2", "1", "1", "0", "50.0"]
    assert total[1] == "All" and total[2] == "2"


def test_bad_report_input_is_explained(analyst):
    client = logged_in(analyst)
    page = client.get(reverse("service:report_sla"), {"start": "2026-03-31", "end": "2026-03-01"})
    assert page.status_code == 200 and "before the start date" in page.content.decode()
    page = client.get(
        reverse("service:report_sla"), {"start": "2020-01-01", "end": "2026-01-01", "period": "day"}
    )
    assert "too long" in page.content.decode()
    response = client.get("/api/service/reports/sla", {"start": "2026-03-31", "end": "2026-03-01"})
    assert response.status_code == 422
    assert client.get("/api/service/reports/sla", {"by": "bogus"}).status_code == 422


def test_the_sla_api_returns_rows_with_both_clocks(supervisor, march_cases):
    response = logged_in(supervisor).get("/api/service/reports/sla", MARCH)
    assert response.status_code == 200
    team, total = response.json()
    assert (team["label"], team["group"], team["total"]) == ("一组", "一组", False)
    assert team["first_response"] == {
        "due": 2,
        "met": 1,
        "missed": 1,
        "pending": 0,
        "met_percent": 50.0,
        "missed_percent": 50.0,
        "median_business_minutes": 30,
        "p90_business_minutes": 30,
    }
    assert total["total"] is True and total["resolution"]["missed"] == 2


def test_the_iceberg_is_labelled_an_estimate_with_its_rate(supervisor, admin_user, march_cases):
    client = logged_in(supervisor)
    page = client.get(reverse("service:report_iceberg"), MARCH).content.decode()
    assert "Estimate." in page and "5%" in page and "about 20 dissatisfied" in page
    assert "≈ 40" in page  # two complaining customers
    assert 'id="iceberg-data"' in page and "echarts.min.js" in page
    services.service_settings_update(
        actor=admin_user,
        complaint_rate_percent=Decimal(10),
        habitual_threshold=3,
        habitual_window_months=12,
    )
    data = client.get("/api/service/reports/iceberg", MARCH).json()
    assert data["complaint_rate_percent"] == "10.00" or float(data["complaint_rate_percent"]) == 10
    assert "estimate" in data["note"]
    assert [
        (r["category"], r["complaints"], r["customers"], r["estimated"]) for r in data["totals"]
    ] == [("Product", 2, 2, 20)]


def test_the_reports_link_shows_only_to_those_who_may_see_them(agent, analyst):
    link = reverse("service:report_sla")
    assert link not in logged_in(agent).get(reverse("service:cases")).content.decode()
    assert link in logged_in(analyst).get(reverse("service:cases")).content.decode()


def test_the_iceberg_says_estimate_in_chinese(supervisor, march_cases, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    page = logged_in(supervisor).get(reverse("service:report_iceberg"), MARCH).content.decode()
    assert "估计值" in page and "不满意客户估计数（估计）" in page and "5%" in page
