"""How closely numbers from a fit must agree between machines."""

import numbers

import pytest

#: Fitted parameters (and what is computed from them) agree across CPUs only to the optimizer's
#: tolerance: the last bits of an optimum depend on the BLAS kernel (OPENBLAS_CORETYPE).
FIT_TOLERANCE = dict(rel=1e-6, abs=1e-9)


def same_value(a, b):
    """Equal, numbers (int or float: a stored 1 reads back as an int) within the fit tolerance."""
    numeric = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in (a, b))
    return a == pytest.approx(b, **FIT_TOLERANCE) if numeric else a == b
