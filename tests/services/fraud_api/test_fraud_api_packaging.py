"""Static checks of what ships: the Dockerfile, the pinned requirements and the OpenAPI document.

There is no Docker daemon in CI, so the image's required properties are checked on the text.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate as validate_spec
from starlette.routing import Route

from fraud_api.routes import ROUTES, TRANSACTION_ID
from scripts.paths import REPO_ROOT
from tests.services.fraud_api.inprocess import InProcessClient
from tests.services.payloads import transaction

SERVICE_DIR = REPO_ROOT / "services" / "fraud_api"
BUILD_CONTEXT = REPO_ROOT / "services"


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    logical, pending = [], ""
    for line in dockerfile.read_text().splitlines():
        if line.lstrip().startswith("#") and not pending:
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    pairs = []
    for line in logical:
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            pairs.append((keyword.upper(), arguments.strip()))
    return pairs


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return _instructions(SERVICE_DIR / "Dockerfile")


def _all(instructions: list[tuple[str, str]], keyword: str) -> list[str]:
    return [arguments for name, arguments in instructions if name == keyword]


def _final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last_from:]


def _env(instructions: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for arguments in _all(instructions, "ENV"):
        env.update(dict(re.findall(r"(\w+)=(\S+)", arguments)))
    return env


def test_every_base_image_is_python_3_11_slim_pinned_to_a_patch_release(dockerfile: list[tuple[str, str]]) -> None:
    for base in _all(dockerfile, "FROM"):
        image = base.split()[0]
        assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", image), image


def test_the_image_runs_as_a_numeric_non_root_user(dockerfile: list[tuple[str, str]]) -> None:
    users = _all(_final_stage(dockerfile), "USER")
    assert users, "no USER in the final stage"
    match = re.fullmatch(r"(\d+)(?::(\d+))?", users[-1])
    assert match and int(match.group(1)) > 0 and int(match.group(2) or 1) > 0


def test_nothing_is_written_outside_tmp_at_run_time(dockerfile: list[tuple[str, str]]) -> None:
    env = _env(_final_stage(dockerfile))
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["HOME"] == "/tmp" and env["TMPDIR"] == "/tmp"
    assert all(volume.strip('[]" ') == "/tmp" for volume in _all(dockerfile, "VOLUME"))


def test_port_healthcheck_and_command(dockerfile: list[tuple[str, str]]) -> None:
    final = _final_stage(dockerfile)
    assert _all(final, "EXPOSE") == ["8080"]
    assert _env(final)["PORT"] == "8080"
    command = json.loads(_all(final, "CMD")[-1])  # exec form is a JSON array
    assert command == ["python", "-m", "fraud_api"]
    healthcheck = _all(final, "HEALTHCHECK")[-1]
    probe = json.loads(healthcheck.split("CMD", 1)[1])
    assert probe == ["python", "-m", "fraud_api.healthcheck"]
    assert "/health" in (SERVICE_DIR / "healthcheck.py").read_text()
    assert not re.search(r"\b(curl|wget)\b", " ".join(arguments for _, arguments in dockerfile))


def test_copied_sources_exist_in_the_build_context(dockerfile: list[tuple[str, str]]) -> None:
    for arguments in _all(dockerfile, "COPY"):
        if arguments.startswith("--from"):
            continue
        for source in arguments.split()[:-1]:
            assert (BUILD_CONTEXT / source).exists(), source


def test_requirements_are_pinned_and_agree_with_the_project() -> None:
    pins = {}
    for line in (SERVICE_DIR / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, separator, version = line.partition("==")
            assert separator and version, f"not pinned: {line}"
            pins[name.lower().replace("_", "-")] = version
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    for requirement in project["project"]["optional-dependencies"]["services"]:
        name, _, version = re.sub(r"\[.*?\]", "", requirement).partition("==")
        if name.lower() in pins:
            assert pins[name.lower()] == version, name
    assert {"starlette", "uvicorn", "uvloop", "httptools", "psycopg", "psycopg-binary", "psycopg-pool", "boto3"} <= set(pins)


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    spec = yaml.safe_load((SERVICE_DIR / "openapi.yaml").read_text())
    validate_spec(spec)
    return spec


def test_openapi_paths_and_methods_match_the_routes(openapi: dict[str, Any]) -> None:
    documented = {(path, method.upper()) for path, item in openapi["paths"].items() for method in item}
    served = {
        (route.path, method)
        for route in ROUTES
        if isinstance(route, Route)
        for method in (route.methods or ())
        if method != "HEAD"
    }
    assert documented == served


def test_openapi_request_schema_is_the_shared_transaction_schema(openapi: dict[str, Any]) -> None:
    shared = json.loads((BUILD_CONTEXT / "fraud_scoring" / "transaction.schema.json").read_text())
    documented = openapi["components"]["schemas"]["Transaction"]
    for key in ("type", "required", "additionalProperties", "properties", "anyOf"):
        assert documented[key] == shared[key], key


def test_the_id_rule_of_the_lookup_is_the_schema_rule() -> None:
    rule = json.loads((BUILD_CONTEXT / "fraud_scoring" / "transaction.schema.json").read_text())["properties"]["transaction_id"]
    samples = ["a", "A-1_b", "x" * 64, "x" * 65, "", "a b", "a.b", "a/b", "ü", "a\n", "'; DROP TABLE t; --"]
    # ECMA-262 "$" is the very end of the string; Python's would also match before a final "\n".
    anchored = rule["pattern"].removeprefix("^").removesuffix("$")
    for sample in samples:
        by_schema = rule["minLength"] <= len(sample) <= rule["maxLength"] and re.fullmatch(anchored, sample) is not None
        assert bool(TRANSACTION_ID.fullmatch(sample)) == by_schema, repr(sample)


def _validator(openapi: dict[str, Any], name: str) -> OAS30Validator:
    # Embedding the components makes the document's own "#/components/..." references resolve.
    return OAS30Validator({"$ref": f"#/components/schemas/{name}", "components": openapi["components"]})


def test_real_responses_match_the_documented_schemas(openapi: dict[str, Any], client: InProcessClient) -> None:
    payload = transaction()
    scored = client.post("/api/v1/score", json=payload)
    fetched = client.get(f"/api/v1/transactions/{payload['transaction_id']}")
    refused = client.post("/api/v1/score", json={})

    _validator(openapi, "ScoreResult").validate(scored.json())
    _validator(openapi, "TransactionRecord").validate(fetched.json())
    _validator(openapi, "Errors").validate(refused.json())
    _validator(openapi, "Health").validate(client.get("/health").json())
