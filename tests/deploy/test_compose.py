"""docker-compose.yml and its configuration files, checked without a Docker engine.

The compose file is validated against the Compose Specification's JSON Schema, then read
for what docs/architecture.md#security–9 and deploy/README.md promise: five services on their
ports, started
after healthy NATS and PostgreSQL, each with a healthcheck and its own NATS user, whose
permissions (deploy/nats/accounts.conf) let it publish its own events only. The NATS
configurations are checked by the real nats-server (`-t`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from shared.launcher import nats_server_binary

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NATS_DIR = DEPLOY / "nats"
SCHEMA = ROOT / "tests" / "data" / "compose-spec" / "compose-spec.json"

PORTS = {"registry": 8001, "distribution": 8002, "training": 8003, "community": 8004, "audit": 8005}
SERVICES = list(PORTS)
STREAM = "BANSOS"

RAW_COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


# --- helpers: .env files, compose interpolation, NATS configuration ----------------------

ASSIGNMENT = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


def env_example(*, with_commented: bool = False) -> dict[str, str]:
    """deploy/.env.example as compose reads it; optionally with the commented-out settings."""
    values: dict[str, str] = {}
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        match = ASSIGNMENT.match(line.strip())
        if match and (with_commented or not match.group(1)):
            values[match.group(2)] = interpolate(match.group(3), values)
    return values


VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^${}]*))?\}")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR:?error}`, innermost first (so nested)."""

    def substitute(match: re.Match[str]) -> str:
        name, operator, argument = match.groups()
        value = env.get(name)
        present = bool(value) if operator in (":-", ":?") else value is not None
        if operator and operator.endswith("-") and not present:
            return argument
        if operator and operator.endswith("?") and not present:
            raise KeyError(f"required variable {name} is missing: {argument}")
        return value or ""

    while (new := VARIABLE.sub(substitute, text)) != text:
        text = new
    return text


REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?])?")


def compose_with(env: dict[str, str]) -> dict[str, Any]:
    """docker-compose.yml with every string value interpolated from `env`, as compose does."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, str):
            value = interpolate(node, env)
            assert "$" not in value, f"compose would interpolate the $ in {node!r}"
            return value
        return node

    interpolated: dict[str, Any] = walk(RAW_COMPOSE)
    return interpolated


NATS_TOKEN = re.compile(
    r"""(?P<skip>[\s,;]+|\#[^\n]*|//[^\n]*)
      | (?P<punct>[{}\[\]])
      | (?P<sep>[:=](?=\s))
      | "(?P<dquoted>[^"]*)"
      | '(?P<squoted>[^']*)'
      | (?P<bare>[^\s{}\[\],;"'\#=]+?)(?=[:=]\s|[\s{}\[\],;]|$)""",
    re.VERBOSE,
)


def parse_nats_conf(path: Path) -> dict[str, Any]:
    """Just enough of the NATS configuration format to read accounts and permissions.

    Maps, arrays, quoted and bare strings, `include`, and `$NAME` references to variables
    defined in the file; a reference to anything else (an environment variable) is kept
    as the text `$NAME`.
    """
    tokens = [
        (kind, value)
        for match in NATS_TOKEN.finditer(path.read_text())
        for kind, value in match.groupdict().items()
        if value is not None and kind != "skip"
    ]
    position = 0

    def take() -> tuple[str, str]:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def value(scopes: list[dict[str, Any]]) -> Any:
        kind, text = take()
        if (kind, text) == ("punct", "{"):
            return mapping([*scopes, {}], closing="}")
        if (kind, text) == ("punct", "["):
            items = []
            while tokens[position] != ("punct", "]"):
                items.append(value(scopes))
            take()
            return items
        if kind == "bare" and text.startswith("$"):
            for scope in reversed(scopes):
                if text[1:] in scope:
                    return scope[text[1:]]
        return text

    def mapping(scopes: list[dict[str, Any]], closing: str | None) -> dict[str, Any]:
        current = scopes[-1]
        while position < len(tokens) and tokens[position] != ("punct", closing):
            _, key = take()
            if tokens[position][0] == "sep":
                take()
            item = value(scopes)
            if key == "include":
                current.update(parse_nats_conf(path.parent / item))
            else:
                current[key] = item
        if closing:
            take()
        return current

    return mapping([{}], closing=None)


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: `*` is one token, `>` one or more trailing tokens."""
    wanted, tokens = pattern.split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(tokens) > index
        if index >= len(tokens) or token not in ("*", tokens[index]):
            return False
    return len(tokens) == len(wanted)


def nats_users() -> dict[str, dict[str, Any]]:
    conf = parse_nats_conf(NATS_DIR / "nats.conf")
    return {user["user"]: user for user in conf["accounts"][STREAM]["users"]}


def publish_allow(user: dict[str, Any]) -> list[str]:
    allowed: list[str] = user["permissions"]["publish"]["allow"]
    return allowed


def nats_server_check(conf: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [nats_server_binary(), "-t", "-c", str(conf)],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def cluster_node_env(node: str) -> dict[str, str]:
    """The environment docker-compose.yml gives a cluster node, with .env.example values."""
    service = compose_with(env_example())["services"][node]
    return {key: str(value) for key, value in service["environment"].items()}


# --- the compose file as a whole ---------------------------------------------------------


def test_the_compose_file_is_valid_against_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text())
    assert "draft-07" in schema["$schema"]
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(
        jsonschema.Draft7Validator(schema).iter_errors(RAW_COMPOSE), key=lambda e: e.json_path
    )
    assert not errors, "\n".join(f"{e.json_path}: {e.message}" for e in errors)


def test_the_compose_file_stays_valid_once_interpolated_with_the_example_settings() -> None:
    schema = json.loads(SCHEMA.read_text())
    for env in (env_example(), env_example(with_commented=True)):
        jsonschema.validate(compose_with(env), schema, cls=jsonschema.Draft7Validator)


def test_every_variable_compose_needs_is_in_the_env_example() -> None:
    example = env_example()
    for name, operator in REFERENCE.findall(json.dumps(RAW_COMPOSE)):
        if operator in ("", ":?", "?"):
            assert name in example, f"${{{name}}} has no default and is not in .env.example"


def test_no_secret_has_a_default_in_the_compose_file() -> None:
    for name, operator in REFERENCE.findall(json.dumps(RAW_COMPOSE)):
        if re.search(r"(PASSWORD|SECRET|KEY)$", name):
            assert not operator.endswith("-"), f"secret {name} must not have a default"


def test_compose_refuses_to_start_without_a_secret() -> None:
    env = env_example()
    del env["BANSOS_PROGRAMME_KEY"]
    with pytest.raises(KeyError, match="BANSOS_PROGRAMME_KEY"):
        compose_with(env)


def test_every_configuration_file_the_compose_file_mounts_exists() -> None:
    mounted = [
        (name, volume.split(":")[0])
        for name, service in RAW_COMPOSE["services"].items()
        for volume in service.get("volumes", [])
        if volume.startswith("./") and volume.endswith(":ro")
    ]
    assert len(mounted) >= 5  # nats, postgres, otel-collector, three cluster nodes
    for name, source in mounted:
        assert (ROOT / source).exists(), f"{name} mounts missing {source}"


# --- the five services --------------------------------------------------------------------


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_runs_from_the_project_image_on_its_port(name: str) -> None:
    service = compose_with(env_example())["services"][name]
    port = PORTS[name]
    assert service["build"] == {"context": ".", "dockerfile": "deploy/Dockerfile"}
    assert service["command"] == ["python", "-m", f"services.{name}"]
    env = service["environment"]
    assert env["BANSOS_HTTP_PORT"] == str(port)
    assert env["BANSOS_HTTP_HOST"] == "0.0.0.0"
    assert env["OTEL_SERVICE_NAME"] == name
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    assert {"BANSOS_JWT_SECRET", "BANSOS_PROGRAMME_KEY", "BANSOS_OTEL_EXPORTER"} <= set(env)
    assert env["BANSOS_MODE"] == "production"  # built-in secrets refused
    assert ("BANSOS_WITNESSES" in env) is (name == "audit")
    # Community requires the audit's witnesses' cosignatures on a sample's checkpoint.
    assert ("BANSOS_LEDGER_WITNESSES" in env) is (name == "community")
    assert any(str(p).endswith(f":{port}:{port}") for p in service["ports"])


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_starts_after_healthy_nats_and_postgres(name: str) -> None:
    depends_on = RAW_COMPOSE["services"][name]["depends_on"]
    assert depends_on["nats"]["condition"] == "service_healthy"
    assert depends_on["postgres"]["condition"] == "service_healthy"
    assert depends_on["nats-init"]["condition"] == "service_completed_successfully"
    for node in ("nats-1", "nats-2", "nats-3"):  # waited for only under --profile cluster
        assert depends_on[node] == {"condition": "service_healthy", "required": False}


@pytest.mark.parametrize("name", [*SERVICES, "nats", "postgres"])
def test_each_service_has_a_healthcheck(name: str) -> None:
    test = RAW_COMPOSE["services"][name]["healthcheck"]["test"]
    assert test[0] in ("CMD", "CMD-SHELL")
    if name in PORTS:
        assert f"http://127.0.0.1:{PORTS[name]}/health" in " ".join(test)


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_connects_to_nats_as_its_own_user(name: str) -> None:
    example = env_example()
    url = urlsplit(compose_with(example)["services"][name]["environment"]["BANSOS_NATS_URL"])
    assert (url.scheme, url.hostname, url.port) == ("nats", "nats", 4222)
    assert url.username == name
    assert url.password == example[f"NATS_{name.upper()}_PASSWORD"]


@pytest.mark.parametrize("name", SERVICES)
def test_under_the_cluster_settings_each_service_lists_the_three_nodes(name: str) -> None:
    example = env_example(with_commented=True)
    service = compose_with(example)["services"][name]
    urls = [urlsplit(u) for u in service["environment"]["BANSOS_NATS_URL"].split(",")]
    assert sorted(u.hostname or "" for u in urls) == ["nats-1", "nats-2", "nats-3"]
    assert {u.username for u in urls} == {name}
    assert {u.password for u in urls} == {example[f"NATS_{name.upper()}_PASSWORD"]}
    assert service["environment"]["BANSOS_STREAM_REPLICAS"] == "3"


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_owns_its_database(name: str) -> None:
    example = env_example()
    env = compose_with(example)["services"][name]["environment"]
    url = urlsplit(env["BANSOS_DATABASE_URL"])
    assert (url.scheme, url.hostname, url.port) == ("postgresql+asyncpg", "postgres", 5432)
    assert (url.username, url.path) == (name, f"/{name}")
    assert url.password == example[f"POSTGRES_{name.upper()}_PASSWORD"]


def test_the_audit_ledger_has_one_writer_and_keeps_its_key_on_a_volume() -> None:
    audit = compose_with(env_example())["services"]["audit"]
    assert audit["container_name"]  # compose will not scale a service with a fixed name
    assert audit.get("deploy", {}).get("replicas", 1) == 1
    data_dir = audit["environment"]["BANSOS_AUDIT_DATA_DIR"]
    assert f"audit-data:{data_dir}" in audit["volumes"]
    assert "audit-data" in RAW_COMPOSE["volumes"]


def test_the_stream_is_created_by_the_nats_admin_before_the_services_start() -> None:
    init = compose_with(env_example())["services"]["nats-init"]
    assert urlsplit(init["environment"]["BANSOS_NATS_URL"]).username == "admin"
    assert init["command"] == ["bansos", "init-stream"]
    assert init["depends_on"]["nats"]["condition"] == "service_healthy"
    for name in SERVICES:
        service = compose_with(env_example())["services"][name]
        assert service["environment"]["BANSOS_MANAGE_STREAM"] == "false"
        assert service["depends_on"]["nats-init"]["condition"] == ("service_completed_successfully")


# --- infrastructure ---------------------------------------------------------------------


def test_nats_runs_jetstream_from_the_deploy_configuration_on_a_volume() -> None:
    nats = compose_with(env_example())["services"]["nats"]
    assert nats["image"].startswith("nats:2.1")
    assert "/etc/nats/nats.conf" in nats["command"]
    assert "nats-data:/data" in nats["volumes"]
    conf = parse_nats_conf(NATS_DIR / "nats.conf")
    assert conf["jetstream"]["store_dir"].startswith("/data/")


def test_the_cluster_profile_adds_three_nats_nodes_with_their_own_volumes() -> None:
    services = compose_with(env_example())["services"]
    for node in ("nats-1", "nats-2", "nats-3"):
        service = services[node]
        assert service["profiles"] == ["cluster"]
        assert "/etc/nats/cluster.conf" in service["command"]
        assert service["environment"]["NATS_SERVER_NAME"] == node
        assert f"{node}-data:/data" in service["volumes"]
        assert service["healthcheck"]["test"]


def test_postgres_creates_one_role_and_database_per_service() -> None:
    postgres = compose_with(env_example())["services"]["postgres"]
    assert postgres["image"].startswith("postgres:16")
    assert any("init.sh:/docker-entrypoint-initdb.d/" in v for v in postgres["volumes"])
    script = (DEPLOY / "postgres" / "init.sh").read_text()
    listed = re.search(r"^services=\((.*)\)$", script, re.MULTILINE)
    assert listed and listed.group(1).split() == SERVICES
    for name in SERVICES:
        assert f"POSTGRES_{name.upper()}_PASSWORD" in postgres["environment"]
    subprocess.run(["bash", "-n", str(DEPLOY / "postgres" / "init.sh")], check=True)


def test_traces_go_through_the_collector_to_jaeger() -> None:
    collector = yaml.safe_load((DEPLOY / "otel" / "collector.yaml").read_text())
    protocols = collector["receivers"]["otlp"]["protocols"]
    assert protocols["http"]["endpoint"].endswith(":4318")
    assert protocols["grpc"]["endpoint"].endswith(":4317")
    pipeline = collector["service"]["pipelines"]["traces"]
    (exporter,) = pipeline["exporters"]
    assert collector["exporters"][exporter]["endpoint"] == "jaeger:4317"
    services = RAW_COMPOSE["services"]
    assert "collector.yaml" in " ".join(services["otel-collector"]["volumes"])
    assert any(p.endswith(":16686") for p in services["jaeger"]["ports"])


# --- NATS users and permissions -----------------------------------------------------------


def test_every_nats_client_in_compose_has_a_user() -> None:
    users = nats_users()
    for env in (env_example(), env_example(with_commented=True)):
        for name, service in compose_with(env)["services"].items():
            url = service.get("environment", {}).get("BANSOS_NATS_URL")
            for server in url.split(",") if url else []:
                assert urlsplit(server).username in users, name


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_may_publish_its_own_events_and_no_one_elses(name: str) -> None:
    user = nats_users()[name]
    assert user["password"] == f"$NATS_{name.upper()}_PASSWORD"  # from the environment
    allowed = publish_allow(user)
    assert f"bansos.{name}.>" in allowed
    for other in SERVICES:
        subject = f"bansos.{other}.something_happened"
        may = any(subject_matches(pattern, subject) for pattern in allowed)
        assert may == (other == name), f"{name} publishing {subject}"
    assert "deny" not in user["permissions"]["publish"]  # an allow-list, nothing implicit


@pytest.mark.parametrize("name", SERVICES)
def test_no_service_may_reconfigure_or_rewrite_the_stream(name: str) -> None:
    allowed = publish_allow(nats_users()[name])
    for api in ("CREATE", "UPDATE", "DELETE", "PURGE", "MSG.DELETE"):
        subject = f"$JS.API.STREAM.{api}.{STREAM}"
        assert not any(subject_matches(pattern, subject) for pattern in allowed), subject
    assert not any(subject_matches(p, "_INBOX.reply") for p in allowed)


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_may_use_jetstream_as_publisher_and_consumer(name: str) -> None:
    user = nats_users()[name]
    allowed = publish_allow(user)
    needed = [
        f"$JS.API.STREAM.INFO.{STREAM}",
        f"$JS.API.CONSUMER.CREATE.{STREAM}",
        f"$JS.API.CONSUMER.CREATE.{STREAM}.projector.bansos.registry.>",
        f"$JS.API.CONSUMER.DURABLE.CREATE.{STREAM}.projector",
        f"$JS.API.CONSUMER.INFO.{STREAM}.projector",
        f"$JS.API.CONSUMER.MSG.NEXT.{STREAM}.projector",
        f"$JS.ACK.{STREAM}.projector.1.2.3.1700000000000000000.0",
    ]
    for subject in needed:
        assert any(subject_matches(pattern, subject) for pattern in allowed), subject
    assert user["permissions"]["subscribe"]["allow"] == ["bansos.>", "_INBOX.>"]


def test_the_services_permissions_differ_only_in_their_own_subject() -> None:
    users = nats_users()
    shared_rights = {
        name: [p for p in publish_allow(users[name]) if p != f"bansos.{name}.>"]
        for name in SERVICES
    }
    assert len({tuple(rights) for rights in shared_rights.values()}) == 1


# --- the real nats-server checks the configurations ---------------------------------------


def test_nats_server_accepts_the_single_node_configuration() -> None:
    result = nats_server_check(NATS_DIR / "nats.conf", env_example())
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.parametrize("node", ["nats-1", "nats-2", "nats-3"])
def test_nats_server_accepts_the_cluster_configuration(node: str) -> None:
    env = cluster_node_env(node)
    assert env["NATS_SERVER_NAME"] == node
    result = nats_server_check(NATS_DIR / "cluster.conf", env)
    assert result.returncode == 0, result.stderr + result.stdout


def test_nats_server_refuses_to_start_without_a_password() -> None:
    env = env_example()
    del env["NATS_AUDIT_PASSWORD"]
    result = nats_server_check(NATS_DIR / "nats.conf", env)
    assert result.returncode != 0
    assert "NATS_AUDIT_PASSWORD" in result.stderr + result.stdout


def test_rate_limits_count_in_a_redis_every_replica_shares() -> None:
    compose = compose_with(env_example())
    redis = compose["services"]["redis"]
    assert "--appendonly" in redis["command"]  # a restart keeps the counts
    assert any(str(v).endswith(":/data") for v in redis["volumes"])
    for name in SERVICES:
        service = compose["services"][name]
        assert service["environment"]["BANSOS_RATE_LIMIT_STORAGE"] == "redis://redis:6379/0"
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
        assert service["environment"]["BANSOS_TRUSTED_PROXIES"] == "[]"  # none by default
