"""Decimals leave every service as people write them, never in scientific notation."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from contracts.decimals import decimal_text
from contracts.dto import ContributorView
from contracts.errors import ErrorCode, build_error
from contracts.events import Contributor


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("40") + Decimal("40.00"), "80"),
        (Decimal("8E+1"), "80"),
        (Decimal("1E+2"), "100"),
        (Decimal("33.33"), "33.33"),
        (Decimal("33.30"), "33.3"),
        (Decimal("0.5"), "0.5"),
        (Decimal("0.00"), "0"),
        (Decimal("-0"), "0"),
        (Decimal("1E-7"), "0.0000001"),
    ],
)
def test_decimal_text(value: Decimal, text: str) -> None:
    assert decimal_text(value) == text


def test_decimals_in_error_details_are_plain() -> None:
    """A split sheet summing to 80 reported `"sum": "8E+1"` (issue 14, item 13)."""
    envelope = build_error(
        ErrorCode.VALIDATION_ERROR,
        "percentages must sum to exactly 100",
        details={
            "sum": Decimal("80.00").normalize(),
            "shares": [Decimal("4E+1"), {"nested": Decimal("33.330")}],
            "fields": {"contributors": "x"},
        },
    )
    details = json.loads(envelope.model_dump_json())["error"]["details"]
    assert details == {
        "sum": "80",
        "shares": ["40", {"nested": "33.33"}],
        "fields": {"contributors": "x"},
    }
    assert envelope.model_dump(mode="json")["error"]["details"]["sum"] == "80"


@pytest.mark.parametrize("model", [ContributorView, Contributor])
def test_split_sheet_percentages_are_plain(model: type[ContributorView | Contributor]) -> None:
    for given, shown in (
        ("9E+1", "90"),
        ("10.0", "10"),
        ("33.33", "33.33"),
        (Decimal("1E+1"), "10"),
    ):
        assert model(name="a", role="r", percentage=given).percentage == shown
