"""Deterministic seed data shared by every vendor sandbox (see `firm.generate_firm`)."""
