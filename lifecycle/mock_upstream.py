"""Plan a consumer stack before its producers were ever deployed (Terragrunt's `mock_outputs`).

cdktf turns every cross-stack reference into an output of the producer and a
`terraform_remote_state` read in the consumer. Planning the consumer before the producer's state
exists fails ("Unable to find remote state", hashicorp/terraform-cdk#3514, #2157). In mock mode,
and only there, each remote-state read gets `defaults`: one typed placeholder per output the
consumer reads. Terraform uses defaults only for outputs the state does not have, so a producer
that is deployed still supplies its real values.

The transform works on a copy of the synthesized stack under the plan directory, which carries
a MOCK_UPSTREAM marker: `deploy` only ever runs the untouched synth output, so a mocked value can
never reach a real apply.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARKER_FILE = "MOCK_UPSTREAM"
MOCK_ACCOUNT_ID = "000000000000"
_SHORT_NAME_MAX = 26

_REMOTE_OUTPUT = re.compile(r"data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)")
# `${aws_subnet.vpc_data-0_X.id}` or `${data.aws_x.y.attr}`: what a cdktf cross-stack output holds.
_SIMPLE_REFERENCE = re.compile(r"^\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}$")


@dataclass(frozen=True)
class MockedRead:
    remote_state: str
    producer_key: str
    outputs: dict[str, Any]


def mock_upstream_defaults(
    consumer: dict[str, Any],
    producers: dict[str, dict[str, Any]],
    *,
    attribute_type: Any,
    region: str,
) -> list[MockedRead]:
    """Add `defaults` to every remote-state read of `consumer`, in place.

    `producers` maps a state key (`dev/network.tfstate`) to that producer's synthesized config.
    `attribute_type(resource_type, attribute, data_source)` returns the provider schema's type
    (a cty type in JSON form such as "string" or ["set", "string"]) or None when unknown.
    """
    reads = consumer.get("data", {}).get("terraform_remote_state", {})
    used = remote_outputs_referenced(consumer)
    mocked = []
    for name, body in reads.items():
        key = body["config"]["key"]
        producer = producers.get(key)
        if producer is None:
            raise KeyError(f"remote state {name} reads {key}, which is not one of the synthesized producers {sorted(producers)}")
        declared = producer.get("output", {})
        defaults = {}
        for output in sorted(used.get(name, ())):
            if output not in declared:
                raise KeyError(f"{name} reads output {output}, which the producer at {key} does not declare")
            resource_type, attribute, value_type = _describe(declared[output].get("value"), attribute_type)
            defaults[output] = placeholder(value_type, output, region=region, resource_type=resource_type, attribute=attribute)
        body["defaults"] = defaults
        mocked.append(MockedRead(name, key, defaults))
    return mocked


def remote_outputs_referenced(document: Any) -> dict[str, set[str]]:
    """Remote-state data source name -> the outputs referenced through it, anywhere in a configuration
    (a synthesized stack, or the `configuration` of `terraform show -json`)."""
    used: dict[str, set[str]] = {}
    for name, output in _REMOTE_OUTPUT.findall(json.dumps(document)):
        used.setdefault(name, set()).add(output)
    return used


def outputs_read(consumer: dict[str, Any]) -> dict[str, set[str]]:
    """Producer state key -> the outputs a synthesized consumer reads from it."""
    referenced = remote_outputs_referenced(consumer)
    return {
        body["config"]["key"]: referenced.get(name, set())
        for name, body in consumer.get("data", {}).get("terraform_remote_state", {}).items()
    }


def placeholder(value_type: Any, output: str, *, region: str, resource_type: str = "", attribute: str = "") -> Any:
    """A value of `value_type` that looks enough like the real thing to pass plan-time validation."""
    if isinstance(value_type, list) and value_type and value_type[0] in ("list", "set"):
        return [placeholder(value_type[1], output, region=region, resource_type=resource_type, attribute=attribute)]
    if isinstance(value_type, list) and value_type and value_type[0] == "map":
        return {}
    if value_type == "number":
        return 0
    if value_type == "bool":
        return False
    name = (attribute or output).lower()
    if name == "arn" or name.endswith("_arn") or (not attribute and name.endswith("arn")):
        service = _service_of(resource_type or output.removeprefix("cross-stack-output-"))
        return f"arn:aws:{service}:{region}:{MOCK_ACCOUNT_ID}:mock/{_short(output)}"
    if name.endswith(("cidr_block", "cidr")):
        return "10.255.0.0/16"
    return f"mock-{_short(output)}"


def read_absent_states_as_empty(consumer: dict[str, Any], absent: set[str], empty_state: Path) -> list[str]:
    """Point the remote-state reads of producers that have no state object at an empty local state.

    Terraform applies `defaults` only to a state that exists: a missing state object is an error
    ("Unable to find remote state") whatever the defaults. The real backend is never written to;
    the empty state is a file next to the mocked copy. Returns the state keys redirected.
    """
    redirected = []
    for body in consumer.get("data", {}).get("terraform_remote_state", {}).values():
        key = body["config"]["key"]
        if key in absent:
            body["backend"] = "local"
            body["config"] = {"path": str(empty_state)}
            redirected.append(key)
    if redirected:
        empty_state.write_text(json.dumps({"version": 4, "serial": 0, "lineage": "mock-upstream", "outputs": {}, "resources": []}))
    return redirected


def mock_data_sources_reading(consumer: dict[str, Any], remote_states: set[str], *, attributes: Any, region: str) -> list[str]:
    """Replace, in place, the data sources that look values up with placeholders by typed placeholder objects.

    A lookup such as `data.aws_subnet` by a mocked subnet id would fail at plan time (no such
    subnet), so each data source reading one of `remote_states` (or another replaced data source)
    becomes a local holding one placeholder per attribute of its schema
    (`attributes(data_type)` -> {attribute: type}); references move to the local. Policy documents
    are computed locally by the provider and stay. Returns the replaced addresses.
    """
    data = consumer.get("data", {})
    markers = [f"data.terraform_remote_state.{name}.outputs." for name in remote_states]
    replaced: dict[str, str] = {}
    changed = True
    while changed:
        changed = False
        for data_type, instances in data.items():
            if data_type in ("terraform_remote_state", "aws_iam_policy_document"):
                continue
            for name, body in instances.items():
                address = f"data.{data_type}.{name}"
                text = json.dumps(body)
                if address not in replaced and any(marker in text for marker in [*markers, *(f"{a}." for a in replaced)]):
                    replaced[address] = f"mock_{data_type}_{name}"
                    changed = True
    if not replaced:
        return []
    for address, local in replaced.items():
        _, data_type, name = address.split(".", 2)
        del data[data_type][name]
        consumer.setdefault("locals", {})[local] = {
            attribute: placeholder(value_type, f"{data_type}-{name}-{attribute}", region=region, resource_type=data_type, attribute=attribute)
            for attribute, value_type in attributes(data_type).items()
        }
    for data_type in [t for t, instances in data.items() if not instances]:
        del data[data_type]
    text = json.dumps(consumer)
    for address, local in replaced.items():
        text = re.sub(rf"\b{re.escape(address)}\.", f"local.{local}.", text)
    rewritten = json.loads(text)
    consumer.clear()
    consumer.update(rewritten)
    for section in ("resource", "data"):
        for instances in consumer.get(section, {}).values():
            for body in instances.values():
                if isinstance(body, dict) and "depends_on" in body:
                    body["depends_on"] = [item for item in body["depends_on"] if item not in replaced]
    return list(replaced)


def prepare_mock_plan_directory(source: Path, destination: Path) -> Path:
    """A copy of the synthesized stack to transform; never the synth output itself."""
    if destination.exists():
        shutil.rmtree(destination)
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl"))
    (destination / MARKER_FILE).write_text(
        "This copy reads placeholder values for upstream outputs. Plan it; never apply it.\n"
    )
    return destination


def is_mocked(directory: Path) -> bool:
    return (directory / MARKER_FILE).exists()


def data_source_attributes(schema: dict[str, Any]):
    """attributes(data_type) -> {attribute: type} over `terraform providers schema -json` output."""

    def attributes(data_type: str) -> dict[str, Any]:
        for provider in schema.get("provider_schemas", {}).values():
            block = provider.get("data_source_schemas", {}).get(data_type, {}).get("block", {})
            if block:
                return {name: body.get("type") for name, body in block.get("attributes", {}).items()}
        return {}

    return attributes


def schema_lookup(schema: dict[str, Any]):
    """attribute_type() over `terraform providers schema -json` output."""
    providers = schema.get("provider_schemas", {})

    def attribute_type(resource_type: str, attribute: str, data_source: bool) -> Any:
        for provider in providers.values():
            section = provider.get("data_source_schemas" if data_source else "resource_schemas", {})
            block = section.get(resource_type, {}).get("block", {})
            found = block.get("attributes", {}).get(attribute)
            if found:
                return found.get("type")
        return None

    return attribute_type


def _describe(value: Any, attribute_type: Any) -> tuple[str, str, Any]:
    """(resource type, attribute, schema type) of an output's value, as far as it can be told."""
    match = _SIMPLE_REFERENCE.match(value) if isinstance(value, str) else None
    if not match:
        return "", "", None
    data_prefix, resource_type, _name, attribute = match.groups()
    return resource_type, attribute, attribute_type(resource_type, attribute, bool(data_prefix))


# The ARN service of a resource type, by its longest matching prefix.
_SERVICES = {
    "aws_lb": "elasticloadbalancing", "aws_alb": "elasticloadbalancing", "aws_kms": "kms", "aws_s3": "s3",
    "aws_sns": "sns", "aws_sqs": "sqs", "aws_iam": "iam", "aws_secretsmanager": "secretsmanager",
    "aws_dynamodb": "dynamodb", "aws_lambda": "lambda", "aws_ssm": "ssm", "aws_cloudwatch_log": "logs",
    "aws_cloudwatch": "cloudwatch", "aws_ecs": "ecs", "aws_rds": "rds", "aws_db": "rds",
    "aws_api_gateway": "apigateway", "aws_wafv2": "wafv2", "aws_acm": "acm", "aws_codedeploy": "codedeploy",
    "aws_xray": "xray", "aws_ec2": "ec2", "aws_vpc": "ec2", "aws_subnet": "ec2", "aws_security_group": "ec2",
}


def _service_of(resource_type: str) -> str:
    matches = [prefix for prefix in _SERVICES if resource_type.startswith(prefix)]
    return _SERVICES[max(matches, key=len)] if matches else "mock"


def _short(output: str) -> str:
    """A readable, unique stand-in for an output name, short enough for length-limited fields.

    A stack may join two values into one field: an X-Ray sampling rule's `service_name` is
    `<api>/<stage>`, at most 64 characters, so each placeholder ("mock-" + this) stays within 31.
    """
    name = re.sub(r"[^a-z0-9-]+", "-", output.removeprefix("cross-stack-output-").lower()).strip("-")
    if len(name) <= _SHORT_NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    return f"{name[:_SHORT_NAME_MAX - len(digest) - 1].rstrip('-')}-{digest}"
