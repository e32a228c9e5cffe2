"""Decimals written as people write them: "80", "33.33", "0.5".

`str(Decimal)` keeps the exponent its arithmetic produced, so a sum of 40 and 40.00,
normalized, prints as "8E+1"; every decimal that leaves a service (error details, split-sheet
percentages) goes through `decimal_text` instead.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator


def decimal_text(value: Decimal) -> str:
    """Fixed-point, without trailing zeros; infinities and NaN as `str` has them."""
    if not value.is_finite():
        return str(value)
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def plain_decimals(value: Any) -> Any:
    """`value` with every Decimal inside it (dicts, lists, tuples) turned into its text."""
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, dict):
        return {key: plain_decimals(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_decimals(item) for item in value]
    return value


def _as_decimal_text(value: Any) -> Any:
    if isinstance(value, bool):
        return value  # refused as a string by the field itself
    if isinstance(value, Decimal | int | float | str):
        try:
            return decimal_text(Decimal(str(value).strip()))
        except InvalidOperation:
            return value  # not a number: the field keeps (or refuses) it as it is
    return value


# a decimal carried as text (exact, unlike a float), always in its plain form
DecimalText = Annotated[str, BeforeValidator(_as_decimal_text)]
