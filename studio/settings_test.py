"""Test override: fast password hashing and quiet logs; everything else as in production code."""

import os

# Under `pytest -n 2` each xdist worker gets its own test database from pytest-django; give it
# its own Redis database too (the next numbers after REDIS_URL's), so flushes and queues of one
# worker never reach the other's.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1"
if _XDIST_WORKER.startswith("gw") and os.environ.get("REDIS_URL"):
    _base, _, _db = os.environ["REDIS_URL"].rpartition("/")
    os.environ["REDIS_URL"] = f"{_base}/{int(_db or 0) + 1 + int(_XDIST_WORKER[2:])}"

from studio.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
