"""What every fitted model's parameter object shares: the fit's record and positivity."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
from scipy.special import ndtri

from clv_xl.errors import NumError


@dataclass(frozen=True, kw_only=True)
class ModelParams:
    """Base of the parameter dataclasses: the model's own fields come first (positional).

    ``log_likelihood``, ``n_customers`` and ``converged`` describe the fit that
    produced the parameters; NaN / 0 / False for parameters typed in by hand.
    ``covariance`` is the estimated covariance matrix of the parameters (natural
    scale, in field order): the inverse of the observed information matrix at
    the optimum (:func:`clv_xl.models.fitting.covariance`); ``None`` for typed-in
    parameters, all NaN when the information matrix is singular.
    Every model parameter must be a finite number > 0.
    """

    log_likelihood: float = float("nan")
    n_customers: float = 0
    converged: bool = False
    covariance: np.ndarray | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        for parameter in fields(self):
            if parameter.kw_only:
                continue
            value = getattr(self, parameter.name)
            if not (np.isfinite(value) and value > 0):
                raise NumError(f"{parameter.name} must be a finite number > 0 (got {value})")

    def names(self) -> tuple[str, ...]:
        """The model's parameter names, in order."""
        return tuple(item.name for item in fields(self) if not item.kw_only)

    def values(self) -> np.ndarray:
        """The model's parameter values, in the order of :meth:`names`."""
        return np.array([getattr(self, name) for name in self.names()], dtype=float)

    def checked_covariance(self) -> np.ndarray:
        """``covariance``, or ``NumError`` saying why there is none."""
        if self.covariance is None:
            raise NumError(
                "the parameters have no standard errors (got typed-in numbers): "
                "use the whole block the fit returns"
            )
        if not np.all(np.isfinite(self.covariance)):
            raise NumError(
                "the information matrix is singular at the fit (got no standard errors): "
                "the data do not pin the parameters down; use more customers or a longer history"
            )
        return self.covariance

    def standard_errors(self) -> np.ndarray:
        """Asymptotic standard errors, sqrt of the diagonal of the covariance (natural scale)."""
        return np.sqrt(np.diag(self.checked_covariance()))

    def correlations(self) -> np.ndarray:
        """Correlation matrix of the estimates (exactly 1 on the diagonal, within [-1, 1] off it)."""
        errors = self.standard_errors()
        correlations = np.clip(self.checked_covariance() / np.outer(errors, errors), -1.0, 1.0)
        np.fill_diagonal(correlations, 1.0)
        return correlations

    def intervals(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Wald intervals on the log scale: exp(ln p -/+ z SE / p), always > 0.

        The fit estimates ln p (the parameters are positive), and SE(ln p) =
        SE(p) / p by the delta method; ``z`` is the standard normal quantile
        of (1 + level) / 2 (1.96 for 95%).
        """
        z = ndtri(0.5 + level / 2.0)
        spread = z * self.standard_errors() / self.values()
        return self.values() * np.exp(-spread), self.values() * np.exp(spread)
