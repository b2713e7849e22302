"""Browser tests use the `browser`, `page` and `login` fixtures of tests/conftest.py (one
Playwright session for the whole suite)."""
