"""When a customer was lost: stamped by the services, cleared when they are won back, and
back-filled from the change history for customers lost before the field existed."""

import importlib
from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse

from kehu.customers import services
from kehu.customers.models import Change, Customer
from tests.conftest import bearer

backfill = importlib.import_module("kehu.customers.migrations.0006_customer_lost_at")


def _customer(agent, **fields):
    return services.customer_create(actor=agent, kind="individual", name="王五", **fields)


def test_lost_at_is_set_when_lost_kept_on_edits_and_cleared_when_won_back(agent):
    customer = _customer(agent)
    assert customer.lost_at is None
    lost = services.customer_update(
        actor=agent, customer=customer, status="lost", lost_reason="price"
    )
    assert lost.lost_at is not None
    stamped = lost.lost_at
    # Other edits of a lost customer do not move the date.
    edited = services.customer_update(actor=agent, customer=lost, needs="只买打折的")
    assert edited.lost_at == stamped
    won_back = services.customer_update(actor=agent, customer=edited, status="active")
    assert won_back.lost_at is None and won_back.lost_reason == ""
    again = services.customer_update(
        actor=agent, customer=won_back, status="lost", lost_reason="moved"
    )
    assert again.lost_at is not None and again.lost_at >= stamped


def test_created_lost_is_stamped_and_a_refused_change_stamps_nothing(agent):
    assert _customer(agent, status="lost", lost_reason="competitor").lost_at is not None
    customer = _customer(agent)
    with pytest.raises(ValidationError):
        services.customer_update(actor=agent, customer=customer, status="lost")  # no reason
    assert Customer.objects.get(pk=customer.pk).lost_at is None


def _at(customer, action, when, **lookups):
    Change.objects.filter(customer=customer, action=action, **lookups).update(at=when)


def test_migration_back_fills_from_the_change_history(agent):
    may, june, july = (datetime(2026, m, 1, tzinfo=UTC) for m in (5, 6, 7))
    # Lost, won back, lost again: the second time counts.
    twice = _customer(agent)
    services.customer_update(actor=agent, customer=twice, status="lost", lost_reason="price")
    _at(twice, "updated", may)
    services.customer_update(actor=agent, customer=twice, status="active")
    _at(twice, "updated", june, at__gt=may)
    services.customer_update(actor=agent, customer=twice, status="lost", lost_reason="moved")
    _at(twice, "updated", july, at__gt=june)
    created_lost = _customer(agent, status="lost", lost_reason="price")
    _at(created_lost, "created", may)
    imported = _customer(agent, status="lost", lost_reason="price")
    Change.objects.filter(customer=imported).update(action="imported")
    active = _customer(agent)
    Customer.objects.update(lost_at=None)  # as before the field existed

    backfill.lost_at_backfill(apps, None)

    found = dict(Customer.objects.values_list("pk", "lost_at"))
    assert found[twice.pk] == july
    assert found[created_lost.pk] == may
    assert found[imported.pk] is None and found[active.pk] is None


def test_the_card_and_the_api_say_since_when_the_customer_is_lost(agent, agent_client):
    customer = _customer(agent, status="lost", lost_reason="price")
    Customer.objects.filter(pk=customer.pk).update(lost_at=datetime(2026, 3, 5, 4, tzinfo=UTC))
    page = agent_client.get(
        reverse("customers:card", args=[customer.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "(since 03/05/2026)" in page.content.decode()
    found = agent_client.get(f"/api/customers/{customer.pk}", headers=bearer(agent)).json()
    assert found["lost_at"].startswith("2026-03-05T")
