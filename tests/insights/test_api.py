"""Customer value over the API; who is refused."""

import json

import pytest
from django.test import Client

from kehu.insights.models import ValueRefresh
from tests.conftest import bearer
from tests.insights.conftest import AS_OF

pytestmark = pytest.mark.django_db


def _call(user, method, url, body=None):
    headers = bearer(user) if user else {}
    kwargs = {"content_type": "application/json", "data": json.dumps(body)} if body else {}
    return getattr(Client(), method)(f"/api{url}", **kwargs, **headers)


def test_refresh_then_read_scores_and_the_churn_list(analyst, agent, sales):
    made = _call(analyst, "post", "/value/refreshes", {"as_of": str(AS_OF), "horizon_days": 30})
    assert made.status_code == 201, made.content
    assert made.json()["horizon_days"] == 30 and made.json()["customers"] == len(sales)
    assert _call(analyst, "get", "/value/refreshes/latest").json()["id"] == made.json()["id"]
    gone = sales["常客走了"]
    value = _call(agent, "get", f"/customers/{gone.pk}/value")
    assert value.status_code == 200
    assert value.json()["churn_risk"] is True and value.json()["previous_refresh_id"] is None
    risky = _call(analyst, "get", "/value/churn-risk").json()
    assert len(_call(analyst, "get", "/value/churn-risk?limit=2").json()) == 2
    assert gone.pk in [row["customer_id"] for row in risky]
    clvs = [float(row["clv"]) for row in risky if row["clv"] is not None]
    assert clvs == sorted(clvs, reverse=True)


def test_refusals_and_bad_input(agent, supervisor, analyst, sales):
    assert _call(None, "get", "/value/churn-risk").status_code == 401
    assert _call(agent, "get", "/value/churn-risk").status_code == 403
    assert _call(agent, "get", "/value/refreshes/latest").status_code == 403
    assert _call(agent, "post", "/value/refreshes", {"as_of": str(AS_OF)}).status_code == 403
    assert _call(supervisor, "post", "/value/refreshes", {"as_of": str(AS_OF)}).status_code == 403
    bad = _call(analyst, "post", "/value/refreshes", {"discount_rate": 2})
    assert bad.status_code == 422 and "discount_rate" in bad.json()["detail"]
    assert not ValueRefresh.objects.exists()
    assert _call(analyst, "get", "/value/refreshes/latest").status_code == 404
    assert _call(agent, "get", f"/customers/{sales['一次'].pk}/value").status_code == 404
