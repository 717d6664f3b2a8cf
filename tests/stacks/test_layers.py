"""Properties every environment's five stacks share: presence, state, DAG, names and tags."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from stacks.layers import DEPLOY_ORDER, LAYER_DEPENDENCIES, Layer, dependants, stack_id

REQUIRED_TAGS = {"Environment", "Project", "CostCenter", "Layer", "ManagedBy"}
# Top-level attributes that hold an AWS resource's name.
NAME_ATTRIBUTES = (
    "name", "bucket", "function_name", "family", "dashboard_name", "cluster_identifier", "identifier",
    "alarm_name", "table_name", "topic_name", "queue_name", "stage_name", "role_name", "deployment_group_name",
    "app_name", "api_key_name", "web_acl_name", "log_group_name",
)
# Resources whose `name` is not a name of their own (a setting, a header, a child record), or
# is scoped by a parent that carries the suffix and admits no delimiter (API Gateway models:
# letters and digits only, unique within their environment's REST API).
UNNAMED_BY_DESIGN = {
    "aws_route53_record",
    "aws_api_gateway_usage_plan_key",
    "aws_api_gateway_model",
    "aws_db_parameter_group",
    "aws_rds_cluster_parameter_group",
}


def test_every_environment_has_the_five_stacks(synthesis):
    expected = {stack_id(layer, env) for env in ("dev", "staging", "prod") for layer in Layer}
    assert set(synthesis.manifest["stacks"]) == expected | {"bootstrap"}
    for stack in synthesis.stacks():
        assert (stack.directory / "cdk.tf.json").is_file(), stack.name


def test_each_stack_keeps_its_own_encrypted_locked_state(synthesis):
    keys = []
    for stack in synthesis.stacks():
        backend = stack.config["terraform"]["backend"]["s3"]
        environment = stack.name.rsplit("-", 1)[1]
        assert backend["bucket"] == synthesis.environments[environment].state.bucket
        assert backend["region"] == synthesis.environments[environment].state.region
        assert backend["encrypt"] is True
        assert backend["use_lockfile"] is True
        keys.append(backend["key"])
    assert len(keys) == len(set(keys)), Counter(keys).most_common(3)
    assert synthesis.stack(Layer.COMPUTE, "staging").config["terraform"]["backend"]["s3"]["key"] == "staging/compute.tfstate"


def test_manifest_dependencies_are_exactly_the_declared_dag(synthesis):
    for name, stack in synthesis.manifest["stacks"].items():
        if name == "bootstrap":
            assert stack["dependencies"] == []
            continue
        layer_name, environment = name.rsplit("-", 1)
        layer = Layer(layer_name)
        expected = {stack_id(upstream, environment) for upstream in LAYER_DEPENDENCIES[layer]}
        assert set(stack["dependencies"]) == expected, name


def test_the_dag_only_points_upstream_and_has_no_cycle():
    position = {layer: index for index, layer in enumerate(DEPLOY_ORDER)}
    for layer, upstream in LAYER_DEPENDENCIES.items():
        assert all(position[producer] < position[layer] for producer in upstream), layer
    assert dependants(Layer.NETWORK) == (Layer.DATA, Layer.COMPUTE, Layer.EDGE, Layer.OBSERVABILITY)
    assert dependants(Layer.OBSERVABILITY) == ()


def test_consumers_read_upstream_values_only_through_remote_state(synthesis):
    for stack in synthesis.stacks():
        layer_name, environment = stack.name.rsplit("-", 1)
        remote = stack.data_sources("terraform_remote_state")
        read_keys = {body["config"]["key"] for body in remote.values()}
        allowed = {f"{environment}/{upstream.value}.tfstate" for upstream in LAYER_DEPENDENCIES[Layer(layer_name)]}
        assert read_keys <= allowed, f"{stack.name} reads {read_keys - allowed}"
        for body in remote.values():
            assert body["backend"] == "s3"


def test_compute_consumes_network_exports_through_remote_state(synthesis):
    compute = synthesis.stack(Layer.COMPUTE, "dev")
    remote = compute.data_sources("terraform_remote_state")
    network_reads = [name for name, body in remote.items() if body["config"]["key"] == "dev/network.tfstate"]
    assert network_reads, "compute-dev does not read the network state"
    load_balancer = compute.resources("aws_lb")
    subnets = next(iter(load_balancer.values()))["subnets"]
    assert all(f"data.terraform_remote_state.{network_reads[0]}.outputs." in subnet for subnet in subnets)
    exported = synthesis.stack(Layer.NETWORK, "dev").config["output"]
    for subnet in subnets:
        output_name = subnet.split(".outputs.")[1].rstrip("}")
        assert output_name in exported


def test_every_provider_tags_every_resource(synthesis):
    for stack in synthesis.stacks():
        (provider,) = stack.config["provider"]["aws"]
        tags = provider["default_tags"][0]["tags"]
        assert REQUIRED_TAGS <= set(tags), stack.name
        layer_name, environment = stack.name.rsplit("-", 1)
        assert tags["Environment"] == environment
        assert tags["Layer"] == layer_name
        assert tags["CostCenter"] == synthesis.environments[environment].cost_center


def _names(stack):
    for resource_type, name, body in stack.all_resources():
        if resource_type in UNNAMED_BY_DESIGN:
            continue
        for attribute in NAME_ATTRIBUTES:
            value = body.get(attribute)
            # A whole-value reference points at another resource's name, checked where it is defined.
            if isinstance(value, str) and not re.fullmatch(r"\$\{[^}]*\}", value):
                yield resource_type, name, attribute, value


def test_every_named_resource_carries_the_environment_suffix(synthesis):
    for stack in synthesis.stacks():
        environment = stack.name.rsplit("-", 1)[1]
        suffix = re.compile(rf"(^|[-_/.]){environment}($|[-_/.])")
        for resource_type, name, attribute, value in _names(stack):
            assert suffix.search(value), f"{stack.name}: {resource_type}.{name}.{attribute} = {value!r} lacks '{environment}'"


def test_names_are_unique_across_environments(synthesis):
    seen: dict[tuple[str, str], str] = {}
    for stack in synthesis.stacks():
        for resource_type, name, attribute, value in _names(stack):
            key = (resource_type, value)
            assert key not in seen, f"{resource_type} name {value!r} is used by {seen[key]} and {stack.name}"
            seen[key] = stack.name


@pytest.mark.parametrize("resource_type, limit", [("aws_lb", 32), ("aws_lb_target_group", 32), ("aws_iam_role", 64), ("aws_s3_bucket", 63)])
def test_names_fit_aws_length_limits(synthesis, resource_type, limit):
    for stack in synthesis.stacks():
        for name, body in stack.resources(resource_type).items():
            value = body.get("name") or body.get("bucket") or ""
            literal = re.sub(r"\$\{[^}]*account_id\}", "123456789012", value)
            assert len(literal) <= limit, f"{stack.name}: {resource_type}.{name} {literal!r} is longer than {limit}"


REQUIRED_TAGS = {"Environment", "Project", "CostCenter", "Layer", "ManagedBy"}


def test_every_stack_tags_every_resource_with_owner_and_cost(synthesis):
    stacks = [*synthesis.stacks(), synthesis.stack_by_name("bootstrap")]
    for stack in stacks:
        (provider,) = stack.config["provider"]["aws"]
        (default_tags,) = provider["default_tags"]
        tags = default_tags["tags"]
        assert REQUIRED_TAGS <= set(tags), f"{stack.name} lacks {REQUIRED_TAGS - set(tags)}"
        assert all(str(value).strip() for value in tags.values()), stack.name
    bootstrap = synthesis.stack_by_name("bootstrap").config["provider"]["aws"][0]["default_tags"][0]["tags"]
    # The bootstrap serves every environment of the account: charged to no single one.
    assert bootstrap["Environment"] == "shared"
    assert bootstrap["CostCenter"] not in {config.cost_center for config in synthesis.environments.values()}
