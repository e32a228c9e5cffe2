"""The `Range` header of a media request (RFC 9110 §14): one byte range, or the whole object."""

from __future__ import annotations

import re

from contracts.errors import ErrorCode
from servicekit.errors import ApiError

# one range of bytes (RFC 9110 §14.1.2); several ranges would need a multipart answer
_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)", re.IGNORECASE)
# a position of more digits is past any object's end (and int() refuses over 4,300 digits)
_POSITION_DIGITS = 18
_PAST_ANY_END = 10**_POSITION_DIGITS
RANGE_FORMAT = "one range: bytes=first-last, bytes=first- or bytes=-suffix"


def _unsatisfiable(size: int) -> ApiError:
    """A 422 names the field it refuses, like every validation error."""
    return ApiError(
        ErrorCode.VALIDATION_ERROR,
        "range not satisfiable",
        details={"fields": {"Range": f"no bytes of 0-{size - 1} in it"}, "size": size},
    )


def _malformed() -> ApiError:
    return ApiError(
        ErrorCode.VALIDATION_ERROR,
        "malformed Range header",
        details={"fields": {"Range": RANGE_FORMAT}},
    )


def _position(digits: str) -> int:
    significant = digits.lstrip("0")
    return int(significant or "0") if len(significant) <= _POSITION_DIGITS else _PAST_ANY_END


def parse_range(header: str | None, size: int | None) -> tuple[int, int] | None:
    """(first, last) inclusive, or None for the whole object (no header, or an object of
    unknown or no size). A header that is not one byte range is refused whatever the size."""
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if not match or match.groups() == ("", ""):
        raise _malformed()
    first_s, last_s = match.groups()
    if first_s and last_s and _position(last_s) < _position(first_s):
        raise _malformed()  # RFC 9110: a range whose last is before its first is invalid
    if not size:
        return None
    if not first_s:
        length = min(_position(last_s), size)
        if length == 0:
            raise _unsatisfiable(size)
        return size - length, size - 1
    first = _position(first_s)
    last = min(_position(last_s), size - 1) if last_s else size - 1
    if first >= size:
        raise _unsatisfiable(size)
    return first, last
