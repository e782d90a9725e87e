"""RFM: recency, frequency and monetary scores from 1 to 5, and named segments.

Scores are quintiles of the customers who bought at least once, computed from each
customer's percent rank so that ties always share a score (and every engine agrees):
score = 1 + floor(5 × percent_rank), 5 at the top. With many ties a quintile can hold
more or fewer than a fifth: when 60% of customers bought once, all of them score F = 1.
- R from `days_since_last` (fewer days, higher score);
- F from `purchases` (purchase days);
- M from `revenue` (everything spent, refunds deducted).

Segments come from rules over the scores, the first matching rule winning; customers
no rule matches get `other`. `segment_rules_check` refuses rule sets with a rule that
can never fill (an empty range, or every cell it covers taken by earlier rules).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

Range = tuple[int, int]
ALL: Range = (1, 5)


@dataclass(frozen=True)
class SegmentRule:
    """A named segment: the customers whose scores fall in all three ranges (inclusive)."""

    name: str
    r: Range = ALL
    f: Range = ALL
    m: Range = ALL

    def cells(self) -> set[tuple[int, int, int]]:
        return {
            (r, f, m)
            for r, f, m in itertools.product(range(1, 6), repeat=3)
            if self.r[0] <= r <= self.r[1]
            and self.f[0] <= f <= self.f[1]
            and self.m[0] <= m <= self.m[1]
        }


# The usual recency × frequency map (monetary left free): every one of the 25 R×F
# cells belongs to exactly one segment.
DEFAULT_RULES: tuple[SegmentRule, ...] = (
    SegmentRule("champions", r=(5, 5), f=(4, 5)),
    SegmentRule("loyal", r=(3, 4), f=(4, 5)),
    SegmentRule("potential_loyalists", r=(4, 5), f=(2, 3)),
    SegmentRule("new", r=(5, 5), f=(1, 1)),
    SegmentRule("promising", r=(4, 4), f=(1, 1)),
    SegmentRule("need_attention", r=(3, 3), f=(3, 3)),
    SegmentRule("about_to_sleep", r=(3, 3), f=(1, 2)),
    SegmentRule("cannot_lose", r=(1, 2), f=(5, 5)),
    SegmentRule("at_risk", r=(1, 2), f=(3, 4)),
    SegmentRule("hibernating", r=(1, 2), f=(1, 2)),
)


def segment_rules_check(
    *, rules: tuple[SegmentRule, ...] | list[SegmentRule]
) -> set[tuple[int, int, int]]:
    """Raises ValueError naming every rule that can never fill; returns the (r, f, m)
    cells no rule covers (their customers get `other`)."""
    taken: set[tuple[int, int, int]] = set()
    dead = []
    names = [rule.name for rule in rules]
    if len(set(names)) != len(names) or "other" in names:
        raise ValueError("segment names must be distinct and not 'other'")
    for rule in rules:
        mine = rule.cells() - taken
        if not mine:
            dead.append(rule.name)
        taken |= mine
    if dead:
        raise ValueError(f"these segments can never fill: {', '.join(dead)}")
    return set(itertools.product(range(1, 6), repeat=3)) - taken


def _score(column: ir.NumericValue, *, higher_is_better: bool = True) -> ir.IntegerValue:
    order = column if higher_is_better else column.desc()
    rank = ibis.percent_rank().over(order_by=order)
    return ibis.least(5, (rank * 5).floor().cast("int64") + 1)


def rfm_scores(
    *,
    summary: ir.Table,
    rules: tuple[SegmentRule, ...] | list[SegmentRule] = DEFAULT_RULES,
) -> ir.Table:
    """customer_id, r, f, m (1 to 5) and segment, for customers who bought."""
    segment_rules_check(rules=rules)
    s = summary.filter(summary.purchases > 0)
    scored = s.select(
        "customer_id",
        r=_score(s.days_since_last, higher_is_better=False),
        f=_score(s.purchases),
        m=_score(s.revenue),
    )

    def matches(rule: SegmentRule) -> ir.BooleanValue:
        return scored.r.between(*rule.r) & scored.f.between(*rule.f) & scored.m.between(*rule.m)

    segment = ibis.cases(*[(matches(rule), rule.name) for rule in rules], else_="other")
    return scored.mutate(segment=segment)
