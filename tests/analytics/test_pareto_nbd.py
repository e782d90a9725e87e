"""Pareto/NBD against the published CDNOW fit and lifetimes' ParetoNBDFitter."""

import math

import numpy as np
import pandas as pd
import pytest

from kehu.analytics import (
    ParetoNBD,
    pareto_nbd_expected_purchases,
    pareto_nbd_fit,
    pareto_nbd_probability_alive,
)

from .conftest import cdnow_path


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    frame = pd.read_csv(cdnow_path("cdnow_customers_summary_with_transactions.csv"))
    return frame.rename(columns={"x": "frequency", "t_x": "recency"})


@pytest.fixture(scope="module")
def fitted(cdnow) -> ParetoNBD:
    return pareto_nbd_fit(frequency=cdnow.frequency, recency=cdnow.recency, T=cdnow["T"])


@pytest.fixture(scope="module")
def theirs(cdnow):
    from lifetimes import ParetoNBDFitter

    np.random.seed(6)  # lifetimes starts its search from a random point
    return ParetoNBDFitter(penalizer_coef=0.0).fit(cdnow.frequency, cdnow.recency, cdnow["T"])


def significant(value: float, digits: int = 4) -> float:
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def test_the_published_cdnow_figures(fitted):
    # Fader, Hardie & Lee (2005): r = 0.55, α = 10.58, s = 0.61, β = 11.67 (weeks)
    assert (fitted.r, fitted.alpha, fitted.s, fitted.beta) == pytest.approx(
        (0.55, 10.58, 0.61, 11.67), abs=5e-3
    )
    assert fitted.customers == 2357


def test_agrees_with_lifetimes_to_four_significant_digits(fitted, theirs, cdnow):
    params = theirs.params_
    for ours, name in (
        (fitted.r, "r"),
        (fitted.alpha, "alpha"),
        (fitted.s, "s"),
        (fitted.beta, "beta"),
    ):
        assert significant(ours) == significant(params[name]), name
    # Their Nelder-Mead stops at tol 1e-4: the likelihood at our optimum is at least theirs.
    their_ll = -theirs._negative_log_likelihood(
        params[["r", "alpha", "s", "beta"]].to_numpy(),
        cdnow.frequency.to_numpy(),
        cdnow.recency.to_numpy(),
        cdnow["T"].to_numpy(),
        np.ones(len(cdnow)),
        0.0,
    )
    assert fitted.log_likelihood >= their_ll - 1e-6


def test_predictions_agree_with_lifetimes_at_the_same_parameters(theirs, cdnow):
    p = theirs.params_
    model = ParetoNBD(
        r=p["r"], alpha=p["alpha"], s=p["s"], beta=p["beta"], log_likelihood=0.0, customers=0
    )
    given = {"frequency": cdnow.frequency, "recency": cdnow.recency, "T": cdnow["T"]}
    alive = pareto_nbd_probability_alive(model=model, **given)
    np.testing.assert_allclose(
        alive,
        theirs.conditional_probability_alive(cdnow.frequency, cdnow.recency, cdnow["T"]),
        rtol=1e-6,
    )
    future = pareto_nbd_expected_purchases(model=model, horizon=39, **given)
    np.testing.assert_allclose(
        future,
        theirs.conditional_expected_number_of_purchases_up_to_time(
            39, cdnow.frequency, cdnow.recency, cdnow["T"]
        ),
        rtol=1e-6,
    )


def test_extreme_inputs_give_numbers_not_nan(fitted):
    # A million purchases over 10⁵ weeks, one who stopped long ago, one-time buyers.
    given = {
        "frequency": [0, 1e6, 1e6, 5, 0],
        "recency": [0, 1e5, 10, 0, 0],
        "T": [1e5, 1e5, 1e5, 1e5, 0],
    }
    alive = pareto_nbd_probability_alive(model=fitted, **given)
    future = pareto_nbd_expected_purchases(model=fitted, horizon=52, **given)
    assert np.isfinite(alive).all() and np.isfinite(future).all()
    assert ((alive >= 0) & (alive <= 1)).all()
    assert alive[1] == pytest.approx(1.0)  # bought to the last day, very often
    assert alive[2] < 1e-6  # very often, then silence for 10⁵ weeks
    assert 400 < future[1] < 600  # ten a week for 52 weeks, if she stays
    assert alive[4] == pytest.approx(1.0)  # bought just now


def test_a_fit_on_extreme_customers_is_finite(cdnow):
    frequency = np.append(cdnow.frequency.to_numpy(), [1e6, 5e5])
    recency = np.append(cdnow.recency.to_numpy(), [77.0, 2.0])
    big_t = np.append(cdnow["T"].to_numpy(), [78.0, 78.0])
    model = pareto_nbd_fit(frequency=frequency, recency=recency, T=big_t)
    assert all(np.isfinite([model.r, model.alpha, model.s, model.beta, model.log_likelihood]))


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="recency <= T"):
        pareto_nbd_fit(frequency=[1, 2], recency=[5, 3], T=[4, 10])
    with pytest.raises(ValueError, match="finite"):
        pareto_nbd_fit(frequency=[1, np.nan], recency=[1, 1], T=[4, 10])
    with pytest.raises(ValueError, match="no customers"):
        pareto_nbd_fit(frequency=[], recency=[], T=[])
