"""RFM scores and segments."""

import pandas as pd
import pytest

from kehu.analytics import DEFAULT_RULES, SegmentRule, rfm_scores, segment_rules_check

# Ten buyers (and one who only got a refund: no scores). Ranks are checked by hand:
# score = 1 + floor(5 × percent_rank), percent_rank = (rank − 1) / (n − 1) = (rank − 1) / 9.
TEN = pd.DataFrame(
    {
        "customer_id": list(range(11)),
        "purchases": [1, 1, 1, 1, 1, 1, 2, 3, 4, 10, 0],
        "days_since_last": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, None],
        "revenue": [float(i) for i in range(10)] + [-5.0],
    }
)


def test_scores_and_segments(load):
    rows = rfm_scores(summary=load(TEN)).to_pyarrow().to_pylist()
    found = {row["customer_id"]: (row["r"], row["f"], row["m"], row["segment"]) for row in rows}
    assert found == {
        # R: 1 day ago is best (percent rank 1 → 5); 2 days: 1 + floor(5 × 8/9) = 5.
        # F: the six one-time buyers tie at percent rank 0 → 1; 2 purchases: 6/9 → 4.
        0: (5, 1, 1, "new"),
        1: (5, 1, 1, "new"),
        2: (4, 1, 2, "promising"),
        3: (4, 1, 2, "promising"),
        4: (3, 1, 3, "about_to_sleep"),
        5: (3, 1, 3, "about_to_sleep"),
        6: (2, 4, 4, "at_risk"),
        7: (2, 4, 4, "at_risk"),
        8: (1, 5, 5, "cannot_lose"),
        9: (1, 5, 5, "cannot_lose"),
    }


def test_custom_rules_and_customers_no_rule_matches(load):
    rules = [SegmentRule("big_spenders", m=(5, 5)), SegmentRule("recent", r=(4, 5))]
    assert len(segment_rules_check(rules=rules)) == 125 - 25 - 40  # 25 M=5, 2×5×4 more
    rows = rfm_scores(summary=load(TEN), rules=rules).to_pyarrow().to_pylist()
    found = {row["customer_id"]: row["segment"] for row in rows}
    assert found[9] == "big_spenders" and found[8] == "big_spenders"
    assert found[0] == "recent" and found[3] == "recent"
    assert found[5] == "other"


def test_the_default_rules_cover_every_cell_once():
    assert segment_rules_check(rules=DEFAULT_RULES) == set()
    cells = [rule.cells() for rule in DEFAULT_RULES]
    assert sum(len(c) for c in cells) == 125  # no overlaps: the first match never hides one


def test_rules_that_can_never_fill_are_refused():
    with pytest.raises(ValueError, match="never fill: shadowed"):
        segment_rules_check(rules=[SegmentRule("all"), SegmentRule("shadowed", r=(5, 5))])
    with pytest.raises(ValueError, match="never fill: empty"):
        segment_rules_check(rules=[SegmentRule("empty", r=(4, 2))])
    with pytest.raises(ValueError, match="never fill: beyond"):
        segment_rules_check(rules=[SegmentRule("beyond", f=(6, 9))])
    with pytest.raises(ValueError, match="distinct"):
        segment_rules_check(rules=[SegmentRule("a", r=(1, 1)), SegmentRule("a", r=(2, 2))])
    with pytest.raises(ValueError, match="never fill"):
        rfm_scores(summary=None, rules=[SegmentRule("all"), SegmentRule("late")])
