"""The customer value page: charts' data, the churn-risk list, filters, permissions."""

import html
import json

import pytest
from django.urls import reverse

from kehu.insights import services
from tests.conftest import logged_in
from tests.insights.conftest import AS_OF

pytestmark = pytest.mark.django_db
URL = reverse("insights:value")


def _data(response) -> dict:
    page = response.content.decode()
    start = page.index('<script id="value-data" type="application/json">') + 48
    return json.loads(page[start : page.index("</script>", start)])


@pytest.mark.parametrize("role", ["supervisor", "analyst", "admin_user"])
def test_analysts_supervisors_and_admins_see_the_page(request, sales, role):
    services.value_refresh(as_of=AS_OF)
    client = logged_in(request.getfixturevalue(role))
    response = client.get(URL, {"start": "2025-01-01", "end": str(AS_OF)})
    assert response.status_code == 200
    data = _data(response)
    assert data["pareto"][0] == [0.0, 0.0] and data["pareto"][-1] == [1.0, 1.0]
    assert data["lorenz"][-1] == [1.0, 1.0] and 0 < data["gini"] < 1
    assert data["whale"] and max(point[1] for point in data["whale"]) > 1  # the hump
    assert "2025-01" in data["cohorts"]["cohorts"]
    assert sum(data["segments"]["customers"]) == len(sales)
    assert sum(data["clv"]["customers"]) > 0
    page = html.unescape(response.content.decode())
    assert "常客走了" in page[page.index('class="striped churn-risk"') :]
    assert "月月来" not in page[page.index('class="striped churn-risk"') :]


def test_an_agent_is_refused(agent_client):
    assert agent_client.get(URL).status_code == 403


def test_the_period_filters_the_curves(analyst_client, sales):
    data = _data(analyst_client.get(URL, {"start": "2026-10-01", "end": str(AS_OF)}))
    assert data["cohorts"]["cohorts"] == ["2026-10"]


def test_a_bad_period_is_said_and_nothing_computed(analyst_client, sales):
    response = analyst_client.get(URL, {"start": "2026-10-01", "end": "2026-01-01"})
    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()
    assert "pareto" not in _data(response)


def test_the_page_before_any_refresh(analyst_client, db):
    response = analyst_client.get(URL)
    assert response.status_code == 200
    assert "No value refresh has run yet" in html.unescape(response.content.decode())
