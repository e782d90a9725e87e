"""SLA policies and complaint categories, configured by supervisors and admins."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kehu.service import services
from kehu.service.models import Case, ComplaintCategory, SlaPolicy

from ..conftest import logged_in
from .calendars_fixtures import at
from .cases_fixtures import case_open


def policy_post(**fields):
    return {
        "name": "大客户投诉",
        "kind": "complaint",
        "priority": "",
        "key_accounts": "on",
        "first_response_minutes": "30",
        "resolution_minutes": "240",
        "calendar": "",
    } | fields


def test_a_supervisor_creates_edits_and_deletes_a_policy(supervisor, calendar):
    client = logged_in(supervisor)
    response = client.post(reverse("service:policies"), policy_post())
    assert response.status_code == 302
    policy = SlaPolicy.objects.get()
    assert (policy.kind, policy.priority, policy.key_accounts, policy.calendar) == (
        "complaint",
        "",
        True,
        None,
    )
    page = client.get(reverse("service:policies")).content.decode()
    assert "大客户投诉" in page and "Complaint" in page and "Any priority" in page
    url = reverse("service:policy", args=[policy.pk])
    assert client.get(url).status_code == 200
    client.post(url, policy_post(resolution_minutes="480", calendar=str(calendar.pk)))
    policy.refresh_from_db()
    assert (policy.resolution_minutes, policy.calendar) == (480, calendar)
    client.post(url, {"delete": "1"})
    assert not SlaPolicy.objects.exists()


def test_a_bad_policy_is_refused(supervisor, db):
    client = logged_in(supervisor)
    response = client.post(reverse("service:policies"), policy_post(first_response_minutes="0"))
    assert response.status_code == 200 and not SlaPolicy.objects.exists()
    with pytest.raises(ValidationError, match="Choose a kind"):
        services.sla_policy_create(
            name="x",
            kind="rant",
            priority="",
            key_accounts=False,
            first_response_minutes=1,
            resolution_minutes=1,
            calendar=None,
        )


def test_deleting_a_policy_leaves_its_cases_targets(agent, customer, policy):
    case = case_open(agent, customer, now=at(2026, 3, 16, 9))
    services.sla_policy_delete(policy=policy)
    case.refresh_from_db()
    assert case.sla_policy is None and case.resolution_due_at == at(2026, 3, 17, 9, 30)


@pytest.mark.parametrize("role", ["agent", "manager", "analyst"])
def test_only_supervisors_and_admins_configure_policies_and_categories(request, role, policy):
    client = logged_in(request.getfixturevalue(role))
    category = ComplaintCategory.objects.get(code="other")
    for url in (
        reverse("service:policies"),
        reverse("service:policy", args=[policy.pk]),
        reverse("service:categories"),
    ):
        assert client.get(url).status_code == 403
        assert client.post(url, policy_post(code="x", name="x")).status_code == 403
    assert (
        client.post(reverse("service:category", args=[category.pk]), {"name": "x"}).status_code
        == 403
    )
    assert SlaPolicy.objects.count() == 1 and ComplaintCategory.objects.count() == 5
    assert ComplaintCategory.objects.get(code="other").name == "Other"


def test_an_admin_adds_and_retires_complaint_categories(admin_user, agent, customer, db):
    client = logged_in(admin_user)
    assert (
        client.post(reverse("service:categories"), {"code": "delivery", "name": "送货"}).status_code
        == 302
    )
    delivery = ComplaintCategory.objects.get(code="delivery")
    assert delivery.position > ComplaintCategory.objects.get(code="other").position
    response = client.post(reverse("service:categories"), {"code": "delivery", "name": "重复"})
    assert response.status_code == 200 and ComplaintCategory.objects.count() == 6
    form = (
        logged_in(agent)
        .get(reverse("service:case_create") + f"?customer={customer.pk}")
        .content.decode()
    )
    assert "送货" in form
    client.post(reverse("service:category", args=[delivery.pk]), {"name": "送货上门"})
    delivery.refresh_from_db()
    assert (delivery.name, delivery.is_active) == ("送货上门", False)
    form = (
        logged_in(agent)
        .get(reverse("service:case_create") + f"?customer={customer.pk}")
        .content.decode()
    )
    assert "送货" not in form
    with pytest.raises(ValidationError, match="no longer in use"):
        case_open(agent, customer, category=delivery)
    assert not Case.objects.exists()
