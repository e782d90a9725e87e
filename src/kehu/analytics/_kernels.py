"""The per-customer loops of the model likelihoods, compiled by Numba.

A fit evaluates its likelihood and gradient some twenty to fifty times over up to a
million distinct customer rows; as NumPy expressions each evaluation makes dozens of
passes over arrays of that length, here it is one pass that keeps nothing but the sums.
Special functions (ln Γ, ψ, ₂F₁) stay in SciPy, computed per distinct value by the
caller and gathered here by index. `cache=True` keeps the machine code next to this
file, so only the first process after an install pays the compilation (seconds).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _add(total: float, lost: float, value: float) -> tuple[float, float]:
    """Neumaier's compensated sum: the optimiser compares log-likelihoods of a million
    customers to 15 digits, more than a plain running sum keeps."""
    new = total + value
    if abs(total) >= abs(value):
        lost += (total - new) + value
    else:
        lost += (value - new) + total
    return new, lost


@njit(cache=True, nogil=True)
def bgnbd_sums(
    r: float,
    a: float,
    x: np.ndarray,
    x_at: np.ndarray,
    tx_at: np.ndarray,
    t_at: np.ndarray,
    weight: np.ndarray,
    head: np.ndarray,
    log_bx: np.ndarray,
    inv_bx: np.ndarray,
    log_tx: np.ndarray,
    inv_tx: np.ndarray,
    log_t: np.ndarray,
    inv_t: np.ndarray,
) -> tuple[float, float, float, float, float]:
    """The BG/NBD sums over the customers (FHL 2005, eq. 6): Σ weight · ln L, `head` being
    the part of ln L that depends on the frequency alone; and the sums the gradient needs
    beyond per-frequency terms. With d = ln a − ln(b+x−1) − (r+x)(ln(α+t_x) − ln(α+T))
    and s = eᵈ/(1+eᵈ) (0 for one-time buyers), weighted sums of: (1−s) ln(α+T) +
    s ln(α+t_x); (r+x)((1−s)/(α+T) + s/(α+t_x)); s; s/(b+x−1)."""
    log_a = math.log(a)
    ll = lost = logs = rates = shares = shares_bx = 0.0
    for i in range(x.shape[0]):
        w, xi = weight[i], x[i]
        k, j, m = x_at[i], tx_at[i], t_at[i]
        lt, ltx = log_t[m], log_tx[j]
        value = head[k] - (r + xi) * lt
        share = 0.0
        if xi > 0.0:
            d = log_a - log_bx[k] - (r + xi) * (ltx - lt)
            # ln(1 + eᵈ) and eᵈ/(1 + eᵈ) from one exponential that cannot overflow.
            e = math.exp(-abs(d))
            value += max(d, 0.0) + math.log1p(e)
            share = 1.0 / (1.0 + e) if d >= 0.0 else e / (1.0 + e)
        ll, lost = _add(ll, lost, w * value)
        logs += w * (lt + share * (ltx - lt))
        rates += w * (r + xi) * (inv_t[m] + share * (inv_tx[j] - inv_t[m]))
        shares += w * share
        shares_bx += w * share * inv_bx[k]
    return ll + lost, logs, rates, shares, shares_bx


@njit(cache=True, nogil=True)
def gamma_gamma_sums(
    p: float,
    q: float,
    gamma: float,
    x: np.ndarray,
    x_at: np.ndarray,
    m: np.ndarray,
    log_m: np.ndarray,
    log_mx: np.ndarray,
    head: np.ndarray,
) -> tuple[float, float, float, float]:
    """The Gamma-Gamma sums over the customers: Σ ln L, `head` being the part that
    depends on the frequency alone; with ln t = ln(γ + m·x): Σ x·(ln m + ln x − ln t),
    Σ ln t, Σ (p·x + q)/t."""
    ll = lost = logs = log_totals = rates = 0.0
    log_gamma = math.log(gamma)
    for i in range(x.shape[0]):
        xi = x[i]
        total = gamma + m[i] * xi
        log_total = math.log(total)
        value = (
            head[x_at[i]]
            + q * log_gamma
            + p * xi * (log_mx[i] - log_total)
            - log_m[i]
            - q * log_total
        )
        ll, lost = _add(ll, lost, value)
        logs += xi * (log_mx[i] - log_total)
        log_totals += log_total
        rates += (p * xi + q) / total
    return ll + lost, logs, log_totals, rates


@njit(cache=True, nogil=True)
def pareto_nbd_sum(
    r: float,
    s: float,
    x: np.ndarray,
    x_at: np.ndarray,
    weight: np.ndarray,
    head: np.ndarray,
    t_at: np.ndarray,
    log_alpha_t: np.ndarray,
    log_beta_t: np.ndarray,
    recent: np.ndarray,
    recent_at: np.ndarray,
    aged: np.ndarray,
    aged_at: np.ndarray,
) -> float:
    """Σ weight · ln L of Pareto/NBD (Fader & Hardie 2005, eq. 18–20): `head` per distinct
    frequency, ln(α+T) and ln(β+T) per distinct age, and the two terms of ln A₀ per
    distinct (x, t_x) and (x, T) pair (`recent`, `aged`), combined in log space."""
    log_s = math.log(s)
    ll = lost = 0.0
    for i in range(x.shape[0]):
        xi, m = x[i], t_at[i]
        u, v = recent[recent_at[i]], aged[aged_at[i]]
        # u >= v in exact arithmetic; equal when t_x = T (the customer bought today).
        gap = min(v - u, 0.0)
        second = -math.inf
        if gap < 0.0:
            second = log_s - math.log(r + s + xi) + u + math.log(-math.expm1(gap))
        first = -(r + xi) * log_alpha_t[m] - s * log_beta_t[m]
        high, low = max(first, second), min(first, second)
        value = head[x_at[i]] + high + math.log1p(math.exp(low - high))
        ll, lost = _add(ll, lost, weight[i] * value)
    return ll + lost
