"""What every fitted model's parameter object shares: the fit's record and positivity."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from clv_xl.errors import NumError


@dataclass(frozen=True, kw_only=True)
class ModelParams:
    """Base of the parameter dataclasses: the model's own fields come first (positional).

    ``log_likelihood``, ``n_customers`` and ``converged`` describe the fit that
    produced the parameters; NaN / 0 / False for parameters typed in by hand.
    Every model parameter must be a finite number > 0.
    """

    log_likelihood: float = float("nan")
    n_customers: float = 0
    converged: bool = False

    def __post_init__(self):
        for field in fields(self):
            if field.kw_only:
                continue
            value = getattr(self, field.name)
            if not (np.isfinite(value) and value > 0):
                raise NumError(f"{field.name} must be a finite number > 0 (got {value})")
