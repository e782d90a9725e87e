"""Customers, a real business calendar and SLA policies shared by the case tests."""

import pytest

from kehu.customers import services as customer_services
from kehu.service import services
from kehu.service.models import Case, RootCause, SlaPolicy, default_hours

# Two business hours to a first response, eight to a resolution: on the office calendar
# (09:00–12:00, 13:30–18:00, Monday to Friday, China's holidays) that is about a day.
FIRST_RESPONSE = 120
RESOLUTION = 480


@pytest.fixture
def calendar(db):
    return services.calendar_create(
        name="客服中心", time_zone="Asia/Shanghai", hours=default_hours(), region="CN"
    )


@pytest.fixture
def policy(calendar):
    return SlaPolicy.objects.create(
        name="Everything", first_response_minutes=FIRST_RESPONSE, resolution_minutes=RESOLUTION
    )


@pytest.fixture
def customer(agent):
    return customer_services.customer_create(
        actor=agent, kind="individual", name="王芳", emails=["wang@example.com"]
    )


def case_open(actor, customer, *, now=None, **fields) -> Case:
    values = {"kind": "complaint", "channel": "phone", "subject": "空调不制冷"} | fields
    return services.case_create(actor=actor, customer=customer, now=now, **values)


def resolving(case: Case) -> dict:
    """What case_transition needs to resolve the case: a complaint names its root cause."""
    if case.kind != Case.Kind.COMPLAINT:
        return {}
    return {"root_cause": RootCause.objects.get(code="product")}
