"""Reconciliation: scheduled comparisons of one canonical object across systems."""
