"""deploy/k8s validated offline: every object against the Kubernetes API schemas bundled with
kubernetes-validate (strict: unknown fields are errors), the replicas' configuration through
the verifier's own loader, the references between objects (selectors, probe ports, Secrets
named but never contained), and the health port the probes use on a real server."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from grpc_health.v1 import health_pb2
from kubernetes_validate.utils import latest_version

from tests.harness import InProcessVerifier, free_port, health_status, local_authority, mutual_tls
from verifier.config import load_config

K8S = Path(__file__).resolve().parents[1] / "deploy" / "k8s"
VERSION = latest_version()


def documents() -> list[dict[str, Any]]:
    return [doc for path in sorted(K8S.glob("*.yaml")) if path.name != "kustomization.yaml"
            for doc in yaml.safe_load_all(path.read_text()) if doc]


def one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    [found] = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def container(docs: list[dict[str, Any]], deployment: str, name: str) -> dict[str, Any]:
    [found] = [c for c in one(docs, "Deployment", deployment)["spec"]["template"]["spec"]
               ["containers"] if c["name"] == name]
    return found


def selector_problems(docs: list[dict[str, Any]]) -> list[str]:
    """Services, PodDisruptionBudgets and NetworkPolicies that select no Deployment's pods;
    autoscalers whose target is missing."""
    pod_labels = [d["spec"]["template"]["metadata"]["labels"] for d in docs
                  if d["kind"] == "Deployment"]
    problems = []
    for d in docs:
        kind, name = d["kind"], d["metadata"]["name"]
        if kind == "Service" and d["spec"].get("type") != "ExternalName":
            wanted = d["spec"]["selector"]
        elif kind == "PodDisruptionBudget":
            wanted = d["spec"]["selector"]["matchLabels"]
        elif kind == "NetworkPolicy":
            wanted = d["spec"]["podSelector"]["matchLabels"]
        elif kind == "HorizontalPodAutoscaler":
            target = d["spec"]["scaleTargetRef"]
            if not any(t["kind"] == target["kind"] and t["metadata"]["name"] == target["name"]
                       for t in docs):
                problems.append(f"{kind} {name}: no {target['kind']} {target['name']}")
            continue
        else:
            continue
        if not any(wanted.items() <= labels.items() for labels in pod_labels):
            problems.append(f"{kind} {name}: selector {wanted} matches no pods")
    return problems


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(kustomization["resources"]) == sorted(files)


def test_every_object_validates_against_the_kubernetes_schema() -> None:
    docs = documents()
    assert {d["kind"] for d in docs} >= {"Deployment", "Service", "PodDisruptionBudget",
                                         "HorizontalPodAutoscaler", "ConfigMap"}
    for doc in docs:
        kubernetes_validate.validate(doc, VERSION, strict=True)


def test_the_validator_refuses_a_broken_manifest() -> None:
    docs = documents()
    misspelt = copy.deepcopy(one(docs, "Deployment", "verifier"))
    pod = misspelt["spec"]["template"]["spec"]["containers"][0]
    pod["readinesProbe"] = pod.pop("readinessProbe")  # unknown field (strict)
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(misspelt, VERSION, strict=True)
    wrong_type = copy.deepcopy(one(docs, "Deployment", "verifier"))
    wrong_type["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["grpc"][
        "port"] = "grpc"  # a grpc probe takes a number, not a named port
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong_type, VERSION, strict=True)


def _verifier_toml(docs: list[dict[str, Any]]) -> str:
    return str(one(docs, "ConfigMap", "verifier-config")["data"]["verifier.toml"])


def test_replica_configuration_loads_with_the_verifiers_own_checks(tmp_path: Path) -> None:
    docs = documents()
    path = tmp_path / "verifier.toml"
    path.write_text(_verifier_toml(docs))
    config = load_config(path)
    assert config.store.url.startswith("postgresql+psycopg://")
    assert config.face_gallery.engine == "milvus"
    assert config.face_gallery.milvus_uri.startswith("http://milvus.")
    assert all((config.server.tls_cert_file, config.server.tls_key_file,
                config.server.client_ca_file))  # never plain text off loopback
    # One analysis thread per requested core.
    requests = container(docs, "verifier", "verifier")["resources"]["requests"]
    assert int(requests["cpu"]) == config.server.analysis_threads
    # The file paths it names are where the Deployment mounts them.
    mounts = [m["mountPath"] for m in container(docs, "verifier", "verifier")["volumeMounts"]]
    for file in (config.server.tls_cert_file, config.server.crl_file, config.cases.key_file,
                 config.fingerprint.device_trust_file):
        assert any(file.startswith(m + "/") for m in mounts), file


def test_a_misspelt_configuration_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "verifier.toml"
    path.write_text(_verifier_toml(documents()).replace("analysis_threads", "analysis_thread"))
    with pytest.raises(ValueError, match="analysis_thread"):
        load_config(path)


def test_replicas_are_probed_on_the_plain_text_health_port(tmp_path: Path) -> None:
    docs = documents()
    path = tmp_path / "verifier.toml"
    path.write_text(_verifier_toml(docs))
    config = load_config(path)
    health_port = int(config.server.health_listen.rsplit(":", 1)[1])
    verifier = container(docs, "verifier", "verifier")
    assert {p["containerPort"] for p in verifier["ports"]} == {
        int(config.server.listen.rsplit(":", 1)[1]), health_port}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert verifier[probe]["grpc"] == {"port": health_port}, probe


def test_health_port_answers_without_a_certificate_the_main_port_refuses(
        tmp_path: Path) -> None:
    """What kubelet's probe does: a plain-text grpc.health.v1 Check, no client certificate."""
    pki = local_authority(tmp_path / "pki", [])
    health = f"127.0.0.1:{free_port()}"
    config = load_config(store={"url": f"sqlite:///{tmp_path / 'cases.sqlite3'}"},
                         server={**mutual_tls(pki), "health_listen": health})
    verifier = InProcessVerifier(config.store.url, config, load=False)
    try:
        # The main port demands a client certificate: the probe's call fails there.
        assert health_status(verifier.address) is None
        # The health port answers, with the main port's status (models not loaded yet).
        assert health_status(health) == health_pb2.HealthCheckResponse.NOT_SERVING
        verifier.call(verifier.server.health.set("", health_pb2.HealthCheckResponse.SERVING))
        assert health_status(health) == health_pb2.HealthCheckResponse.SERVING
    finally:
        verifier.stop()
    assert health_status(health) is None  # stopped with the server


def test_selectors_and_targets_match_and_a_wrong_one_is_found() -> None:
    docs = documents()
    assert selector_problems(docs) == []
    broken = copy.deepcopy(docs)
    one(broken, "Service", "verifier")["spec"]["selector"] = {"app.kubernetes.io/name": "verfier"}
    one(broken, "HorizontalPodAutoscaler", "verifier")["spec"]["scaleTargetRef"]["name"] = "x"
    assert sorted(selector_problems(broken)) == [
        "HorizontalPodAutoscaler verifier: no Deployment x",
        "Service verifier: selector {'app.kubernetes.io/name': 'verfier'} matches no pods"]


def test_secrets_are_referenced_never_contained() -> None:
    docs = documents()
    assert [d for d in docs if d["kind"] == "Secret"] == []
    text = "".join(p.read_text() for p in K8S.glob("*"))
    assert "PRIVATE KEY" not in text and "BEGIN CERTIFICATE" not in text
    referenced = {v["secret"]["secretName"] for d in docs if d["kind"] == "Deployment"
                  for v in d["spec"]["template"]["spec"]["volumes"] if "secret" in v}
    assert referenced == {"verifier-tls", "verifier-postgres", "verifier-case-keys",
                          "review-tls", "verifier-proxy-tls"}
    # Each one's creation is documented.
    readme = (K8S / "README.md").read_text()
    assert all(name in readme for name in referenced)
