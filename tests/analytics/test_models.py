"""BG/NBD and Gamma-Gamma against the published CDNOW fit and against lifetimes."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kehu.analytics import (
    bgnbd_fit,
    customer_lifetime_value,
    customer_summary,
    expected_purchases,
    expected_spend,
    gamma_gamma_fit,
    model_inputs,
    predictions_compute,
    probability_alive,
)
from kehu.analytics.models import BGNBD, GammaGamma

from .conftest import cdnow_path, cdnow_transactions


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    """lifetimes' CDNOW summary (2,357 customers, weeks): frequency, recency, T, money."""
    frame = pd.read_csv(cdnow_path("cdnow_customers_summary_with_transactions.csv"))
    return frame.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})


@pytest.fixture(scope="module")
def fitted(cdnow):
    purchases = bgnbd_fit(frequency=cdnow.frequency, recency=cdnow.recency, T=cdnow["T"])
    spend = gamma_gamma_fit(frequency=cdnow.frequency, monetary_value=cdnow.monetary_value)
    return purchases, spend


@pytest.fixture(scope="module")
def theirs(cdnow):
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    bgf = BetaGeoFitter(penalizer_coef=0.0)
    bgf.fit(cdnow.frequency, cdnow.recency, cdnow["T"])
    repeat = cdnow[cdnow.frequency > 0]
    ggf = GammaGammaFitter(penalizer_coef=0.0)
    ggf.fit(repeat.frequency, repeat.monetary_value)
    return bgf, ggf


def test_the_published_cdnow_figures(fitted):
    purchases, spend = fitted
    # Fader, Hardie & Lee (2005): r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9582.4
    assert (purchases.r, purchases.alpha, purchases.a, purchases.b) == pytest.approx(
        (0.243, 4.414, 0.793, 2.426), abs=5e-4
    )
    assert purchases.log_likelihood == pytest.approx(-9582.4, abs=0.05)
    assert purchases.customers == 2357
    # Fader, Hardie & Lee, "RFM and CLV": p = 6.25, q = 3.74, γ = 15.44 (946 repeat buyers)
    assert (spend.p, spend.q, spend.gamma) == pytest.approx((6.25, 3.74, 15.44), abs=1e-2)
    assert spend.customers == 946


def _fits_from_a_sample(cdnow, monkeypatch):
    """Both fits with CDNOW made "many" rows (BG/NBD has 1,000-odd distinct rows,
    Gamma-Gamma 946), so both start from a sample's optimum; what each polish gave."""
    from kehu.analytics import models

    monkeypatch.setattr(models, "SAMPLE_FIRST", 600)
    monkeypatch.setattr(models, "SAMPLE", 150)
    polished = []
    polish = models._polish

    def recorded(*args):
        polished.append(polish(*args))
        return polished[-1]

    monkeypatch.setattr(models, "_polish", recorded)
    purchases = bgnbd_fit(frequency=cdnow.frequency, recency=cdnow.recency, T=cdnow["T"])
    spend = gamma_gamma_fit(frequency=cdnow.frequency, monetary_value=cdnow.monetary_value)
    return purchases, spend, polished


def test_a_large_fit_starting_from_a_sample_finds_the_same_optimum(cdnow, fitted, monkeypatch):
    purchases, spend, polished = _fits_from_a_sample(cdnow, monkeypatch)
    assert len(polished) == 2 and all(found is not None for found in polished), polished
    assert _same_fits((purchases, spend), fitted, digits=7)


def test_where_the_polish_gives_up_the_search_finishes_the_fit(cdnow, fitted, monkeypatch):
    """A sample's curvature that is no minimum's (not positive definite) stops the
    quasi-Newton polish; L-BFGS-B then finishes from the sample's optimum."""
    from kehu.analytics import models

    monkeypatch.setattr(models, "_hessian", lambda objective, at: -np.eye(len(at)))
    purchases, spend, polished = _fits_from_a_sample(cdnow, monkeypatch)
    assert polished == [None, None]
    assert _same_fits((purchases, spend), fitted, digits=6)


def _same_fits(ours, theirs, *, digits):
    """Both models' parameters the same to `digits` significant digits."""
    (purchases, spend), (before, after) = ours, theirs
    return significant(
        [purchases.r, purchases.alpha, purchases.a, purchases.b],
        [before.r, before.alpha, before.a, before.b],
        digits=digits,
    ) and significant([spend.p, spend.q, spend.gamma], [after.p, after.q, after.gamma], digits)


def significant(a, b, digits=4):
    """Same to `digits` significant digits: relative difference below half a unit."""
    return np.all(np.abs(np.asarray(a) - np.asarray(b)) <= 0.5 * 10 ** (1 - digits) * np.abs(b))


def test_the_parameters_agree_with_lifetimes(fitted, theirs):
    purchases, spend = fitted
    bgf, ggf = theirs
    ours = [purchases.r, purchases.alpha, purchases.a, purchases.b]
    assert significant(ours, bgf.params_[["r", "alpha", "a", "b"]].to_numpy()), ours
    ours = [spend.p, spend.q, spend.gamma]
    assert significant(ours, ggf.params_[["p", "q", "v"]].to_numpy()), ours


def test_the_predictions_agree_with_lifetimes(cdnow, fitted, theirs):
    purchases, spend = fitted
    bgf, ggf = theirs
    x, t_x, big_t, m = cdnow.frequency, cdnow.recency, cdnow["T"], cdnow.monetary_value
    alive = probability_alive(model=purchases, frequency=x, recency=t_x, T=big_t)
    assert significant(alive, bgf.conditional_probability_alive(x, t_x, big_t))
    future = expected_purchases(model=purchases, horizon=39, frequency=x, recency=t_x, T=big_t)
    assert significant(
        future, bgf.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, big_t)
    )
    per_purchase = expected_spend(model=spend, frequency=x, monetary_value=m)
    assert significant(per_purchase, ggf.conditional_expected_average_profit(x, m))
    # lifetimes' CLV in weeks: 12 "months" of 4.345 weeks at 1% a month.
    clv = customer_lifetime_value(
        purchases_model=purchases,
        spend_model=spend,
        frequency=x,
        recency=t_x,
        T=big_t,
        monetary_value=m,
        periods=12,
        period_length=4.345,
        discount_rate=0.01,
    )
    expected = ggf.customer_lifetime_value(
        bgf, x, t_x, big_t, m, time=12, discount_rate=0.01, freq="W"
    )
    assert significant(clv, expected.to_numpy())


def test_a_fit_from_cdnow_transactions_in_days_agrees_with_lifetimes():
    """The whole path: transactions → kehu's summary (days) → fit, against lifetimes on
    its own summary of the same transactions."""
    import ibis
    from lifetimes import BetaGeoFitter
    from lifetimes.utils import summary_data_from_transaction_data

    frame = cdnow_transactions()
    end = dt.date(1997, 9, 30)
    data = model_inputs(
        summary=customer_summary(transactions=ibis.memtable(frame), now=end, unit="days")
    )
    ours = bgnbd_fit(frequency=data["frequency"], recency=data["recency"], T=data["T"])
    summary = summary_data_from_transaction_data(
        frame, "customer_id", "at", observation_period_end=pd.Timestamp(end), freq="D"
    )
    bgf = BetaGeoFitter().fit(summary.frequency, summary.recency, summary["T"])
    assert significant([ours.r, ours.alpha, ours.a, ours.b], bgf.params_.to_numpy())
    # α is in days here: about 7 × the weekly 4.414.
    assert 25 < ours.alpha < 35


def test_extreme_frequencies_stay_finite():
    model = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0, customers=0)
    x = np.array([0, 1, 1e3, 1e6, 1e6, 1e9])
    t_x = np.array([0, 1, 38, 38, 1, 38])
    big_t = np.array([38, 38, 38, 38, 38, 38])
    alive = probability_alive(model=model, frequency=x, recency=t_x, T=big_t)
    future = expected_purchases(model=model, horizon=52, frequency=x, recency=t_x, T=big_t)
    assert np.isfinite(alive).all() and np.isfinite(future).all()
    assert alive[0] == 1  # never bought again: alive by the model's definition
    assert alive[3] > 0.99 and alive[4] < 1e-12  # a million buys, then silence: gone
    # Buying ~x / (α + T) a week, each purchase a ~1e-6 chance of leaving: fewer than
    # 52 weeks at that rate (1.23 million), more than half of it.
    assert 0.5 * 1e6 * 52 / 42.414 < future[3] < 1e6 * 52 / 42.414
    assert future[5] > future[3] > future[2] > future[1]
    # A fit survives a customer with a billion purchases next to ordinary ones.
    fit = bgnbd_fit(frequency=[0, 1, 2, 1e9], recency=[0, 5, 20, 30], T=[40, 40, 40, 40])
    assert all(np.isfinite([fit.r, fit.alpha, fit.a, fit.b, fit.log_likelihood]))
    spend = GammaGamma(p=6.25, q=3.74, gamma=15.44, log_likelihood=0, customers=0)
    assert np.isfinite(expected_spend(model=spend, frequency=[1e9], monetary_value=[1e6])).all()


def test_the_rewritten_expectation_is_fhl_equation_10():
    """Where FHL's own form does not overflow, it and kehu's (Euler-transformed) agree."""
    from scipy.special import hyp2f1

    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    model = BGNBD(r=r, alpha=alpha, a=a, b=b, log_likelihood=0, customers=0)
    x = np.array([0.0, 1, 2, 7, 30, 100])
    t_x = np.array([0.0, 3, 30, 20, 35, 38])
    big_t, t = 38.0, 52.0
    z = t / (alpha + big_t + t)
    head = (a + b + x - 1) / (a - 1)
    bracket = 1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyp2f1(
        r + x, b + x, a + b + x - 1, z
    )
    odds = (x > 0) * a / (b + np.maximum(x, 1) - 1) * ((alpha + big_t) / (alpha + t_x)) ** (r + x)
    direct = head * bracket / (1 + odds)
    ours = expected_purchases(model=model, horizon=t, frequency=x, recency=t_x, T=big_t)
    np.testing.assert_allclose(ours, direct, rtol=1e-9)


@pytest.mark.parametrize("horizon", [30.0, 900.0])
def test_fits_with_huge_a_and_b_still_predict(horizon):
    """A fit where every customer drops out at much the same rate runs a and b to the
    millions, where scipy's ₂F₁ overflows: the predictions stay finite and continue
    those of smaller a and b with the same dropout probability a / (a + b)."""
    x = np.array([0.0, 1, 5, 20, 200])
    t_x = np.array([0.0, 10, 40, 50, 59])
    big_t = np.full(5, 60.0)
    futures = [
        expected_purchases(
            model=BGNBD(r=0.5, alpha=10.0, a=a, b=3 * a, log_likelihood=0, customers=0),
            horizon=horizon,
            frequency=x,
            recency=t_x,
            T=big_t,
        )
        for a in (2e3, 2e5, 2e9)
    ]
    assert all(np.isfinite(future).all() for future in futures)
    np.testing.assert_allclose(futures[1], futures[2], rtol=1e-3)
    # a = 2,000 is still computed the ordinary way; only 200 purchases (x/a no longer
    # small) tell it from the limit.
    np.testing.assert_allclose(futures[0][:4], futures[2][:4], rtol=1e-2)


def test_compressing_repeated_customers_changes_nothing(cdnow, fitted):
    doubled = pd.concat([cdnow, cdnow])
    twice = bgnbd_fit(frequency=doubled.frequency, recency=doubled.recency, T=doubled["T"])
    once = fitted[0]
    assert significant(
        [twice.r, twice.alpha, twice.a, twice.b], [once.r, once.alpha, once.a, once.b], 5
    )
    assert twice.log_likelihood == pytest.approx(2 * once.log_likelihood, rel=1e-6)
    assert twice.customers == 2 * 2357


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="finite"):
        bgnbd_fit(frequency=[1, np.nan], recency=[1, 1], T=[2, 2])
    with pytest.raises(ValueError, match="recency"):
        bgnbd_fit(frequency=[1], recency=[5], T=[2])
    with pytest.raises(ValueError, match="no customers"):
        bgnbd_fit(frequency=[], recency=[], T=[])
    with pytest.raises(ValueError, match="repeat buyers"):
        gamma_gamma_fit(frequency=[0, 0, 3], monetary_value=[0, 0, 0])
    spend = GammaGamma(p=1, q=0.5, gamma=1, log_likelihood=0, customers=0)
    with pytest.raises(ValueError, match="q <= 1"):
        expected_spend(model=spend, frequency=[1], monetary_value=[1])


def test_the_likelihoods_and_gradients_are_the_formulas(cdnow):
    """The compiled sums against the papers' formulas written out in NumPy, and their
    gradients against central differences, away from any optimum."""
    from scipy.special import betaln, gammaln

    from kehu.analytics.models import _bgnbd_ll, _compress, _customers, _gg_ll, _spenders

    x, t_x, big_t = (cdnow[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    (xs, txs, ts), weight = _compress(x, t_x, big_t)
    c = _customers(xs, txs, ts, weight)

    def bgnbd(params):
        r, alpha, a, b = params
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = betaln(a, b + x) - betaln(a, b)
        a3 = -(r + x) * np.log(alpha + big_t)
        a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)), -np.inf)
        a4 = a4 - (r + x) * np.log(alpha + t_x)
        return float(np.sum(a1 + a2 + np.logaddexp(a3, a4)))

    params = np.array([0.3, 5.0, 0.9, 2.0])
    ll, gradient = _bgnbd_ll(*params, c)
    assert ll == pytest.approx(bgnbd(params), rel=1e-12)
    for i in range(4):
        step = np.zeros(4)
        step[i] = 1e-6
        numeric = (bgnbd(params * np.exp(step)) - bgnbd(params * np.exp(-step))) / 2e-6
        assert gradient[i] == pytest.approx(numeric, rel=1e-5, abs=1e-4)

    m = cdnow.monetary_value.to_numpy(dtype=float)
    keep = (x > 0) & (m > 0)
    s = _spenders(x[keep], m[keep])

    def gamma_gamma(params):
        p, q, v = params
        xk, mk = x[keep], m[keep]
        return float(
            np.sum(
                gammaln(p * xk + q)
                - gammaln(p * xk)
                - gammaln(q)
                + q * np.log(v)
                + (p * xk - 1) * np.log(mk)
                + p * xk * np.log(xk)
                - (p * xk + q) * np.log(v + mk * xk)
            )
        )

    params = np.array([4.0, 2.0, 10.0])
    ll, gradient = _gg_ll(*params, s)
    assert ll == pytest.approx(gamma_gamma(params), rel=1e-12)
    for i in range(3):
        step = np.zeros(3)
        step[i] = 1e-6
        numeric = (gamma_gamma(params * np.exp(step)) - gamma_gamma(params * np.exp(-step))) / 2e-6
        assert gradient[i] == pytest.approx(numeric, rel=1e-5, abs=1e-4)


@pytest.mark.parametrize(
    ("offset", "scale"),
    # Whole numbers from 0 are packed into one integer key; fractions, negative numbers
    # and keys too wide for 62 bits are sorted column by column.
    [(0.0, 1.0), (0.5, 1.0), (-3.0, 1.0), (0.0, 1e7)],
)
def test_distinct_rows_are_found_the_same_whatever_the_numbers(offset, scale):
    from kehu.analytics.models import _group

    rng = np.random.default_rng(6)
    columns = [
        rng.integers(0, 5, 500) * scale + offset,
        rng.integers(0, 3, 500) * scale,
        rng.integers(0, 4, 500) * scale,
    ]
    (a, b, c), inverse = _group(*columns)
    expected, expected_inverse = np.unique(np.column_stack(columns), axis=0, return_inverse=True)
    np.testing.assert_array_equal(np.column_stack([a, b, c]), expected)
    np.testing.assert_array_equal(inverse, expected_inverse.reshape(-1))


def test_predictions_computed_together_are_the_functions_one_by_one(cdnow, fitted):
    purchases, spend = fitted
    given = {"frequency": cdnow.frequency, "recency": cdnow.recency, "T": cdnow["T"]}
    both = predictions_compute(
        **given, monetary_value=cdnow.monetary_value, horizon=39, periods=6, period_length=4.3
    )
    assert both.purchases == purchases and both.spend == spend and both.clv_error == ""
    alive = probability_alive(model=purchases, **given)
    expected = expected_purchases(model=purchases, horizon=39, **given)
    clv = customer_lifetime_value(
        purchases_model=purchases,
        spend_model=spend,
        monetary_value=cdnow.monetary_value,
        periods=6,
        period_length=4.3,
        **given,
    )
    assert np.array_equal(both.alive, alive) and np.array_equal(both.expected, expected)
    assert np.array_equal(both.clv, clv)


def test_predictions_without_spend_say_why_and_leave_lifetime_value_unknown(cdnow, fitted):
    """No repeat buyer spent anything: purchases are predicted, value is not."""
    both = predictions_compute(
        frequency=cdnow.frequency,
        recency=cdnow.recency,
        T=cdnow["T"],
        monetary_value=np.zeros(len(cdnow)),
        horizon=39,
    )
    assert both.purchases == fitted[0] and both.spend is None
    assert "no repeat buyers with a positive spend" in both.clv_error
    assert np.isnan(both.clv).all() and np.isfinite(both.expected).all()


def test_predictions_refuse_what_bgnbd_cannot_fit():
    with pytest.raises(ValueError, match="no customers to fit"):
        predictions_compute(frequency=[], recency=[], T=[], monetary_value=[], horizon=30)
