"""Gamma-Gamma model of the spend per purchase.

References: P. S. Fader and B. G. S. Hardie (2013), "The Gamma-Gamma Model of
Monetary Value" (note, brucehardie.com/notes/025), and P. S. Fader,
B. G. S. Hardie and K. L. Lee (2005), "RFM and CLV: Using Iso-Value Curves for
Customer Base Analysis", Journal of Marketing Research 42(4), 415-430.

Model: each purchase amount is Gamma(p, rate nu); across customers nu ~
Gamma(q, rate gamma). Data are the repeat buyers' ``frequency`` x (repeat
purchase days, first purchase excluded) and ``monetary`` z-bar (mean spend per
repeat purchase day, first purchase excluded), as in :mod:`clv_xl.models.rfm`.
No time unit is involved; ``gamma`` is in money units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln

from clv_xl.errors import FitError, NumError
from clv_xl.models import fitting
from clv_xl.models.params import ModelParams
from clv_xl.models.checks import broadcast, float_array, require
from clv_xl.models.rows import distinct_values

PARAM_NAMES = ("p", "q", "gamma")
#: Fewest repeat buyers a fit accepts: one per parameter.
MIN_REPEAT_BUYERS = len(PARAM_NAMES)


@dataclass(frozen=True)
class GammaGammaParams(ModelParams):
    """Gamma-Gamma parameters, with the fit that produced them.

    ``log_likelihood`` (summed over repeat buyers), ``n_customers`` (repeat
    buyers used) and ``converged`` describe the fit; NaN / 0 / False for
    parameters typed in by hand.
    """

    p: float
    q: float
    gamma: float

    @property
    def mean_spend(self) -> float:
        """Population mean spend per purchase, p * gamma / (q - 1); needs q > 1."""
        if self.q <= 1:
            raise NumError(
                f"q must be > 1 for the mean spend to exist (got {self.q:g}); "
                "the spend data are too heavy-tailed for the Gamma-Gamma model"
            )
        return self.p * self.gamma / (self.q - 1.0)


def _repeat_buyers(frequency, monetary):
    x = float_array("frequency", frequency)
    z = float_array("monetary", monetary)
    x, z = broadcast(frequency=x, monetary=z)
    require("frequency", x, x >= 0, ">= 0")
    buyers = x > 0
    require("monetary", z[buyers], z[buyers] > 0, "> 0 for customers with frequency > 0")
    return x, z, buyers


def _log_likelihood(p, q, gamma, x, z):
    """ln f(z-bar | p, q, gamma; x) per repeat buyer.

    f = G(px+q) / (G(px) G(q)) * gamma^q * z^(px-1) * x^(px) / (gamma + x z)^(px+q),
    the marginal density of the mean spend z-bar of x purchases (Fader &
    Hardie 2013 note).
    """
    px = p * x
    return (
        gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gamma)
        + (px - 1.0) * np.log(z) + px * np.log(x) - (px + q) * np.log(gamma + x * z)
    )


class _Buyers:
    """The repeat buyers of a fit, with the sums over them that do not depend on the parameters."""

    def __init__(self, x, z):
        self.x, self.total_spend = x, x * z
        _, self.x_values, self.x_counts = distinct_values(x)
        log_z = np.log(z)
        self.sum_log_z, self.sum_x_log_z = log_z.sum(), fitting.dot(x, log_z)


def _total_log_likelihood(p, q, gamma, buyers: _Buyers) -> tuple[float, np.ndarray]:
    """The sum of :func:`_log_likelihood` over the repeat buyers, and its gradient in (p, q, gamma).

    The terms in x only are computed once per distinct x; per buyer only
    ln(gamma + x z) and 1/(gamma + x z) remain, two calls per buyer.
    """
    n, xv, counts = buyers.x.size, buyers.x_values, buyers.x_counts
    px = p * xv
    log_total = np.log(gamma + buyers.total_spend)
    inverse_total = 1.0 / (gamma + buyers.total_spend)
    sum_log_total, sum_x_log_total = log_total.sum(), fitting.dot(buyers.x, log_total)
    value = (fitting.dot(counts, gammaln(px + q) - gammaln(px) + px * np.log(xv))
             + n * (q * np.log(gamma) - gammaln(q)) + p * buyers.sum_x_log_z - buyers.sum_log_z
             - p * sum_x_log_total - q * sum_log_total)
    psi = digamma(px + q)
    gradient = np.array([
        fitting.dot(counts, xv * (psi - digamma(px) + np.log(xv))) + buyers.sum_x_log_z - sum_x_log_total,
        fitting.dot(counts, psi) - n * digamma(q) + n * np.log(gamma) - sum_log_total,
        n * q / gamma - p * fitting.dot(buyers.x, inverse_total) - q * inverse_total.sum(),
    ])
    return float(value), gradient


def log_likelihood(params: GammaGammaParams, frequency, monetary) -> np.ndarray:
    """Log-likelihood of each repeat buyer's mean spend (0 for frequency 0)."""
    x, z, buyers = _repeat_buyers(frequency, monetary)
    values = np.zeros(x.shape)
    values[buyers] = _log_likelihood(params.p, params.q, params.gamma, x[buyers], z[buyers])
    return values


def fit(frequency, monetary) -> GammaGammaParams:
    """Maximum-likelihood fit of the Gamma-Gamma model on the repeat buyers.

    Parameters
    ----------
    frequency : array-like
        Repeat purchase days per customer; rows with 0 are ignored.
    monetary : array-like
        Mean spend per repeat purchase day; must be > 0 where frequency > 0.

    Returns
    -------
    GammaGammaParams
        With ``covariance`` the inverse observed information (see
        :func:`clv_xl.models.fitting.covariance`).

    Raises
    ------
    FitError
        With fewer than 3 repeat buyers (one per parameter), the same monetary
        value for all of them, or data that do not identify the parameters
        (:func:`clv_xl.models.fitting.maximize`).
    """
    x, z, buyers = _repeat_buyers(frequency, monetary)
    x, z = x[buyers], z[buyers]
    if x.size < MIN_REPEAT_BUYERS:
        raise FitError(f"fit needs at least {MIN_REPEAT_BUYERS} customers with frequency > 0 to estimate "
                       f"p, q and gamma (got {x.size}); use a longer history or more customers")
    if np.all(z == z[0]):
        raise FitError(f"monetary is the same for every customer with frequency > 0 (got {z[0]:g} for all "
                       f"{x.size}): with no spread in spend the model cannot be estimated; use {z[0]:g} as "
                       "the expected spend")

    # start: p = 1, q = 2 and gamma making the mean spend p*gamma/(q-1) the sample mean
    start = np.log([1.0, 2.0, z.mean()])
    step = fitting.pilot_step(x.size)
    result = fitting.maximize(_objective(x, z), start, PARAM_NAMES, x.size,
                              "use more repeat buyers (a few hundred) or a longer history",
                              pilot=None if step is None else _objective(x[::step], z[::step]))
    p, q, gamma = result.params
    return GammaGammaParams(
        float(p), float(q), float(gamma),
        log_likelihood=float(result.mean_log_likelihood * x.size),
        n_customers=int(x.size),
        converged=True,
        covariance=result.covariance,
    )


def _objective(x, z):
    """Minus the mean log-likelihood of the repeat buyers (x, z) and its gradient, in the log-parameters."""
    buyers = _Buyers(np.ascontiguousarray(x), np.ascontiguousarray(z))

    def objective(log_params):
        params = np.exp(log_params)
        value, gradient = _total_log_likelihood(*params, buyers)
        return -value / x.size, -gradient * params / x.size

    return objective


def expected_spend(params: GammaGammaParams, frequency, monetary) -> np.ndarray:
    """Expected spend per future purchase of each customer.

    E[Z | p, q, gamma, z-bar, x] = p (gamma + x z-bar) / (p x + q - 1)
        = (q-1)/(px+q-1) * p gamma/(q-1) + px/(px+q-1) * z-bar,
    a weighted mean of the population mean and the customer's own mean
    (Fader & Hardie 2013 note; also FHL 2005 "RFM and CLV"). For
    frequency 0 it is the population mean p gamma / (q - 1).

    Raises
    ------
    NumError
        If q <= 1 (the mean spend is undefined).
    """
    population_mean = params.mean_spend
    x, z, buyers = _repeat_buyers(frequency, monetary)
    own_mean = np.where(buyers, z, 0.0)
    weight = params.p * x / (params.p * x + params.q - 1.0)
    return (1.0 - weight) * population_mean + weight * own_mean
