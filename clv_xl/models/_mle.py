"""Maximum-likelihood driver shared by the BG/NBD, Gamma-Gamma and sBG fits.

All three models have strictly positive parameters; they are estimated on the
log scale (``theta = log(param)``) with L-BFGS-B and an analytic gradient.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from scipy.optimize import minimize

from clv_xl.errors import FitError

# |log(param)| beyond this means the parameter runs off to 0 or infinity
# (exp(25) ~ 7e10): the data do not identify the model.
LOG_PARAM_BOUND = 25.0
# A stop that L-BFGS-B flags as abnormal is still accepted when the largest
# gradient component of the *mean* log-likelihood is below this.
GRADIENT_TOLERANCE = 1e-5

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


def maximize(
    neg_mean_log_likelihood: Objective, start: np.ndarray, names: Sequence[str]
) -> tuple[np.ndarray, float]:
    """Minimise ``neg_mean_log_likelihood`` over log-parameters.

    Parameters
    ----------
    neg_mean_log_likelihood : callable
        ``f(log_params) -> (value, gradient)``: minus the mean log-likelihood
        per customer and its gradient with respect to the log-parameters.
    start : ndarray
        Starting log-parameters.
    names : sequence of str
        Parameter names, used in error messages.

    Returns
    -------
    params : ndarray
        The maximum-likelihood parameters (natural scale).
    mean_log_likelihood : float
        The maximised mean log-likelihood per customer.

    Raises
    ------
    FitError
        If the optimiser fails, a parameter diverges to 0 or infinity, or the
        likelihood is not finite.
    """
    bound = [(-LOG_PARAM_BOUND, LOG_PARAM_BOUND)] * len(names)
    with np.errstate(all="ignore"):
        result = minimize(
            neg_mean_log_likelihood,
            np.asarray(start, dtype=float),
            jac=True,
            method="L-BFGS-B",
            bounds=bound,
            options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
        )
    if not (np.isfinite(result.fun) and np.all(np.isfinite(result.x))):
        raise FitError(f"the log-likelihood is not finite at the fit ({result.message}); check the data")
    for name, value in zip(names, result.x):
        if abs(value) >= LOG_PARAM_BOUND - 1e-6:
            limit = "0" if value < 0 else "infinity"
            raise FitError(
                f"{name} runs off to {limit} (got {np.exp(value):.3g}); "
                "the data do not identify the model: use more customers or a longer history"
            )
    largest_gradient = float(np.max(np.abs(result.jac)))
    if not result.success and largest_gradient > GRADIENT_TOLERANCE:
        raise FitError(
            f"the fit did not converge ({result.message}, gradient {largest_gradient:.2g}); "
            "check the data for errors or use more customers"
        )
    return np.exp(result.x), -float(result.fun)


#: Relative step of the central differences of the gradient (about the cube root of
#: the float epsilon, the usual optimum for a first difference of an exact gradient).
HESSIAN_STEP = 1e-5


def covariance(neg_mean_log_likelihood: Objective, params: np.ndarray, n_customers: float) -> np.ndarray:
    """Inverse observed information matrix of the fit, on the natural parameter scale.

    The observed information is minus the Hessian of the *total* log-likelihood
    at the maximum-likelihood parameters; its inverse is the usual asymptotic
    covariance of the estimates. The Hessian is the central difference of the
    analytic gradient (column j from params_j (1 -/+ 1e-5)), made symmetric.

    Parameters
    ----------
    neg_mean_log_likelihood : callable
        The objective given to :func:`maximize` (mean over ``n_customers``,
        gradient in the log-parameters).
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
    params = np.asarray(params, dtype=float)

    def gradient(point):  # gradient of the total log-likelihood in the natural parameters
        with np.errstate(all="ignore"):
            return -n_customers * neg_mean_log_likelihood(np.log(point))[1] / point

    hessian = np.empty((params.size, params.size))
    for index, value in enumerate(params):
        step = HESSIAN_STEP * value
        up, down = params.copy(), params.copy()
        up[index] += step
        down[index] -= step
        hessian[:, index] = (gradient(up) - gradient(down)) / (2.0 * step)
    information = -(hessian + hessian.T) / 2.0
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
