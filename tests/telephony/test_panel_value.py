"""The call panel shows the caller's value in one line."""

from tests.insights.conftest import scores_store
from tests.telephony.test_panel import probe, ring, text


def test_panel_shows_tier_segment_clv_churn_and_the_move(webhook, cti_token, zhang, agent_client):
    scores_store(
        zhang,
        previous={
            "tier": "most_profitable",
            "segment": "champions",
            "clv": 1500,
            "churn_risk": False,
        },
    )
    ring(webhook, cti_token, user=["agent"])
    page = text(probe(agent_client))
    value = page[page.index('class="panel-value"') : page.index('class="panel-loyalty"')]
    assert "Most profitable" in value and "Cannot lose them" in value
    assert "1,234.50" in value and "At risk of leaving" in value
    assert "Champions → Cannot lose them" in value


def test_panel_says_when_value_is_not_computed(webhook, cti_token, zhang, agent_client):
    ring(webhook, cti_token, user=["agent"])
    page = text(probe(agent_client))
    assert "Not computed" in page[page.index('class="panel-value"') :]
