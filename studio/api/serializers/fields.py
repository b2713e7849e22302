"""Fields shared by the API's serializers."""

from rest_framework import serializers

# The largest id a database integer column holds (PostgreSQL bigint, SQLite INTEGER): a larger
# one is refused as invalid input instead of failing in the database driver.
MAX_ID = 2**63 - 1


def object_id() -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID)
