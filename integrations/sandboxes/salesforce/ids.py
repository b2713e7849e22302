"""Salesforce record ids: 15 case-sensitive characters with a key prefix, plus the
3-character case-safe suffix that makes the 18-character form Salesforce returns."""

import string

KEY_PREFIXES = {"Account": "001", "Contact": "003", "Opportunity": "006", "User": "005"}
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_SUFFIX = string.ascii_uppercase + "012345"


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, rem = divmod(number, 62)
        digits.append(_BASE62[rem])
    return "".join(reversed(digits)).rjust(width, "0")


def checksum(id15: str) -> str:
    """The suffix: for each 5-character chunk, a bit per upper-case letter."""
    out = ""
    for start in (0, 5, 10):
        bits = sum(1 << i for i, ch in enumerate(id15[start : start + 5]) if ch.isupper())
        out += _SUFFIX[bits]
    return out


def make_id(sobject: str, sequence: int) -> str:
    """Deterministic 18-character id, e.g. make_id('Opportunity', 1) -> '0065g00000000001AAA'."""
    id15 = KEY_PREFIXES.get(sobject, "a0B") + "5g" + _base62(sequence, 10)
    return id15 + checksum(id15)


def is_valid(value: str) -> bool:
    if len(value) == 18:
        return checksum(value[:15]) == value[15:]
    return len(value) == 15 and value.isalnum()
