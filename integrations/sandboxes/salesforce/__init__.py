"""Salesforce REST API sandbox, mounted at /sandbox/salesforce/ (the instance URL)."""

VENDOR = "salesforce"
API_VERSION = "v62.0"
DATA_PREFIX = f"/services/data/{API_VERSION}"
