"""Maximum-likelihood driver shared by the BG/NBD, Gamma-Gamma and sBG fits.

All three models have strictly positive parameters; they are estimated on the
log scale (``theta = log(param)``) with L-BFGS-B and an analytic gradient. On
large data (:func:`pilot_step`) L-BFGS-B runs on a systematic sample and Newton
steps on all rows finish the fit (:func:`_optimum`).
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import OptimizeResult, minimize

from clv_xl.errors import FitError

# |log(param)| beyond this means the parameter runs off to 0 or infinity
# (exp(25) ~ 7e10): the data do not identify the model.
LOG_PARAM_BOUND = 25.0
# A stop that L-BFGS-B flags as abnormal is still accepted when the largest
# gradient component of the *mean* log-likelihood is below this.
GRADIENT_TOLERANCE = 1e-5

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]

#: A move of this much in the log-parameters (a factor e^5, about 150) must lower the likelihood
#: for the parameters to count as identified (:func:`_check_identified`).
IDENTIFICATION_STEP = 5.0
#: Below this fall of the mean log-likelihood per customer over that move the likelihood is flat ...
FLAT_MEAN_DROP = 1e-3
#: ... unless the fall of the total log-likelihood still reaches half the 95% chi-square(1) point,
#: so that a likelihood-ratio test rules the far parameters out (large data sets).
LIKELIHOOD_RATIO_95 = 1.92
#: Relative step of the central differences of the gradient (about the cube root of
#: the float epsilon, the usual optimum for a first difference of an exact gradient).
HESSIAN_STEP = 1e-5


class Fit(NamedTuple):
    """What :func:`maximize` returns."""

    params: np.ndarray  # the maximum-likelihood parameters (natural scale)
    mean_log_likelihood: float  # the maximised mean log-likelihood per customer
    covariance: np.ndarray  # see :func:`covariance`


def maximize(
    neg_mean_log_likelihood: Objective,
    start: np.ndarray,
    names: Sequence[str],
    n_customers: float,
    remedy: str,
    pilot: Objective | None = None,
    hessian: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> Fit:
    """Minimise ``neg_mean_log_likelihood`` over log-parameters and check the data identify the optimum.

    Parameters
    ----------
    neg_mean_log_likelihood : callable
        ``f(log_params) -> (value, gradient)``: minus the mean log-likelihood
        per customer and its gradient with respect to the log-parameters.
    start : ndarray
        Starting log-parameters.
    names : sequence of str
        Parameter names, used in error messages.
    n_customers : float
        Number of customers the mean is over.
    remedy : str
        What the user can do when the data do not identify the model, e.g.
        "use more customers or a longer history"; ends each such message.
    pilot : callable, optional
        The same objective on a systematic sample of the data (see
        :func:`pilot_step`). Given, the optimiser runs on the sample and
        Newton steps on the whole data finish the job (:func:`_optimum`).
    hessian : callable, optional
        ``f(log_params, gradient) -> matrix``: the Hessian of
        ``neg_mean_log_likelihood``, analytic, given its gradient there (the
        diagonal term of the chain rule to the log scale; the optimiser has it
        already). Without it, central differences of the gradient (8 more
        evaluations for 4 parameters).

    Returns
    -------
    Fit
        The parameters, the mean log-likelihood and their covariance.

    Raises
    ------
    FitError
        If the optimiser fails, the likelihood is not finite, a parameter
        runs off to 0 or infinity (a bound), the fit stays at its starting
        point, or the likelihood is flat or has no peak there
        (:func:`_check_identified`).
    """
    start = np.asarray(start, dtype=float)
    result = _optimum(neg_mean_log_likelihood, start, pilot)
    if not (np.isfinite(result.fun) and np.all(np.isfinite(result.x))):
        raise FitError(f"the log-likelihood is not finite at the fit; check the data for errors or {remedy}")
    for name, value in zip(names, result.x):
        if abs(value) >= LOG_PARAM_BOUND - 1e-6:
            limit = "0" if value < 0 else "infinity"
            raise FitError(f"{name} runs off to {limit} (got {np.exp(value):.3g}): the optimum is at "
                           f"the bound, so the data do not identify the model; {remedy}")
    largest_gradient = float(np.max(np.abs(result.jac)))
    if not result.success and largest_gradient > GRADIENT_TOLERANCE:
        raise FitError(
            f"the fit did not converge (gradient {largest_gradient:.2g} after {result.nit} steps); "
            f"check the data for errors or {remedy}"
        )
    if np.array_equal(result.x, start):
        raise FitError(f"the fit stayed at its starting point ({_shown(names, np.exp(start))}): the likelihood "
                       f"is flat there, so the data do not identify {_joined(names)}; {remedy}")
    with np.errstate(all="ignore"):
        curvature = _log_hessian(neg_mean_log_likelihood, result.x) if hessian is None else hessian(result.x, result.jac)
    _check_identified(neg_mean_log_likelihood, result.x, result.fun, curvature, names, n_customers, remedy)
    params = np.exp(result.x)
    return Fit(params, -float(result.fun), covariance(curvature, result.jac, params, n_customers))


#: Rows of the systematic sample a pilot fit runs on (:func:`pilot_step`).
PILOT_ROWS = 50_000
#: Newton steps on the whole data after a pilot fit before falling back to L-BFGS-B.
MAX_NEWTON_STEPS = 8
#: Options of L-BFGS-B; a Newton polish stops at the same gradient tolerance.
LBFGS_OPTIONS = {"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9}


def dot(u: np.ndarray, v: np.ndarray) -> float:
    """The sum of u * v over the rows of a likelihood, without BLAS: its threads only add waiting for one pair."""
    return float(np.einsum("i,i->", u, v))


def pilot_step(n_rows: int) -> int | None:
    """Every how many rows a pilot fit takes (about :data:`PILOT_ROWS` rows), or ``None`` for small data."""
    return n_rows // PILOT_ROWS if n_rows >= 4 * PILOT_ROWS else None


def _lbfgs(objective: Objective, start: np.ndarray) -> OptimizeResult:
    """L-BFGS-B from ``start`` within the log-parameter bounds."""
    bounds = [(-LOG_PARAM_BOUND, LOG_PARAM_BOUND)] * start.size
    with np.errstate(all="ignore"):
        return minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds, options=LBFGS_OPTIONS)


def _optimum(objective: Objective, start: np.ndarray, pilot: Objective | None) -> OptimizeResult:
    """The minimum of ``objective``: by L-BFGS-B, or from a pilot fit polished by Newton steps.

    L-BFGS-B needs about 15-30 evaluations of the objective. With a pilot,
    it runs on the sample instead, and Newton steps with the sample's Hessian
    at its optimum move to the optimum of the whole data: the two optima
    differ by about 1/sqrt(sample size), so each step gains about two digits
    and 4-5 evaluations of the whole data reach the same gradient tolerance.
    If they do not (a pilot at a bound, a Hessian that is not positive
    definite), L-BFGS-B runs on the whole data from the start as without a pilot.
    """
    if pilot is not None:
        pilot_result = _lbfgs(pilot, start)
        if pilot_result.success and np.all(np.abs(pilot_result.x) < LOG_PARAM_BOUND - 1e-6):
            polished = _newton_polish(objective, pilot_result.x, _log_hessian(pilot, pilot_result.x))
            if polished is not None:
                return polished
    return _lbfgs(objective, start)


def _newton_polish(objective: Objective, log_params: np.ndarray, hessian: np.ndarray) -> OptimizeResult | None:
    """Newton steps with a fixed ``hessian`` until the gradient is within tolerance; ``None`` if they fail."""
    try:
        factor = cho_factor(hessian)
    except (np.linalg.LinAlgError, ValueError):  # not positive definite, or not finite
        return None
    value = np.inf
    for step in range(1, MAX_NEWTON_STEPS + 1):
        with np.errstate(all="ignore"):
            new_value, gradient = objective(log_params)
        if not (np.isfinite(new_value) and np.all(np.isfinite(gradient))) or new_value > value + 1e-12 * abs(value):
            return None
        value = new_value
        if np.max(np.abs(gradient)) <= LBFGS_OPTIONS["gtol"]:
            return OptimizeResult(x=log_params, fun=value, jac=gradient, success=True, nit=step)
        log_params = log_params - cho_solve(factor, gradient)
        if np.any(np.abs(log_params) >= LOG_PARAM_BOUND):
            return None
    return None


def _log_hessian(neg_mean_log_likelihood: Objective, log_params: np.ndarray) -> np.ndarray:
    """Hessian of the objective in the log-parameters: central differences of its gradient, made symmetric."""
    size = log_params.size
    hessian = np.empty((size, size))
    for index in range(size):
        up, down = log_params.copy(), log_params.copy()
        up[index] += HESSIAN_STEP
        down[index] -= HESSIAN_STEP
        with np.errstate(all="ignore"):
            hessian[:, index] = (neg_mean_log_likelihood(up)[1] - neg_mean_log_likelihood(down)[1]) / (
                2.0 * HESSIAN_STEP)
    return (hessian + hessian.T) / 2.0


def _check_identified(neg_mean_log_likelihood, log_params, at_fit, hessian, names, n_customers, remedy) -> None:
    """Raise ``FitError`` when the likelihood is flat along some direction or has no peak at the fit.

    Along the direction in which the likelihood curves least (the eigenvector
    of the smallest eigenvalue of ``hessian``) the parameters are moved by a
    factor e^5 (about 150) both ways. If the likelihood falls by less than
    :data:`FLAT_MEAN_DROP` per customer one way (and by less than
    :data:`LIKELIHOOD_RATIO_95` in total), parameters 150 times larger or
    smaller fit the data as well: the data do not pin them down (too few
    customers, no heterogeneity, an optimum at infinity along a ridge). A
    negative curvature along a direction where the likelihood does fall is
    reported as a fit without a peak. Identified fits (CDNOW, FH 2007's
    cohorts, simulated data sets of 100 customers and more) fall by 0.01 or
    more per customer; unidentified ones by 1e-4 or less.
    """
    if not np.all(np.isfinite(hessian)):
        raise FitError(f"the likelihood's curvature is not finite at the fit ({_shown(names, np.exp(log_params))}); "
                       f"the data do not identify {_joined(names)}; {remedy}")
    eigenvalues, eigenvectors = np.linalg.eigh(hessian)
    weakest = eigenvectors[:, 0]
    with np.errstate(all="ignore"):
        falls = [neg_mean_log_likelihood(np.clip(log_params + sign * IDENTIFICATION_STEP * weakest,
                                                 -LOG_PARAM_BOUND, LOG_PARAM_BOUND))[0] - at_fit
                 for sign in (1.0, -1.0)]
    fall = min(falls) if all(np.isfinite(falls)) else -np.inf
    involved = [name for name, weight in zip(names, weakest) if abs(weight) >= 0.3]
    estimates = _shown(names, np.exp(log_params))
    if fall < FLAT_MEAN_DROP and fall * n_customers < LIKELIHOOD_RATIO_95:
        change = "they change together" if len(involved) > 1 else "it changes"
        raise FitError(
            f"the data do not identify {_joined(involved)}: the likelihood is flat when {change} "
            f"by a factor of 150 (got {estimates}); {remedy}"
        )
    if eigenvalues[0] <= 0:
        raise FitError(f"the fit stopped where the likelihood has no peak ({estimates}); "
                       f"the data do not identify {_joined(involved)}; {remedy}")


def _joined(names: Sequence[str]) -> str:
    """``r``, ``r and alpha``, ``r, alpha and a``."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _shown(names: Sequence[str], values: np.ndarray) -> str:
    return ", ".join(f"{name} = {value:.3g}" for name, value in zip(names, values))


def covariance(log_hessian: np.ndarray, log_gradient: np.ndarray, params: np.ndarray,
               n_customers: float) -> np.ndarray:
    """Inverse observed information matrix of the fit, on the natural parameter scale.

    The observed information is minus the Hessian of the *total* log-likelihood
    at the maximum-likelihood parameters; its inverse is the usual asymptotic
    covariance of the estimates. It is converted from the Hessian of the mean
    objective in the log-parameters (:func:`_log_hessian`):
    H_natural = (H_log - diag(g_log)) / (p p'), g_log the objective's gradient.

    Parameters
    ----------
    log_hessian : ndarray
        Hessian of minus the mean log-likelihood in the log-parameters.
    log_gradient : ndarray
        Gradient of minus the mean log-likelihood in the log-parameters at the fit.
    params : ndarray
        The maximum-likelihood parameters (natural scale).
    n_customers : float
        Number of customers the mean is over.

    Returns
    -------
    ndarray
        k x k covariance matrix; all NaN when the information matrix is not
        positive definite (a singular or flat likelihood), so the fit itself
        still stands and the standard errors say why they are missing.
    """
    information = n_customers * (log_hessian - np.diag(log_gradient)) / np.outer(params, params)
    singular = np.full(information.shape, np.nan)
    if not np.all(np.isfinite(information)):
        return singular
    try:
        factor = np.linalg.cholesky(information)
    except np.linalg.LinAlgError:
        return singular
    # a diagonal of the Cholesky factor ~1e-8 of the largest means a numerically singular matrix
    diagonal = np.diag(factor)
    if diagonal.min() <= 1e-8 * diagonal.max():
        return singular
    inverse_factor = np.linalg.inv(factor)
    return inverse_factor.T @ inverse_factor
