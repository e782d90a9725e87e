"""Pareto/NBD: fitted by maximum likelihood, and what it predicts.

Pareto/NBD (Schmittlein, Morrison & Colombo 1987; the likelihood as Fader & Hardie
derive it, "Deriving an expression for P(X(t) = x) under the Pareto/NBD model", 2005,
eq. 18–20): while alive a customer buys at rate λ ~ Gamma(r, α); her lifetime is
exponential with rate μ ~ Gamma(s, β), at any moment rather than after a purchase (the
difference from BG/NBD). Inputs as for BG/NBD: `frequency`, `recency`, `T` in one time
unit; α, β and the horizon are in that unit.

Numerics, for extreme inputs (a customer with 10⁶ purchases, ages of 10⁵ days):
- the Gauss function in A₀, ₂F₁(r+s+x, b; r+s+x+1; z), grows without bound as z → 1 and
  x grows; Euler's transformation writes it as (1−z)^(1−b) · ₂F₁(1, r+s+x+1−b;
  r+s+x+1; z), whose second factor lies between 1 and 1/(1−z): its logarithm is finite;
- the difference of the two terms of A₀ is taken in log space (log(eᵘ − eᵛ) =
  u + log(−expm1(v − u))), as is the sum with the first term of the likelihood;
- ₂F₁ depends on (x, t_x) and on (x, T) only, and is computed once per distinct pair.
Inputs must be finite with 0 <= recency <= T; one-time buyers (frequency 0) are fitted
and predicted like everyone else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import expit, gammaln, hyp2f1

from kehu.analytics._kernels import pareto_nbd_sum
from kehu.analytics.models import LOG_BOUND, Array, _arrays, _compress, _group


@dataclass(frozen=True)
class ParetoNBD:
    """Fitted Pareto/NBD parameters; α and β are in the time unit of the data fitted."""

    r: float
    alpha: float
    s: float
    beta: float
    log_likelihood: float
    customers: int


def _log_hyp2f1_ab1(a: Array, b: Array, z: Array) -> Array:
    """ln ₂F₁(a, b; a+1; z) for 0 <= z < 1, through Euler's transformation (module doc)."""
    return (1.0 - b) * np.log1p(-z) + np.log(hyp2f1(1.0, a + 1.0 - b, a + 1.0, z))


@dataclass(frozen=True)
class _Pairs:
    """The customers' rows, their distinct frequencies and ages, and their distinct
    (x, t_x) and (x, T) pairs, found once."""

    x: Array
    T: Array
    frequencies: tuple[Array, NDArray[np.intp]]
    ages: tuple[Array, NDArray[np.intp]]
    recent: tuple[list[Array], NDArray[np.intp]]
    aged: tuple[list[Array], NDArray[np.intp]]


def _pairs(x: Array, t_x: Array, big_t: Array) -> _Pairs:
    return _Pairs(
        x=x,
        T=big_t,
        frequencies=np.unique(x, return_inverse=True),
        ages=np.unique(big_t, return_inverse=True),
        recent=_group(x, t_x),
        aged=_group(x, big_t),
    )


def _terms(
    r: float,
    alpha: float,
    s: float,
    beta: float,
    pairs: tuple[list[Array], NDArray[np.intp]],
    unit: float,
) -> Array:
    """ln [₂F₁(z) / (big + t)^(r+s+x)], a term of ln A₀, per distinct pair (x, t)."""
    big, small = (alpha, beta) if alpha >= beta else (beta, alpha)
    (xs, ts), _at = pairs
    ts = ts / unit
    b = np.full_like(xs, s + 1.0) if alpha >= beta else r + xs
    values = _log_hyp2f1_ab1(r + s + xs, b, (big - small) / (big + ts))
    return values - (r + s + xs) * np.log(big + ts)


def _log_a0(r: float, alpha: float, s: float, beta: float, c: _Pairs) -> Array:
    """ln A₀ (Fader & Hardie 2005, eq. 19–20)."""
    u = _terms(r, alpha, s, beta, c.recent, 1.0)[c.recent[1]]
    v = _terms(r, alpha, s, beta, c.aged, 1.0)[c.aged[1]]
    with np.errstate(divide="ignore"):
        # u >= v in exact arithmetic; equal when t_x = T (the customer bought today).
        return u + np.log(-np.expm1(np.minimum(v - u, 0.0)))


def _log_likelihood(params: Array, c: _Pairs, weight: Array, unit: float = 1.0) -> float:
    """Σ weight · ln L over the customers, times divided by `unit`: special functions
    per distinct value or pair, the rest one compiled pass (`_kernels`)."""
    r, alpha, s, beta = params
    (xs, x_at), (ts, t_at) = c.frequencies, c.ages
    ts = ts / unit
    head = gammaln(r + xs) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    return pareto_nbd_sum(
        r,
        s,
        c.x,
        x_at,
        weight,
        head,
        t_at,
        np.log(alpha + ts),
        np.log(beta + ts),
        _terms(r, alpha, s, beta, c.recent, unit),
        c.recent[1],
        _terms(r, alpha, s, beta, c.aged, unit),
        c.aged[1],
    )


def pareto_nbd_fit(*, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> ParetoNBD:
    """Pareto/NBD by maximum likelihood (no penalty), over log-parameters with L-BFGS-B
    (finite-difference gradient)."""
    (x, t_x, big_t), weight = _compress(frequency, recency, T)
    if len(x) == 0:
        raise ValueError("no customers to fit")
    if (x < 0).any() or (t_x < 0).any() or (t_x > big_t).any():
        raise ValueError("need 0 <= recency <= T and frequency >= 0")
    scale = float(big_t.max()) or 1.0  # fit on T scaled to 1: α and β start near 1
    total = weight.sum()
    customers = _pairs(x, t_x, big_t)

    def negative_ll(log_params: Array) -> float:
        value = -_log_likelihood(np.exp(log_params), customers, weight, scale) / total
        return value if np.isfinite(value) else np.inf

    result = minimize(
        negative_ll,
        np.zeros(4),
        method="L-BFGS-B",
        bounds=[(-LOG_BOUND, LOG_BOUND)] * 4,
        options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-9},
    )
    if not np.isfinite(result.fun):
        raise ValueError("the model could not be fitted to these data")
    r, alpha, s, beta = np.exp(result.x)
    alpha, beta = alpha * scale, beta * scale
    params = np.array([r, alpha, s, beta])
    ll = _log_likelihood(params, customers, weight)
    return ParetoNBD(r=r, alpha=alpha, s=s, beta=beta, log_likelihood=ll, customers=int(total))


def _checked(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> list[Array]:
    x, t_x, big_t = _arrays(frequency, recency, T)
    if (x < 0).any() or (t_x < 0).any() or (t_x > big_t).any():
        raise ValueError("need 0 <= recency <= T and frequency >= 0")
    return [x, t_x, big_t]


def pareto_nbd_probability_alive(
    *, model: ParetoNBD, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> Array:
    """P(still a customer | x, t_x, T) (Fader & Hardie 2005, eq. 36)."""
    x, t_x, big_t = _checked(frequency, recency, T)
    r, alpha, s, beta = model.r, model.alpha, model.s, model.beta
    log_odds = (
        np.log(s)
        - np.log(r + s + x)
        + (r + x) * np.log(alpha + big_t)
        + s * np.log(beta + big_t)
        + _log_a0(r, alpha, s, beta, _pairs(x, t_x, big_t))
    )
    return expit(-log_odds)


def pareto_nbd_expected_purchases(
    *, model: ParetoNBD, horizon: float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> Array:
    """E[purchases in the next `horizon` | x, t_x, T] (Fader & Hardie 2005, eq. 41):
    P(alive) · (r+x)(β+T)/((α+T)(s−1)) · (1 − ((β+T)/(β+T+t))^(s−1)), its limit at s = 1."""
    x, t_x, big_t = _checked(frequency, recency, T)
    if horizon <= 0:
        return np.zeros_like(x)
    r, alpha, s, beta = model.r, model.alpha, model.s, model.beta
    alive = pareto_nbd_probability_alive(model=model, frequency=x, recency=t_x, T=big_t)
    log_ratio = np.log1p(horizon / (beta + big_t))  # ln((β+T+t)/(β+T)) > 0
    if abs(s - 1) < 1e-12:
        survival = log_ratio
    else:
        survival = -np.expm1(-(s - 1) * log_ratio) / (s - 1)
    return alive * (r + x) * (beta + big_t) / (alpha + big_t) * survival
