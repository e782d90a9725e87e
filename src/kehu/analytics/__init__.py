"""Customer value analytics: pure Python, no Django (domain §6).

Written once as Ibis expressions: DuckDB in the process by default, the same code on
PostgreSQL (or any Ibis backend) where the transactions already live. Model fitting is
NumPy/SciPy (and Numba for the likelihood loops) on the per-customer summary.

    con = connect()                                      # DuckDB in memory
    transactions = transactions_read(path="sales.parquet", con=con)
    # or where the data live: transactions_table(table=connect(url="postgres://…").table("sales"))
    summary = customer_summary(transactions=transactions, now=date(2026, 11, 1))
    top_share(summary=summary, top=0.2)                  # the 20/80 rule
    rfm_scores(summary=summary)                          # r, f, m, segment
    data = model_inputs(summary=summary)                 # NumPy arrays of the buyers
    fit = bgnbd_fit(frequency=data["frequency"], recency=data["recency"], T=data["T"])
"""

from kehu.analytics.cohorts import cohort_retention
from kehu.analytics.models import (
    BGNBD,
    GammaGamma,
    Predictions,
    bgnbd_fit,
    customer_lifetime_value,
    expected_purchases,
    expected_spend,
    gamma_gamma_fit,
    predictions_compute,
    probability_alive,
)
from kehu.analytics.pareto_nbd import (
    ParetoNBD,
    pareto_nbd_expected_purchases,
    pareto_nbd_fit,
    pareto_nbd_probability_alive,
)
from kehu.analytics.relationships import (
    KeepingProfit,
    LostCustomersLoss,
    Relationship,
    key_account_movement,
    lost_customers_loss,
    relationship_keeping_profit,
    relationship_types,
)
from kehu.analytics.rfm import DEFAULT_RULES, SegmentRule, rfm_scores, segment_rules_check
from kehu.analytics.summary import customer_summary, model_inputs
from kehu.analytics.transactions import (
    TransactionCounts,
    connect,
    transactions_check,
    transactions_clean,
    transactions_read,
    transactions_table,
)
from kehu.analytics.value import (
    TIER_TEXT,
    CurvePoint,
    Tier,
    WhaleReading,
    abc_classes,
    gini,
    lorenz_curve,
    pareto_curve,
    profit_tiers,
    top_share,
    whale_reading,
)

__all__ = [
    "BGNBD",
    "DEFAULT_RULES",
    "TIER_TEXT",
    "CurvePoint",
    "GammaGamma",
    "SegmentRule",
    "Tier",
    "TransactionCounts",
    "WhaleReading",
    "abc_classes",
    "bgnbd_fit",
    "connect",
    "customer_lifetime_value",
    "customer_summary",
    "expected_purchases",
    "expected_spend",
    "gamma_gamma_fit",
    "gini",
    "lorenz_curve",
    "model_inputs",
    "pareto_curve",
    "Predictions",
    "predictions_compute",
    "probability_alive",
    "profit_tiers",
    "rfm_scores",
    "segment_rules_check",
    "top_share",
    "transactions_check",
    "transactions_clean",
    "transactions_read",
    "transactions_table",
    "whale_reading",
    "ParetoNBD",
    "pareto_nbd_expected_purchases",
    "pareto_nbd_fit",
    "pareto_nbd_probability_alive",
    "KeepingProfit",
    "LostCustomersLoss",
    "Relationship",
    "key_account_movement",
    "lost_customers_loss",
    "relationship_keeping_profit",
    "relationship_types",
    "cohort_retention",
]
