"""Metrics and readiness are for operators: on each process's ops port, never its API port
(the gateway's API port is what the ingress exposes)."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devstack.suite import SERVICES, Suite

OPERATOR_PATHS = ("/metrics", "/health/ready")


def test_the_gateways_public_port_does_not_serve_metrics_or_readiness(
    api: httpx.Client,
) -> None:
    for path in OPERATOR_PATHS:
        response = api.get(path)
        assert response.status_code == 404, (path, response.text)
        assert "encore_" not in response.text and "checks" not in response.text
    assert api.get("/health/live").json() == {"status": "ok"}  # the kubelet's probe stays


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_serves_metrics_and_readiness_on_its_ops_port_only(
    suite: Suite, service: str
) -> None:
    for path in OPERATOR_PATHS:
        assert httpx.get(suite.url(service) + path).status_code == 404, (service, path)
    ready = httpx.get(suite.ops_url(service) + "/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["database"] == "ok"
    metrics = httpx.get(suite.ops_url(service) + "/metrics")
    assert metrics.status_code == 200
    names = {family.name for family in text_string_to_metric_families(metrics.text)}
    assert "encore_http_requests" in names, sorted(names)[:20]
    assert httpx.get(suite.ops_url(service) + "/health/live").json() == {"status": "ok"}
