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


def _log_likelihood_and_gradient(p, q, gamma, x, z):
    """ln f(z-bar | p, q, gamma; x) per repeat buyer and its gradient in (p, q, gamma).

    f = G(px+q) / (G(px) G(q)) * gamma^q * z^(px-1) * x^(px) / (gamma + x z)^(px+q),
    the marginal density of the mean spend z-bar of x purchases (Fader &
    Hardie 2013 note).
    """
    px = p * x
    log_total = np.log(gamma + x * z)
    values = (
        gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gamma)
        + (px - 1.0) * np.log(z) + px * np.log(x) - (px + q) * log_total
    )
    psi = digamma(px + q)
    grad_p = x * (psi - digamma(px) + np.log(x * z) - log_total)
    grad_q = psi - digamma(q) + np.log(gamma) - log_total
    grad_gamma = q / gamma - (px + q) / (gamma + x * z)
    return values, (grad_p, grad_q, grad_gamma)


def log_likelihood(params: GammaGammaParams, frequency, monetary) -> np.ndarray:
    """Log-likelihood of each repeat buyer's mean spend (0 for frequency 0)."""
    x, z, buyers = _repeat_buyers(frequency, monetary)
    values = np.zeros(x.shape)
    values[buyers], _ = _log_likelihood_and_gradient(params.p, params.q, params.gamma, x[buyers], z[buyers])
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

    def objective(log_params):
        params = np.exp(log_params)
        values, gradients = _log_likelihood_and_gradient(*params, x, z)
        gradient = -np.array([g.mean() for g in gradients]) * params
        return -values.mean(), gradient

    # start: p = 1, q = 2 and gamma making the mean spend p*gamma/(q-1) the sample mean
    start = np.log([1.0, 2.0, z.mean()])
    result = fitting.maximize(objective, start, PARAM_NAMES, x.size,
                           "use more repeat buyers (a few hundred) or a longer history")
    p, q, gamma = result.params
    return GammaGammaParams(
        float(p), float(q), float(gamma),
        log_likelihood=float(result.mean_log_likelihood * x.size),
        n_customers=int(x.size),
        converged=True,
        covariance=result.covariance,
    )


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
