"""Kantata OX (Mavenlink API v1) sandbox, mounted at /sandbox/kantata/ (api.mavenlink.com)."""

VENDOR = "kantata"
ACCOUNT_ID = "512"
