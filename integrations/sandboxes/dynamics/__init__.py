"""Dataverse Web API sandbox: `/sandbox/dynamics/api/data/v9.2/...` plus an Entra-style token endpoint."""

VENDOR = "dynamics"
