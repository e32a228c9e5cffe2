"""Split-sheet rules: percentages that add up to exactly 100, and the status machine."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from contracts.decimals import decimal_text

HUNDRED = Decimal("100")
_ALLOWED: dict[str, frozenset[str]] = {
    "draft": frozenset({"sent"}),
    "sent": frozenset({"draft", "signed"}),
    "signed": frozenset(),  # a signed sheet is final
}


class SplitError(ValueError):
    def __init__(self, message: str, details: dict[str, object]) -> None:
        """`details` may hold Decimals: the error envelope writes them plainly."""
        super().__init__(message)
        self.details = details


def parse_percentage(value: object) -> Decimal:
    """A share in (0, 100] with at most two decimals; floats are read through their text."""
    try:
        pct = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise SplitError("percentage is not a number", {"percentage": str(value)}) from exc
    if not pct.is_finite() or pct <= 0 or pct > HUNDRED:
        raise SplitError("percentage must be above 0 and at most 100", {"percentage": str(value)})
    if pct.as_tuple().exponent < -2:  # type: ignore[operator]
        raise SplitError("percentage has more than two decimals", {"percentage": str(value)})
    return pct


def check_total(percentages: list[Decimal]) -> Decimal:
    total = sum(percentages, Decimal("0"))
    if total != HUNDRED:
        raise SplitError("percentages must sum to exactly 100", {"sum": total})
    return total


def can_move(current: str, target: str) -> bool:
    return target in _ALLOWED.get(current, frozenset())


def contributor_records(contributors: Sequence[Any]) -> list[dict[str, Any]]:
    """The contributors as stored: names and roles trimmed, shares checked (each valid, the
    total exactly 100) and written as plain decimal text."""
    shares = [parse_percentage(c.percentage) for c in contributors]
    check_total(shares)
    return [
        {
            "name": c.name.strip(),
            "user_handle": c.user_handle,
            "role": c.role.strip(),
            "percentage": decimal_text(p),
        }
        for c, p in zip(contributors, shares, strict=True)
    ]
