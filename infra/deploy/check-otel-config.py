#!/usr/bin/env python3
"""Static checks of the collector configuration embedded in otel-collector.yaml.

kubernetes-validate checks the Kubernetes objects; this checks the collector's
own config.yaml inside the ConfigMap: it parses, every pipeline names only
components defined above it, every defined component is used, and the
collector's container mounts that ConfigMap at the path its --config names.
Needs PyYAML (installed with kubernetes-validate).
"""

import sys

import yaml

KINDS = ("receivers", "processors", "exporters")


def main(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    errors = []

    configmaps = [d for d in docs if d.get("kind") == "ConfigMap"]
    if len(configmaps) != 1 or "config.yaml" not in configmaps[0].get("data", {}):
        print(f"{path}: expected one ConfigMap with a config.yaml key", file=sys.stderr)
        return 1
    cm_name = configmaps[0]["metadata"]["name"]
    config = yaml.safe_load(configmaps[0]["data"]["config.yaml"])

    service = config.get("service") or {}
    pipelines = service.get("pipelines") or {}
    if not pipelines:
        errors.append("service.pipelines is empty")
    used = {kind: set() for kind in KINDS}
    for name, pipeline in pipelines.items():
        if name.split("/")[0] not in ("traces", "metrics", "logs"):
            errors.append(f"pipeline {name}: unknown signal")
        for kind in KINDS:
            names = pipeline.get(kind) or []
            if kind != "processors" and not names:
                errors.append(f"pipeline {name}: no {kind}")
            for component in names:
                used[kind].add(component)
                if component not in (config.get(kind) or {}):
                    errors.append(f"pipeline {name}: {kind[:-1]} {component!r} is not defined")
    for kind in KINDS:
        for component in config.get(kind) or {}:
            if component not in used[kind]:
                errors.append(f"{kind[:-1]} {component!r} is defined but no pipeline uses it")
    for extension in service.get("extensions") or []:
        if extension not in (config.get("extensions") or {}):
            errors.append(f"extension {extension!r} is not defined")

    # The Deployment must mount this ConfigMap where --config points.
    deployments = [d for d in docs if d.get("kind") == "Deployment"]
    if len(deployments) != 1:
        errors.append("expected one Deployment")
    else:
        pod = deployments[0]["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        container = pod["containers"][0]
        config_args = [a.split("=", 1)[1] for a in container.get("args", []) if a.startswith("--config=")]
        mounted = {
            m["mountPath"].rstrip("/") + "/config.yaml"
            for m in container.get("volumeMounts", [])
            if volumes.get(m["name"], {}).get("configMap", {}).get("name") == cm_name
        }
        if not config_args or config_args[0] not in mounted:
            errors.append(f"--config {config_args} is not the mounted ConfigMap {cm_name} ({sorted(mounted)})")

    for error in errors:
        print(f"{path}: {error}", file=sys.stderr)
    if not errors:
        print(f"{path}: collector config ok ({', '.join(sorted(pipelines))})")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "infra/deploy/otel-collector.yaml"))
