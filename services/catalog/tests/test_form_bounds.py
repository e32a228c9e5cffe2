"""Catalog parses the upload forms itself, with the bounds the API document states."""

from catalog.domain import metadata
from contracts.api import catalog as contract


def test_the_track_form_bounds_are_the_documented_ones() -> None:
    assert metadata.MAX_TITLE == contract.MAX_TITLE
    assert metadata.MAX_DESCRIPTION == contract.MAX_DESCRIPTION
    assert metadata.MAX_SUPPORT_GATE == contract.MAX_SUPPORT_GATE
    assert metadata.MAX_LIST_JSON == contract.MAX_LIST_JSON
