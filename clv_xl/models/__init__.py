"""Predictive CLV models (BG/NBD, Gamma-Gamma, shifted-beta-geometric) and the RFM summary."""
