"""BG/NBD and Gamma-Gamma: fitted by maximum likelihood, and what they predict.

- BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while
  alive a customer buys at rate λ ~ Gamma(r, α); after each purchase she leaves with
  probability p ~ Beta(a, b).
- Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"): spend per purchase varies
  around the customer's mean ν, itself ~ Gamma(q, γ); p is the shape per purchase.

Inputs are the summary's columns as arrays: `frequency` (repeat purchases), `recency`
and `T` in one time unit, `monetary_value`. α and every prediction's horizon are in
that unit: fitting on weeks gives α in weeks.

Numerics: parameters are fitted as logarithms (always positive) with gammaln and
logaddexp, so the log-likelihood is finite for any frequency (a customer with 10⁶
purchases included); BG/NBD data are compressed to their distinct (x, t_x, T) rows with
a count. Special functions are computed per distinct value with SciPy; the rest of each
likelihood and its analytic gradient is one compiled pass over the customers
(`kehu.analytics._kernels`, Numba).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import digamma, expit, gammaln, hyp2f1
from threadpoolctl import threadpool_limits

from kehu.analytics._kernels import bgnbd_sums, gamma_gamma_sums

Array = NDArray[np.float64]


def _group(*columns: ArrayLike) -> tuple[list[Array], NDArray[np.intp]]:
    """The distinct rows of the columns (in lexicographic order) and, for each row, the
    position of its distinct row. Whole numbers that fit (days and purchase counts) are
    packed into one integer key: counted per key where there are no more possible keys
    than a few per row (frequency and age), sorted once otherwise; anything else takes a
    lexicographic sort, itself several times faster than np.unique(axis=0) on a million
    rows."""
    columns = [np.ascontiguousarray(column, dtype=np.float64) for column in columns]
    if not all(np.isfinite(column).all() for column in columns):
        raise ValueError("model inputs must be finite numbers (no NaN, no infinity)")
    packed = _packed(columns)
    if packed is not None:
        key, sizes = packed
        if math.prod(sizes) <= DENSE_KEYS_PER_ROW * len(key):
            seen = np.bincount(key, minlength=math.prod(sizes)) > 0
            distinct = np.flatnonzero(seen)
            inverse = (np.cumsum(seen) - 1)[key]
        else:
            distinct, inverse = np.unique(key, return_inverse=True)
        return _unpacked(distinct, sizes), inverse.reshape(-1)
    stacked = np.column_stack(columns)
    order = np.lexsort(stacked.T[::-1])
    ordered = stacked[order]
    new = np.concatenate([[True], (np.diff(ordered, axis=0) != 0).any(axis=1)])[: len(ordered)]
    inverse = np.empty(len(order), dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    unique = ordered[new]
    return [unique[:, i] for i in range(unique.shape[1])], inverse


# Up to this many possible keys per row, `_group` counts rows per key (two passes and a
# table of the keys) rather than sorting them: for (frequency, age) pairs of a million
# customers, 10 against 80 ms.
DENSE_KEYS_PER_ROW = 4


def _packed(columns: list[Array]) -> tuple[NDArray[np.int64], list[int]] | None:
    """One int64 per row ordered as the rows are, when every value is a whole number
    from 0 and the mixed-radix key fits in 62 bits, with the radix of each column; None
    otherwise."""
    if len(columns[0]) == 0:
        return None
    sizes = []
    for column in columns:
        if column.min() < 0 or (column != np.floor(column)).any():
            return None
        sizes.append(int(column.max()) + 1)
    if float(np.prod(np.array(sizes, dtype=np.float64))) >= 2.0**62:
        return None
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for column, size in zip(columns, sizes, strict=True):
        key = key * np.int64(size) + column.astype(np.int64)
    return key, sizes


def _unpacked(key: NDArray[np.int64], sizes: list[int]) -> list[Array]:
    """The columns `_packed` made `key` of, as floats."""
    columns = []
    for size in reversed(sizes):
        key, column = np.divmod(key, size)
        columns.append(column.astype(np.float64))
    return columns[::-1]


def _compress(*columns: ArrayLike) -> tuple[list[Array], Array]:
    """The distinct rows of the columns, and how often each occurs."""
    unique, inverse = _group(*columns)
    return unique, np.bincount(inverse, minlength=len(unique[0])).astype(np.float64)


# Parameters are searched within e^±25 (1e-11 to 7e10): the likelihood is flat towards
# the edges when the data barely tell a parameter (a and b of BG/NBD when every customer
# is equally likely to leave), and the edge is then the fit.
LOG_BOUND = 25.0


# Above this many rows a fit starts from the optimum of an evenly spread sample of about
# SAMPLE rows, and the sample's curvature there: a few quasi-Newton steps on all the rows
# then finish it, instead of some thirty to fifty evaluations of L-BFGS-B, which learns
# the curvature again from scratch and each of whose evaluations costs more than the
# whole search on the sample. The answer is the optimum on all the rows either way.
SAMPLE_FIRST = 300_000
SAMPLE = 100_000

Objective = Callable[[Array], tuple[float, Array]]


def _sampled(rows: int) -> slice:
    return slice(None, None, rows // SAMPLE)


def _search(
    whole: Objective, part: Callable[[slice], Objective], rows: int, parameters: int
) -> Array:
    """The log-parameters that minimise `whole`, the objective (mean negative
    log-likelihood and its gradient) over all the rows; `part(rows)` gives it over some
    of them."""
    if rows <= SAMPLE_FIRST:
        return _fit(whole, np.zeros(parameters))
    sample = part(_sampled(rows))
    start = _fit(sample, np.zeros(parameters))
    polished = _polish(whole, start, _hessian(sample, start))
    return polished if polished is not None else _fit(whole, start)


def _mean_negative(
    log_likelihood: Callable[[Array], tuple[float, Array]], customers: float
) -> Objective:
    """The objective a search minimises: minus the mean log-likelihood per customer, and
    its gradient, over log-parameters; `log_likelihood` takes the parameters and gives
    the sum and its gradient with respect to their logarithms. Infinite where the
    likelihood cannot be computed, so that a search steps back."""

    def objective(log_params: Array) -> tuple[float, Array]:
        ll, gradient = log_likelihood(np.exp(log_params))
        value = -ll / customers
        if not np.isfinite(value):
            return np.inf, np.zeros(len(log_params))
        return value, -gradient / customers

    return objective


def one_blas_thread() -> threadpool_limits:
    """For L-BFGS-B: its small LAPACK calls wake OpenBLAS' threads, which then spin,
    waiting for more, on a core that DuckDB's queries or another fit could use (both
    fits on a million buyers: 1.15–1.35 s of CPU for 0.84–0.93 s of wall time). The
    limit is the process's while it lasts."""
    return threadpool_limits(limits=1, user_api="blas")


def _fit(objective: Objective, start: Array) -> Array:
    """Minimises over log-parameters with L-BFGS-B and the analytic gradient; the
    log-parameters found."""
    with one_blas_thread():
        result = minimize(
            objective,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-LOG_BOUND, LOG_BOUND)] * len(start),
            options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
        )
    if not np.isfinite(result.fun):
        raise ValueError("the model could not be fitted to these data")
    return result.x


def _hessian(objective: Objective, at: Array) -> Array:
    """The objective's second derivatives at `at`: central differences of its analytic
    gradient, made symmetric."""
    step = 1e-4
    columns = []
    for i in range(len(at)):
        ahead, behind = at.copy(), at.copy()
        ahead[i] += step
        behind[i] -= step
        columns.append((objective(ahead)[1] - objective(behind)[1]) / (2 * step))
    hessian = np.array(columns)
    return (hessian + hessian.T) / 2


POLISH_STEPS = 30


def _polish(objective: Objective, start: Array, curvature: Array) -> Array | None:
    """BFGS from `start` with `curvature` (a sample's Hessian there) as its first
    estimate, halving steps that do not lower the objective enough; stops where the
    decrease the next step promises is below 1e-15 of the objective, as L-BFGS-B's
    `ftol`. None where it cannot go on: a curvature that is not positive definite, a
    step that fails to lower the objective, the bounds reached, or no convergence."""
    try:
        np.linalg.cholesky(curvature)
    except np.linalg.LinAlgError:
        return None
    at, hessian = start, curvature
    value, gradient = objective(at)
    for _ in range(POLISH_STEPS):
        if not np.isfinite(value):
            return None
        step = -np.linalg.solve(hessian, gradient)
        slope = float(gradient @ step)
        if -slope / 2 <= 1e-15 * max(abs(value), 1.0):
            return at
        length = 1.0
        while True:
            ahead = at + length * step
            if np.abs(ahead).max() > LOG_BOUND:
                return None
            new_value, new_gradient = objective(ahead)
            if new_value <= value + 1e-4 * length * slope:
                break
            length /= 2
            if length < 1e-4:
                return None
        moved, change = ahead - at, new_gradient - gradient
        at, value, gradient = ahead, new_value, new_gradient
        curving = float(moved @ change)
        if curving > 0:
            seen = hessian @ moved
            hessian = (
                hessian
                - np.outer(seen, seen) / float(moved @ seen)
                + np.outer(change, change) / curving
            )
    return None


# --- BG/NBD -----------------------------------------------------------------------


@dataclass(frozen=True)
class BGNBD:
    """Fitted BG/NBD parameters; α is in the time unit of the data fitted."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    customers: int


@dataclass(frozen=True)
class _Customers:
    """Compressed BG/NBD data: each column as distinct values and an index into them
    (a few hundred frequencies, a few thousand days), each row's count, and the count
    per distinct frequency."""

    x: Array
    xs: tuple[Array, NDArray[np.intp]]
    t_x: tuple[Array, NDArray[np.intp]]
    T: tuple[Array, NDArray[np.intp]]
    weight: Array
    per_frequency: Array


def _customers(x: Array, t_x: Array, big_t: Array, weight: Array) -> _Customers:
    xs = np.unique(x, return_inverse=True)
    return _Customers(
        x=x,
        xs=xs,
        t_x=np.unique(t_x, return_inverse=True),
        T=np.unique(big_t, return_inverse=True),
        weight=weight,
        per_frequency=np.bincount(xs[1], weights=weight, minlength=len(xs[0])),
    )


def _in_unit(c: _Customers, unit: float) -> _Customers:
    """The same customers with recency and age divided by `unit`."""
    return replace(c, t_x=(c.t_x[0] / unit, c.t_x[1]), T=(c.T[0] / unit, c.T[1]))


def _bgnbd_ll(r: float, alpha: float, a: float, b: float, c: _Customers) -> tuple[float, Array]:
    """Σ count · ln L over the customers (FHL 2005, eq. 6, in log space) and its gradient
    with respect to (log r, log α, log a, log b). Special functions are computed per
    distinct frequency, recency or age and weighted by how many customers have it; what
    needs each customer's own (x, t_x, T) is one compiled pass (`_kernels`)."""
    (xs, x_at), (txs, tx_at), (ts, t_at) = c.xs, c.t_x, c.T
    per, total = c.per_frequency, float(c.per_frequency.sum())
    # ln Γ(r+x)/Γ(r) + r ln α + ln B(a, b+x)/B(a, b), and its derivatives, per frequency.
    head = (
        gammaln(r + xs)
        - gammaln(r)
        + gammaln(b + xs)
        - gammaln(a + b + xs)
        - gammaln(b)
        + gammaln(a + b)
    )
    psi_r = digamma(r + xs) - digamma(r)
    psi_ab = digamma(a + b) - digamma(a + b + xs)
    psi_b = digamma(b + xs) - digamma(b)
    b_xs = np.where(xs > 0, b + xs - 1, 1.0)  # b + x − 1 only matters where x > 0
    ll, logs, rates, shares, shares_bx = bgnbd_sums(
        r,
        a,
        c.x,
        x_at,
        tx_at,
        t_at,
        c.weight,
        head + r * np.log(alpha),
        np.log(b_xs),
        1.0 / b_xs,
        np.log(alpha + txs),
        1.0 / (alpha + txs),
        np.log(alpha + ts),
        1.0 / (alpha + ts),
    )
    d_r = float(per @ psi_r) + total * np.log(alpha) - logs
    d_alpha = total * r / alpha - rates
    d_a = float(per @ psi_ab) + shares / a
    d_b = float(per @ (psi_b + psi_ab)) - shares_bx
    return ll, np.array([r * d_r, alpha * d_alpha, a * d_a, b * d_b])


def bgnbd_fit(*, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> BGNBD:
    """BG/NBD by maximum likelihood (no penalty, as in the published CDNOW fit)."""
    (x, t_x, big_t), weight = _compress(frequency, recency, T)
    if len(x) == 0:
        raise ValueError("no customers to fit")
    if (x < 0).any() or (t_x < 0).any() or (t_x > big_t).any():
        raise ValueError("need 0 <= recency <= T and frequency >= 0")
    scale = float(big_t.max()) or 1.0  # fit on T scaled to 1: α starts near 1
    customers = _customers(x, t_x, big_t, weight)

    def objective(c: _Customers) -> Objective:
        scaled = _in_unit(c, scale)
        return _mean_negative(lambda params: _bgnbd_ll(*params, scaled), c.weight.sum())

    def part(rows: slice) -> Objective:
        return objective(_customers(x[rows], t_x[rows], big_t[rows], weight[rows]))

    r, alpha, a, b = np.exp(_search(objective(customers), part, len(x), 4))
    alpha *= scale
    ll = _bgnbd_ll(r, alpha, a, b, customers)[0]
    return BGNBD(r=r, alpha=alpha, a=a, b=b, log_likelihood=ll, customers=int(weight.sum()))


def _log_odds_dead(model: BGNBD, x: Array, t_x: Array, T: Array) -> Array:
    """log of a/(b+x-1)·((α+T)/(α+t_x))^(r+x), the odds of having left, for x > 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = (
            np.log(model.a)
            - np.log(np.maximum(model.b + x - 1, 1e-300))
            + (model.r + x) * (np.log(model.alpha + T) - np.log(model.alpha + t_x))
        )
    return np.where(x > 0, odds, -np.inf)


def _arrays(*columns: ArrayLike) -> list[Array]:
    """The columns as float arrays of one length (a single number applies to all)."""
    arrays = np.broadcast_arrays(*[np.asarray(column, dtype=np.float64) for column in columns])
    for array in arrays:
        if not np.isfinite(array).all():
            raise ValueError("model inputs must be finite numbers (no NaN, no infinity)")
    return [np.ascontiguousarray(array) for array in arrays]


def probability_alive(
    *, model: BGNBD, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> Array:
    """P(still a customer | x, t_x, T); 1 for customers who never bought again."""
    x, t_x, big_t = _arrays(frequency, recency, T)
    return expit(-_log_odds_dead(model, x, t_x, big_t))


def expected_purchases(
    *, model: BGNBD, horizon: float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> Array:
    """E[purchases in the next `horizon` | x, t_x, T] (FHL 2005, eq. 10); `horizon` in
    the unit of the fit."""
    x, t_x, big_t = _arrays(frequency, recency, T)
    alive = expit(-_log_odds_dead(model, x, t_x, big_t))
    return _expected(model, horizon, x, _group(x, big_t), alive)


Pairs = tuple[list[Array], NDArray[np.intp]]  # distinct (x, T) pairs, and each row's


def _expected(model: BGNBD, horizon: float, x: Array, pairs: Pairs, alive: Array) -> Array:
    (xs, ts), pair = pairs
    return _per_alive_customer(model, x) * _brackets(model, horizon, xs, ts)[pair] * alive


def _per_alive_customer(model: BGNBD, x: Array) -> Array:
    """The factor (a+b+x−1)/(a−1) of FHL's eq. 10, before the bracket and P(alive)."""
    return (model.a + model.b + x - 1) / (model.a - 1)


def _brackets(model: BGNBD, horizon: float, xs: Array, ts: Array) -> Array:
    """The bracket of FHL's eq. 10 per distinct (x, T) pair: expected purchases in the
    next `horizon` are it times P(alive) and `_per_alive_customer`."""
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    if horizon <= 0:
        return np.zeros_like(xs)
    # FHL's 1 − (1−z)^(r+x)·₂F₁(r+x, b+x; a+b+x−1; z) overflows for large x (₂F₁ → ∞
    # while the power → 0). Euler's transformation ₂F₁(A,B;C;z) = (1−z)^(C−A−B)
    # ₂F₁(C−A, C−B; C; z) turns it into the product of two bounded factors. It depends
    # on (x, T) only, and ₂F₁ is slow: computed once per distinct pair.
    z = horizon / (alpha + ts + horizon)
    with np.errstate(invalid="ignore", over="ignore"):
        brackets = 1.0 - (1.0 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b + xs - 1, z)
    failed = ~np.isfinite(brackets)
    if failed.any():
        brackets[failed] = _brackets_large_ab(model, xs[failed], z[failed])
    return brackets


def _brackets_large_ab(model: BGNBD, xs: Array, z: Array) -> Array:
    """The bracket of `_brackets` where scipy's ₂F₁ gives up: fits that run a and
    b to very large values (every customer drops out at much the same rate), or horizons
    many times the customers' age. Pfaff's transformation (1−z)^B ₂F₁(A,B;C;z) =
    ₂F₁(C−A, B; C; z/(z−1)) leaves ₂F₁(r+x, a−1; a+b+x−1; w), bounded, which scipy
    computes for moderate z; where it cannot either, its limit for large a and b,
    (1 − q·w)^−(r+x) with q = (a−1)/(a+b+x−1), exact to O(1/a)."""
    r, a, b = model.r, model.a, model.b
    w = z / (z - 1.0)
    with np.errstate(invalid="ignore", over="ignore"):
        brackets = 1.0 - hyp2f1(r + xs, a - 1, a + b + xs - 1, w)
    failed = ~np.isfinite(brackets)
    q = (a - 1) / (a + b + xs[failed] - 1)
    brackets[failed] = -np.expm1(-(r + xs[failed]) * np.log1p(-q * w[failed]))
    return brackets


# --- Gamma-Gamma ------------------------------------------------------------------


@dataclass(frozen=True)
class GammaGamma:
    """Fitted Gamma-Gamma parameters (γ in money)."""

    p: float
    q: float
    gamma: float
    log_likelihood: float
    customers: int


@dataclass(frozen=True)
class _Spenders:
    """Gamma-Gamma data: frequencies as distinct values, an index into them and the
    count per distinct value; mean spends and ln m, ln m + ln x, which a fit never
    changes."""

    x: Array
    xs: tuple[Array, NDArray[np.intp]]
    per_frequency: Array
    m: Array
    log_m: Array
    log_mx: Array


def _spenders(x: Array, m: Array) -> _Spenders:
    xs = np.unique(x, return_inverse=True)
    log_m = np.log(m)
    log_mx = log_m + np.log(x)
    return _Spenders(
        x=x,
        xs=xs,
        per_frequency=np.bincount(xs[1], minlength=len(xs[0])).astype(np.float64),
        m=m,
        log_m=log_m,
        log_mx=log_mx,
    )


def _gg_ll(p: float, q: float, gamma: float, c: _Spenders) -> tuple[float, Array]:
    """Σ ln L over the customers and its gradient w.r.t. (log p, log q, log γ):
    ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + px(ln m + ln x) − ln m − (px+q) ln(γ+mx).
    Special functions per distinct frequency; the rest one compiled pass (`_kernels`)."""
    xs, per = c.xs[0], c.per_frequency
    n = float(per.sum())
    pxs = p * xs
    head = gammaln(pxs + q) - gammaln(pxs) - gammaln(q)
    psi_p = xs * (digamma(pxs + q) - digamma(pxs))
    psi_q = digamma(pxs + q) - digamma(q)
    ll, logs, log_totals, rates = gamma_gamma_sums(
        p, q, gamma, c.x, c.xs[1], c.m, c.log_m, c.log_mx, head
    )
    log_gamma = np.log(gamma)
    d_p = float(per @ psi_p) + logs
    d_q = float(per @ psi_q) + n * log_gamma - log_totals
    d_gamma = n * q / gamma - rates
    return ll, np.array([p * d_p, q * d_q, gamma * d_gamma])


def gamma_gamma_fit(*, frequency: ArrayLike, monetary_value: ArrayLike) -> GammaGamma:
    """Gamma-Gamma by maximum likelihood over the repeat buyers (frequency > 0) with a
    positive mean spend; the others carry no information on spend per purchase."""
    x_all, m_all = _arrays(frequency, monetary_value)
    keep = (x_all > 0) & (m_all > 0)
    # Mean spends are nearly all distinct: compressing to distinct rows would not pay.
    x, m = x_all[keep], m_all[keep]
    if len(x) == 0:
        raise ValueError("no repeat buyers with a positive spend to fit")
    scale = float(m.mean())  # fit on spend scaled to mean 1
    p, q, gamma = np.exp(_gg_search(x, m / scale))
    gamma *= scale
    ll = _gg_ll(p, q, gamma, _spenders(x, m))[0]
    return GammaGamma(p=p, q=q, gamma=gamma, log_likelihood=ll, customers=len(x))


def _gg_search(x: Array, m: Array) -> Array:
    """The log-parameters that maximise the likelihood."""

    def objective(rows: slice) -> Objective:
        spenders = _spenders(x[rows], m[rows])
        return _mean_negative(lambda params: _gg_ll(*params, spenders), len(spenders.x))

    return _search(objective(slice(None)), objective, len(x), 3)


def expected_spend(*, model: GammaGamma, frequency: ArrayLike, monetary_value: ArrayLike) -> Array:
    """E[spend per purchase | x, m̄]: the population mean pγ/(q−1) for one-time buyers,
    moving towards the customer's own mean the more purchases she made."""
    x, m = _arrays(frequency, monetary_value)
    p, q, gamma = model.p, model.q, model.gamma
    if q <= 1:
        raise ValueError("q <= 1: the mean spend per purchase does not exist for this fit")
    return (gamma + m * x) * p / (p * x + q - 1)


def customer_lifetime_value(
    *,
    purchases_model: BGNBD,
    spend_model: GammaGamma,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    periods: int = 12,
    period_length: float = 30.0,
    discount_rate: float = 0.01,
) -> Array:
    """Discounted value of the next `periods` periods of `period_length` (in the unit of
    the fit: 30 days is lifetimes' month), at `discount_rate` per period:
    Σ_i (E[X(i·L)] − E[X((i−1)·L)]) · E[spend] / (1 + d)^i, as lifetimes computes it."""
    _lifetime_check(periods, period_length, discount_rate)
    spend = expected_spend(model=spend_model, frequency=frequency, monetary_value=monetary_value)
    x, t_x, big_t = _arrays(frequency, recency, T)
    alive = expit(-_log_odds_dead(purchases_model, x, t_x, big_t))
    return _lifetime_value(
        purchases_model, x, _group(x, big_t), alive, spend, periods, period_length, discount_rate
    )


def _lifetime_check(periods: int, period_length: float, discount_rate: float) -> None:
    if periods < 0 or period_length <= 0 or discount_rate <= -1:
        raise ValueError("need periods >= 0, period_length > 0, discount_rate > -1")


def _lifetime_value(
    model: BGNBD,
    x: Array,
    pairs: Pairs,
    alive: Array,
    spend: Array,
    periods: int,
    period_length: float,
    discount_rate: float,
) -> Array:
    (xs, ts), pair = pairs
    # Each period's purchases are the difference of two brackets (per distinct (x, T)
    # pair) times the same per-customer factors: discounted and summed per pair first.
    discounted = np.zeros_like(xs)
    before = np.zeros_like(xs)
    for i in range(1, periods + 1):
        upto = _brackets(model, i * period_length, xs, ts)
        discounted += (upto - before) / (1 + discount_rate) ** i
        before = upto
    return _per_alive_customer(model, x) * discounted[pair] * alive * spend


# --- Both models at once ------------------------------------------------------------


@dataclass(frozen=True)
class Predictions:
    """Both fits and what they predict for every customer of the inputs, in their order.
    `spend` is None where Gamma-Gamma could not be fitted; `clv` is NaN for everyone
    where the lifetime value could not be computed, and `clv_error` says why."""

    purchases: BGNBD
    alive: Array
    expected: Array
    spend: GammaGamma | None
    clv: Array
    clv_error: str


def predictions_compute(
    *,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    horizon: float,
    periods: int = 12,
    period_length: float = 30.0,
    discount_rate: float = 0.01,
) -> Predictions:
    """BG/NBD and Gamma-Gamma fitted, then P(alive), expected purchases in `horizon` and
    the lifetime value over `periods` (as `customer_lifetime_value`). Raises ValueError
    where BG/NBD cannot be fitted. NumPy and compiled loops only, no database: callers
    run it in a thread beside their queries on the summary (it spends nearly all its
    time outside the GIL), so that both cores work."""
    purchases = bgnbd_fit(frequency=frequency, recency=recency, T=T)
    # As probability_alive, expected_purchases and customer_lifetime_value compute them,
    # with the inputs checked, P(alive) and the (x, T) pairs found once for all three.
    x, t_x, big_t = _arrays(frequency, recency, T)
    alive = expit(-_log_odds_dead(purchases, x, t_x, big_t))
    pairs = _group(x, big_t)
    expected = _expected(purchases, horizon, x, pairs, alive)
    spend = None
    try:
        spend = gamma_gamma_fit(frequency=frequency, monetary_value=monetary_value)
        _lifetime_check(periods, period_length, discount_rate)
        per_purchase = expected_spend(
            model=spend, frequency=frequency, monetary_value=monetary_value
        )
        clv = _lifetime_value(
            purchases, x, pairs, alive, per_purchase, periods, period_length, discount_rate
        )
    except ValueError as error:
        unknown = np.full(len(alive), np.nan)
        return Predictions(purchases, alive, expected, spend, unknown, str(error))
    return Predictions(purchases, alive, expected, spend, clv, "")
