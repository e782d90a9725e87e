"""Frequent complainants: flagged past N complaints in the window, on staff pages only;
and the admin's service settings that set N, the window and the complaint rate."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from kehu.service import reports, services
from kehu.service.models import ServiceSettings, ServiceSettingsChange
from kehu.telephony.models import Call, CallAlert

from ..conftest import logged_in
from .cases_fixtures import case_open

FLAG = "Frequent complainant"


def complaints(agent, customer, count, *, days_ago=1, kind="complaint"):
    when = timezone.now() - timedelta(days=days_ago)
    return [case_open(agent, customer, now=when, kind=kind) for _n in range(count)]


def test_flagged_at_n_plus_one_complaints_within_the_window(agent, customer):
    # The default: more than 3 complaints in 12 months.
    complaints(agent, customer, 3)
    assert reports.complainant_flag(customer_id=customer.pk) is None
    complaints(agent, customer, 1)
    flag = reports.complainant_flag(customer_id=customer.pk)
    assert flag == reports.ComplainantFlag(complaints=4, months=12)


def test_older_complaints_and_other_kinds_do_not_count(agent, customer):
    complaints(agent, customer, 3)
    complaints(agent, customer, 5, days_ago=370)  # more than 12 months ago
    complaints(agent, customer, 5, kind="request")
    complaints(agent, customer, 5, kind="praise")
    assert reports.complainant_flag(customer_id=customer.pk) is None
    assert reports.frequent_complainants() == []


def test_the_window_is_calendar_months_in_shanghai():
    now = timezone.datetime(2026, 3, 31, 10, tzinfo=reports.report_zone())
    assert reports.months_before(now, 1).date() == timezone.datetime(2026, 2, 28).date()
    assert reports.months_before(now, 12).date() == timezone.datetime(2025, 3, 31).date()
    assert reports.months_before(now, 3).date() == timezone.datetime(2025, 12, 31).date()


def test_a_changed_threshold_and_window_move_the_flag(agent, admin_user, customer):
    complaints(agent, customer, 2, days_ago=50)
    assert reports.complainant_flag(customer_id=customer.pk) is None
    services.service_settings_update(
        actor=admin_user,
        complaint_rate_percent=Decimal(5),
        habitual_threshold=1,
        habitual_window_months=12,
    )
    assert reports.complainant_flag(customer_id=customer.pk).complaints == 2
    services.service_settings_update(
        actor=admin_user,
        complaint_rate_percent=Decimal(5),
        habitual_threshold=1,
        habitual_window_months=1,
    )
    assert reports.complainant_flag(customer_id=customer.pk) is None


def test_the_flag_shows_on_the_card_the_case_and_the_call_panel(agent, customer):
    cases = complaints(agent, customer, 4)
    client = logged_in(agent)
    card = client.get(reverse("customers:card", args=[customer.pk])).content.decode()
    assert FLAG in card and "4 complaints in 12 months — handle with extra care." in card
    page = client.get(reverse("service:case", args=[cases[0].pk])).content.decode()
    assert FLAG in page
    call = Call.objects.create(
        call_id="c1", number_e164="+8613800138000", customer=customer, started_at=timezone.now()
    )
    CallAlert.objects.create(call=call, user=agent)
    panel = client.get(reverse("telephony:probe"), {"current": ""}).content.decode()
    assert "call-panel" in panel and FLAG in panel


def test_no_flag_below_the_threshold(agent, customer):
    complaints(agent, customer, 3)
    card = logged_in(agent).get(reverse("customers:card", args=[customer.pk]))
    assert FLAG not in card.content.decode()


def test_the_case_list_filters_frequent_complainants(agent, customer, xihu):
    flagged = complaints(agent, customer, 4)
    other = case_open(agent, xihu, subject="西湖的投诉")
    page = logged_in(agent).get(reverse("service:cases"), {"complainants": "1"}).content.decode()
    assert flagged[0].reference in page and other.reference not in page


def test_the_complainants_page_lists_them(supervisor, agent, customer):
    complaints(agent, customer, 4)
    page = logged_in(supervisor).get(reverse("service:complainants")).content.decode()
    assert customer.name in page and ">4<" in page


# --- Settings ---------------------------------------------------------------------------


def settings_post(client, **values):
    data = {
        "complaint_rate_percent": "5",
        "habitual_threshold": "3",
        "habitual_window_months": "12",
    } | values
    return client.post(reverse("service:settings"), data)


def test_an_admin_changes_the_settings_and_the_change_is_recorded(admin_client, admin_user):
    response = settings_post(admin_client, complaint_rate_percent="4", habitual_threshold="5")
    assert response.status_code == 302
    stored = ServiceSettings.objects.get()
    assert (stored.complaint_rate_percent, stored.habitual_threshold) == (Decimal(4), 5)
    changes = {
        (c.field, c.from_value, c.to_value, c.actor) for c in ServiceSettingsChange.objects.all()
    }
    assert changes == {
        ("complaint_rate_percent", "5", "4", admin_user),
        ("habitual_threshold", "3", "5", admin_user),
    }
    page = admin_client.get(reverse("service:settings")).content.decode()
    assert "5 → 4" in page


@pytest.mark.parametrize(
    "values",
    [
        {"complaint_rate_percent": "0"},
        {"complaint_rate_percent": "-1"},
        {"complaint_rate_percent": "100.01"},
        {"complaint_rate_percent": "abc"},
        {"habitual_threshold": "0"},
        {"habitual_window_months": "0"},
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(admin_client, values):
    response = settings_post(admin_client, **values)
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert not ServiceSettings.objects.exists()
    assert not ServiceSettingsChange.objects.exists()


def test_a_rate_of_100_is_allowed(admin_client):
    assert settings_post(admin_client, complaint_rate_percent="100").status_code == 302


def test_the_service_refuses_bad_values_and_non_admins(admin_user, supervisor):
    with pytest.raises(ValidationError):
        services.service_settings_update(
            actor=admin_user,
            complaint_rate_percent=Decimal(0),
            habitual_threshold=3,
            habitual_window_months=12,
        )
    with pytest.raises(ValidationError):
        services.service_settings_update(
            actor=supervisor,
            complaint_rate_percent=Decimal(5),
            habitual_threshold=3,
            habitual_window_months=12,
        )
    assert not ServiceSettings.objects.exists()
    assert not ServiceSettingsChange.objects.exists()


def test_only_admins_see_and_change_the_settings(agent, manager, supervisor, analyst, client):
    assert client.get(reverse("service:settings")).status_code in (302, 403)
    for user in (agent, manager, supervisor, analyst):
        user_client = logged_in(user)
        assert user_client.get(reverse("service:settings")).status_code == 403
        assert settings_post(user_client, habitual_threshold="9").status_code == 403
    assert settings_post(client, habitual_threshold="9").status_code in (302, 403)
    assert not ServiceSettings.objects.exists()
