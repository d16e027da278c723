"""The Kubernetes path, validated without a cluster: the Helm values for the official Dagster
chart, the plain manifests and the Dockerfile must agree with the code and with dagster.yaml."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml

from lead_assets.distributed.limiter import LIMITER_REDIS_ENV
from lead_assets.distributed.settings import BROKER_ENV, EXECUTOR_ENV, EXECUTORS
from lead_assets.settings import ENV_VARS, GENERECT_SLOTS_ENV, PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
KNOWN_ENV = {v.name for v in ENV_VARS} | {
    EXECUTOR_ENV,
    BROKER_ENV,
    LIMITER_REDIS_ENV,
    GENERECT_SLOTS_ENV,
}
SECRET_ENV = {v.name for v in ENV_VARS if v.secret} | {BROKER_ENV, LIMITER_REDIS_ENV}


def load_all(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())


@pytest.fixture(scope="module")
def config() -> dict[str, dict]:
    return {doc["kind"]: doc for doc in load_all(DEPLOY / "k8s" / "config.yaml")}


@pytest.fixture(scope="module")
def instance() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())


def image_of(values: dict) -> str:
    image = values["dagster-user-deployments"]["deployments"][0]["image"]
    return f"{image['repository']}:{image['tag']}"


def test_code_location_deployment_loads_our_definitions(values: dict) -> None:
    section = values["dagster-user-deployments"]
    assert section["enabled"] is True
    (deployment,) = section["deployments"]
    args = deployment["dagsterApiGrpcArgs"]
    module = args[args.index("--module-name") + 1]
    assert hasattr(importlib.import_module(module), "defs")
    tag = str(deployment["image"]["tag"])
    assert tag and tag != "latest"  # every step of a run must use the same code
    assert deployment["port"] == 3030


def test_run_launcher_postgres_and_daemon_match_dagster_yaml(values: dict, instance: dict) -> None:
    assert values["runLauncher"]["type"] in ("K8sRunLauncher", "CeleryK8sRunLauncher")
    pg = values["postgresql"]
    assert pg["enabled"] is False and pg["postgresqlHost"]
    assert pg["postgresqlScheme"] == instance["storage"]["postgres"]["postgres_db"]["scheme"]
    daemon = values["dagsterDaemon"]
    queued = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert queued["maxConcurrentRuns"] == instance["concurrency"]["runs"]["max_concurrent_runs"]
    retries, ours = daemon["runRetries"], instance["run_retries"]
    assert (retries["enabled"], retries["maxRetries"], retries["retryOnAssetOrOpFailure"]) == (
        ours["enabled"],
        ours["max_retries"],
        ours["retry_on_asset_or_op_failure"],
    )
    monitoring = daemon["runMonitoring"]
    assert (
        monitoring["freeSlotsAfterRunEndSeconds"]
        == (instance["run_monitoring"]["free_slots_after_run_end_seconds"])
    )


def test_every_pod_gets_the_same_environment(values: dict, config: dict[str, dict]) -> None:
    names = {config["ConfigMap"]["metadata"]["name"], config["Secret"]["metadata"]["name"]}
    sources = [
        values["dagster-user-deployments"]["deployments"][0],
        values["runLauncher"]["config"]["k8sRunLauncher"],
        values["dagsterDaemon"],
    ]
    for source in sources:
        wired = {s["name"] for s in source["envConfigMaps"] + source["envSecrets"]}
        assert wired == names


def test_config_names_only_known_variables_and_secrets_only_in_the_secret(
    config: dict[str, dict],
) -> None:
    plain, secret = config["ConfigMap"]["data"], config["Secret"]["stringData"]
    assert set(plain) | set(secret) <= KNOWN_ENV
    assert not set(plain) & SECRET_ENV, "a secret in the ConfigMap"
    assert set(secret) <= SECRET_ENV
    assert plain[EXECUTOR_ENV] in EXECUTORS
    assert all(
        v == "CHANGE_ME" or "CHANGE_ME" in v or v.startswith("redis://") for v in secret.values()
    )


def test_celery_workers_run_our_worker_app_from_the_same_image(values: dict) -> None:
    (deployment,) = load_all(DEPLOY / "k8s" / "celery-workers.yaml")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == image_of(values)
    command = container["command"]
    assert command[:4] == ["celery", "-A", "lead_assets.distributed.worker", "worker"]
    assert command[command.index("-Q") + 1] == "dagster"
    importlib.import_module(command[2])  # the app module exists and builds
    env = {e["name"] for e in container["env"]}
    assert {"DAGSTER_HOME", "DAGSTER_PG_PASSWORD"} <= env


def test_dockerfile_is_sane() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    lines = [
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]
    assert lines[0].startswith("FROM python:3.11")
    assert "uv sync --frozen --no-dev --extra celery --extra server" in text  # lock and extras
    for source in re.findall(r"^COPY (.+) \./?\S*$", text, flags=re.M):
        for path in source.split():
            assert (PROJECT_ROOT / path).exists(), f"COPY of a missing path: {path}"
    user = [line for line in lines if line.startswith("USER ")]
    assert user and user[-1] not in ("USER root", "USER 0")
    cmd = yaml.safe_load(lines[-1].removeprefix("CMD "))
    assert cmd[:3] == ["dagster", "api", "grpc"] and "lead_assets.definitions" in cmd
    assert "--port" in cmd and cmd[cmd.index("--port") + 1] == "3030"
