"""SLA policies and follow-up policies that use the stored customer value."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from kehu.customers.services import customer_create
from kehu.promises import services as promises
from kehu.promises.models import FollowUp, FollowUpPolicy
from kehu.service import services as service
from tests.conftest import logged_in
from tests.insights.conftest import scores_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(agent):
    return {
        name: customer_create(actor=agent, kind="individual", name=name)
        for name in ("流失风险", "最赚钱", "一般", "未计算")
    }


@pytest.fixture
def policies(people):
    def policy(name, minutes, **fields):
        return service.sla_policy_create(
            name=name,
            kind="complaint",
            priority="",
            key_accounts=fields.pop("key", False),
            first_response_minutes=minutes,
            resolution_minutes=minutes * 4,
            calendar=None,
            **fields,
        )

    policy("投诉", 240)
    policy("流失风险投诉", 30, customer_value="churn_risk")
    policy("最赚钱客户投诉", 60, customer_value="top_tier")
    scores_store(people["流失风险"], tier="second_tier", churn_risk=True)
    scores_store(people["最赚钱"], tier="most_profitable", churn_risk=False)
    scores_store(people["一般"], tier="unprofitable", churn_risk=False)
    return policy


def _policy_of(agent, customer):
    case = service.case_create(
        actor=agent, customer=customer, kind="complaint", channel="phone", subject="空调不制冷"
    )
    return case.sla_policy.name


def test_a_case_gets_the_rule_for_its_customers_value(agent, people, policies):
    assert _policy_of(agent, people["流失风险"]) == "流失风险投诉"
    assert _policy_of(agent, people["最赚钱"]) == "最赚钱客户投诉"
    assert _policy_of(agent, people["一般"]) == "投诉"
    assert _policy_of(agent, people["未计算"]) == "投诉"


def test_key_accounts_still_come_first(agent, people, policies):
    from kehu.customers.services import customer_update

    policies("大客户投诉", 15, key=True)
    customer_update(actor=agent, customer=people["流失风险"], tags=["VIP"])
    assert _policy_of(agent, people["流失风险"]) == "大客户投诉"


def test_the_policy_form_offers_the_value_condition(supervisor):
    client = logged_in(supervisor)
    response = client.post(
        reverse("service:policies"),
        {
            "name": "流失风险",
            "kind": "complaint",
            "priority": "",
            "customer_value": "churn_risk",
            "first_response_minutes": "30",
            "resolution_minutes": "120",
            "calendar": "",
        },
    )
    assert response.status_code == 302
    from kehu.service.models import SlaPolicy

    assert SlaPolicy.objects.get().customer_value == "churn_risk"
    bad = client.post(
        reverse("service:policies"),
        {
            "name": "x",
            "kind": "",
            "priority": "",
            "customer_value": "whales",
            "first_response_minutes": "30",
            "resolution_minutes": "120",
            "calendar": "",
        },
    )
    assert bad.status_code == 200 and SlaPolicy.objects.count() == 1


def test_a_follow_up_policy_targets_a_segment(supervisor, agent, people):
    scores_store(people["流失风险"], segment="cannot_lose")
    scores_store(people["最赚钱"], segment="champions")
    promises.follow_up_policy_save(
        policy=FollowUpPolicy(
            name="不能失去的客户",
            trigger="segment_every",
            segment="cannot_lose",
            days=30,
            kind="phone",
            purpose="了解近况，挽留",
            owner=supervisor,
        )
    )
    now = timezone.now()
    assert promises.follow_ups_generate(now=now) == 1
    assert FollowUp.objects.get().customer == people["流失风险"]
    assert promises.follow_ups_generate(now=now) == 0  # once per period


@pytest.mark.parametrize("fields, field", [({"segment": ""}, "segment"), ({"days": 0}, "days")])
def test_a_segment_policy_needs_a_segment_and_a_period(supervisor, fields, field):
    values = {
        "name": "x",
        "trigger": "segment_every",
        "segment": "loyal",
        "days": 7,
        "kind": "phone",
        "purpose": "回访",
        "owner": supervisor,
    } | fields
    with pytest.raises(ValidationError) as error:
        promises.follow_up_policy_save(policy=FollowUpPolicy(**values))
    assert field in error.value.message_dict
    assert not FollowUpPolicy.objects.exists()
