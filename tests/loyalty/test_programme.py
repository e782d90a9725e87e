"""The programme's settings page: for LOYALTY_MANAGE only, limits on absurd values, nothing
saved on bad input, and the new earning rate used for the points earned next."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from kehu.loyalty import services
from kehu.loyalty.models import Programme, ProgrammeChange
from tests.conftest import bearer, logged_in
from tests.loyalty.factories import buy, day, member

GOOD = {"name": "茶友会", "points_per_unit": "2.5", "expiry_days": 730, "window_days": 180,
        "grace_days": 60}


def _settings() -> tuple:
    programme = services.programme_get()
    return (programme.name, programme.points_per_unit, programme.expiry_days,
            programme.window_days, programme.grace_days)


def test_refused_to_anonymous_and_roles_that_do_not_run_the_programme(client, agent, manager,
                                                                       analyst):
    url = reverse("loyalty:programme_edit")
    before = _settings()
    assert client.get(url).status_code == 302
    assert client.post(url, GOOD).status_code == 302
    for user in (agent, manager, analyst):
        assert logged_in(user).get(url).status_code == 403
        assert logged_in(user).post(url, GOOD).status_code == 403
    assert _settings() == before


def test_a_refused_actor_cannot_change_it_through_the_service(agent):
    before = _settings()
    with pytest.raises(ValidationError):
        services.programme_update(actor=agent, points_per_unit=Decimal(5))
    assert _settings() == before


def test_the_manage_page_shows_the_settings_and_links_to_the_form(supervisor_client):
    page = supervisor_client.get(reverse("loyalty:manage")).content.decode()
    assert reverse("loyalty:programme_edit") in page
    assert "365 days" in page and "30 days" in page
    form = supervisor_client.get(reverse("loyalty:programme_edit")).content.decode()
    assert 'name="points_per_unit"' in form and 'value="365"' in form


@pytest.mark.parametrize("user", ["supervisor", "admin_user"])
def test_settings_saved_and_shown(user, request):
    client = logged_in(request.getfixturevalue(user))
    response = client.post(reverse("loyalty:programme_edit"), GOOD)
    assert response.status_code == 302 and response.url == reverse("loyalty:manage")
    assert _settings() == ("茶友会", Decimal("2.5"), 730, 180, 60)
    assert Programme.objects.count() == 1
    page = client.get(reverse("loyalty:manage")).content.decode()
    assert "茶友会" in page and "2.5" in page and "730 days" in page and "180 days" in page


def test_expiry_zero_means_never(supervisor_client):
    assert "<dd>never</dd>" not in supervisor_client.get(reverse("loyalty:manage")).content.decode()
    supervisor_client.post(reverse("loyalty:programme_edit"), GOOD | {"expiry_days": 0})
    assert services.programme_get().expiry_days == 0
    assert "<dd>never</dd>" in supervisor_client.get(reverse("loyalty:manage")).content.decode()


@pytest.mark.parametrize("change,message", [
    ({"points_per_unit": "-1"}, "greater than or equal to 0"),
    ({"points_per_unit": "5000"}, "At most 1000 points per unit of money"),
    ({"points_per_unit": "1.23456"}, "no more than 4 decimal places"),
    ({"points_per_unit": "lots"}, "Enter a number"),
    ({"expiry_days": "-30"}, "greater than or equal to 0"),
    ({"expiry_days": "100000"}, "At most 3650 days"),
    ({"window_days": "0"}, "at least one day"),
    ({"window_days": "36500"}, "At most 3650 days"),
    ({"grace_days": "-1"}, "greater than or equal to 0"),
    ({"grace_days": "200"}, "may not be longer than the tier window"),
    ({"name": "   "}, "This field is required"),
])
def test_bad_values_are_refused_with_a_reason_and_nothing_saved(supervisor_client, change,
                                                                message):
    before = _settings()
    response = supervisor_client.post(reverse("loyalty:programme_edit"), GOOD | change)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert _settings() == before


def test_one_bad_value_saves_none_of_the_others_through_the_service(supervisor):
    before = _settings()
    with pytest.raises(ValidationError) as error:
        services.programme_update(actor=supervisor, name="新名字", window_days=30,
                                  grace_days=90)
    assert "grace_days" in error.value.message_dict
    assert _settings() == before


def test_the_new_rate_applies_to_the_next_purchases(supervisor, supervisor_client):
    m = member(supervisor)
    buy(supervisor, m, 40, at=day(2024, 3, 1))
    supervisor_client.post(reverse("loyalty:programme_edit"), GOOD | {"points_per_unit": "3"})
    buy(supervisor, m, 40, at=day(2024, 3, 2))
    m.refresh_from_db()
    assert m.balance == 40 + 120


def test_the_page_and_its_messages_in_chinese(supervisor_client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    page = supervisor_client.get(reverse("loyalty:manage")).content.decode()
    assert "会员计划设置" in page and "365 天" in page
    response = supervisor_client.post(reverse("loyalty:programme_edit"),
                                      GOOD | {"grace_days": "200"})
    assert "降级宽限期不能长于等级评定周期" in response.content.decode()


def test_each_changed_setting_is_recorded_with_who_and_from_what(supervisor, supervisor_client):
    supervisor_client.post(reverse("loyalty:programme_edit"),
                           GOOD | {"name": "kehu", "grace_days": 30})
    services.programme_update(actor=supervisor, points_per_unit=Decimal("2.5000"))  # same
    services.programme_update(actor=supervisor, expiry_days=365)
    changes = [(c.actor, c.field, c.from_value, c.to_value)
               for c in ProgrammeChange.objects.order_by("pk")]
    assert changes == [
        (supervisor, "expiry_days", "365", "730"),
        (supervisor, "points_per_unit", "1", "2.5"),
        (supervisor, "window_days", "365", "180"),
        (supervisor, "expiry_days", "730", "365"),
    ]
    page = supervisor_client.get(reverse("loyalty:manage")).content.decode()
    assert "points per unit of money" in page and "1 → 2.5" in page


def test_a_refused_or_bad_change_records_nothing(agent, supervisor, supervisor_client):
    with pytest.raises(ValidationError):
        services.programme_update(actor=agent, expiry_days=10)
    with pytest.raises(ValidationError):
        services.programme_update(actor=supervisor, expiry_days=10, grace_days=99999)
    supervisor_client.post(reverse("loyalty:programme_edit"), GOOD | {"window_days": "0"})
    assert not ProgrammeChange.objects.exists()


def test_the_changes_over_the_api_for_the_programmes_managers(supervisor):
    services.programme_update(actor=supervisor, name="茶友会")
    response = Client().get("/api/loyalty/programme/changes", **bearer(supervisor))
    assert response.status_code == 200
    assert [(c["actor"], c["field"], c["from_value"], c["to_value"]) for c in response.json()] \
        == [("supervisor", "name", "kehu", "茶友会")]
