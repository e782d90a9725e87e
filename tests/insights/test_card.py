"""The customer card shows value, and what changed since the previous refresh."""

import html

import pytest
from django.urls import reverse

from kehu.customers.services import customer_create
from tests.insights.conftest import scores_store

pytestmark = pytest.mark.django_db


def _value_block(client, customer) -> str:
    page = html.unescape(client.get(reverse("customers:card", args=[customer.pk])).content.decode())
    start = page.index('id="customer-value"')
    return page[start : page.index("</article>", start)]


@pytest.fixture
def wang(agent):
    return customer_create(actor=agent, kind="individual", name="王芳")


def test_card_shows_scores_and_what_changed(agent_client, wang):
    scores_store(
        wang, previous={"tier": "second_tier", "segment": "loyal", "clv": 1000, "churn_risk": False}
    )
    block = _value_block(agent_client, wang)
    assert "Most profitable" in block and "lose none of them" in block  # the seed's strategy
    assert "Cannot lose them" in block and "R2 F5 M5" in block
    assert "1,234.50" in block and "next 12 months" in block
    assert "At risk of leaving" in block and "23% likely still a customer" in block
    assert "Since 2026-10-01" in block
    assert "Second tier → Most profitable" in block and "Loyal → Cannot lose them" in block
    assert "now at risk of leaving" in block and "+¥234.50" in block.replace("CN¥", "¥")
    assert "Computed as of 2026-11-01" in block


def test_card_without_movement_or_costs(agent_client, wang):
    scores_store(
        wang,
        tier="",
        profit=None,
        churn_risk=False,
        previous={"tier": "", "segment": "cannot_lose", "clv": 1300, "churn_risk": False},
    )
    block = _value_block(agent_client, wang)
    assert "Unknown: no costs recorded" in block and "Low" in block
    assert "tier, segment and churn risk unchanged" in block and "−" in block


def test_card_before_any_refresh(agent_client, wang):
    assert "Not computed" in _value_block(agent_client, wang)


def test_a_one_time_buyer_is_not_shown_as_certainly_still_a_customer(agent_client, wang):
    # BG/NBD gives 100% to anyone who bought once (no repeat, so no sign of leaving):
    # true for the model, misleading to an agent.
    scores_store(wang, purchases=1, probability_alive=1.0, churn_risk=False)
    block = _value_block(agent_client, wang)
    assert "100%" not in block
    assert "One purchase so far: too early to say whether still a customer" in block
