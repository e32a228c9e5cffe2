"""Signing in to the dashboard from a test, over HTTP: the login form's CSRF token and
cookie, then the session cookie."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from devstack.suite import Suite
from tests.conftest import Artist

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


@contextmanager
def signed_in(suite: Suite, artist: Artist, address: str = "10.200.0.1") -> Iterator[httpx.Client]:
    """A client holding a dashboard session for `artist`."""
    with httpx.Client(
        base_url=suite.gateway_url, headers={"X-Forwarded-For": address}, timeout=30
    ) as client:
        form = client.get("/app/login")
        assert form.status_code == 200, form.text
        answer = client.post("/app/login", data={"key": artist.api_key, "csrf": csrf_of(form.text)})
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/app/links"
        yield client
