"""Predictive CLV models (BG/NBD, Gamma-Gamma, shifted-beta-geometric) and the RFM summary.

Pure numpy / scipy / pandas; no Excel. Modules:

* :mod:`~clv_xl.models.rfm`: transaction log -> per-customer (frequency, recency, T,
  monetary) and acquisition-cohort tables; explicit time units.
* :mod:`~clv_xl.models.bgnbd`: BG/NBD fit, P(alive), expected purchases.
* :mod:`~clv_xl.models.gamma_gamma`: Gamma-Gamma spend model.
* :mod:`~clv_xl.models.clv`: discounted CLV from the two.
* :mod:`~clv_xl.models.sbg`: shifted-beta-geometric retention, DEL and DERL.
* :mod:`~clv_xl.models.simulate`: seeded simulated customers and transaction logs.

Errors are :mod:`clv_xl.errors` exceptions naming the argument, the value and the fix.
"""
