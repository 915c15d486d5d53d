"""The published CDNOW parameters, defined once for every test (numbers only: no clv_xl import).

BG/NBD: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", weeks.
Gamma-Gamma: Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value", on the
946 repeat buyers.
"""

BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}

#: As typed into a sheet: one number per row (what a ``params`` argument reads without labels).
BGNBD_CELLS = [[value] for value in BGNBD.values()]
GAMMA_GAMMA_CELLS = [[value] for value in GAMMA_GAMMA.values()]
#: As a fit block's first two columns: label, estimate.
BGNBD_BLOCK = [[name, value] for name, value in BGNBD.items()]
GAMMA_GAMMA_BLOCK = [[name, value] for name, value in GAMMA_GAMMA.items()]
