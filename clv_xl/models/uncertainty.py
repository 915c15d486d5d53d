"""Intervals for values computed from fitted parameters: the delta method.

A value f(theta) computed from maximum-likelihood estimates theta-hat has,
asymptotically, variance g' V g, with g the gradient of f and V the estimates'
covariance (the inverse observed information, :func:`clv_xl.models.fitting.covariance`).
Here g is taken with respect to the log-parameters (the fit's own scale) by
central differences, V is converted to that scale (V_log = V / (p p')), and
the interval is built on the log of the value, f exp(-/+ z SE(f)/f), so it
stays positive, like the parameter intervals of
:meth:`clv_xl.models.params.ModelParams.intervals`.

The estimates of different models (e.g. BG/NBD and Gamma-Gamma) are taken as
independent: they are fitted separately, and the Gamma-Gamma model assumes
spend is independent of the purchase process (Fader, Hardie & Lee 2005,
"RFM and CLV", Journal of Marketing Research 42(4)).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

import numpy as np
from scipy.special import ndtri

from clv_xl.errors import NumError
from clv_xl.models.params import ModelParams

#: Central-difference step on the log-parameters.
LOG_STEP = 1e-5


def delta_method_interval(
    value: Callable[..., np.ndarray], models: Sequence[ModelParams], *, level: float = 0.95, total: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Value and its ``level`` interval from the parameters' sampling distribution.

    Parameters
    ----------
    value : callable
        ``value(*models) -> ndarray``, e.g. the CLV of each customer.
    models : sequence of ModelParams
        Fitted parameters, each with its ``covariance``; taken as independent.
    level : float
        Coverage of the interval, between 0 and 1 (default 0.95).
    total : bool
        Interval for the sum of the values instead of each value.

    Returns
    -------
    estimate, low, high : ndarray
        Same shape as ``value(*models)`` (a scalar array when ``total``).
    """
    if not 0 < level < 1:
        raise NumError(f"level must be between 0 and 1 (got {level:g})")

    def evaluate(*arguments):
        result = np.asarray(value(*arguments), dtype=float)
        return result.sum() if total else result

    estimate = evaluate(*models)
    variance = np.zeros(np.shape(estimate))
    for index, model in enumerate(models):
        covariance = model.checked_covariance()
        values = model.values()
        log_covariance = covariance / np.outer(values, values)
        gradient = []
        for name, parameter in zip(model.names(), values):
            shifted = []
            for sign in (1.0, -1.0):
                arguments = list(models)
                arguments[index] = replace(model, **{name: parameter * np.exp(sign * LOG_STEP)})
                shifted.append(evaluate(*arguments))
            gradient.append((shifted[0] - shifted[1]) / (2.0 * LOG_STEP))
        gradient = np.stack(gradient, axis=-1)
        variance = variance + np.einsum("...i,ij,...j->...", gradient, log_covariance, gradient)
    spread = ndtri(0.5 + level / 2.0) * np.sqrt(np.maximum(variance, 0.0))
    positive = estimate > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(positive, np.exp(spread / np.where(positive, estimate, 1.0)), 1.0)
    low = np.where(positive, estimate / factor, estimate - spread)
    high = np.where(positive, estimate * factor, estimate + spread)
    return estimate, low, high
