"""The edge layer of every environment, property by property, and the "no bypass" design over
every layer: the API stage is the only way in, and every way through it needs an API key."""

from __future__ import annotations

import fnmatch
import json
import re

import pytest

from stacks.edge_stack import ALB_HEALTH_CHECK_PATH, TRANSACTION_SCHEMA_FILE
from stacks.layers import LAYER_DEPENDENCIES, Layer, stack_id
from tests.synthesis import points_at, reference

ENVIRONMENTS = ("dev", "staging", "prod")
_REMOTE = re.compile(r"^\$\{data\.terraform_remote_state\.([^.]+)\.outputs\.([^}]+)\}$")
OPEN_TO_THE_WORLD = {"0.0.0.0/0", "::/0"}


@pytest.fixture(params=ENVIRONMENTS)
def edge(request, synthesis):
    return synthesis.stack(Layer.EDGE, request.param), synthesis.environments[request.param]


def upstream(synthesis, stack, expression: str) -> tuple[str, tuple[str, str, str]]:
    """A remote-state read → (producer layer, the producer's resource reference it resolves to)."""
    match = _REMOTE.match(expression)
    assert match, f"{expression!r} is not a read of another layer's output"
    remote, output = match.groups()
    environment, layer = stack.data_sources("terraform_remote_state")[remote]["config"]["key"].removesuffix(".tfstate").split("/")
    producer = synthesis.stack(Layer(layer), environment)
    return layer, reference(producer.config["output"][output]["value"])


def producer_resource(synthesis, stack, expression: str) -> tuple[str, dict]:
    layer, (resource_type, logical_id, attribute) = upstream(synthesis, stack, expression)
    environment = stack.name.rsplit("-", 1)[1]
    return attribute, synthesis.stack(Layer(layer), environment).resources(resource_type)[logical_id]


def by_name(stack, resource_type: str, suffix: str) -> dict:
    (body,) = [body for name, body in stack.resources(resource_type).items() if body.get("name", "").endswith(suffix)]
    return body


def resource_id(stack, resource_type: str, predicate) -> str:
    (name,) = [name for name, body in stack.resources(resource_type).items() if predicate(body)]
    return name


# --- The REST API ---------------------------------------------------------------------------


def test_api_is_a_regional_rest_api_keyed_by_header(edge):
    stack, _ = edge
    api = stack.only("aws_api_gateway_rest_api")
    assert api["endpoint_configuration"]["types"] == ["REGIONAL"]
    assert api["api_key_source"] == "HEADER"
    assert api["lifecycle"]["create_before_destroy"] is True
    assert not stack.resources("aws_apigatewayv2_api"), "HTTP APIs have no usage plans, API keys or WAF"


def test_every_method_requires_an_api_key(edge):
    stack, _ = edge
    methods = stack.resources("aws_api_gateway_method")
    assert {body["http_method"] for body in methods.values()} == {"POST", "ANY"}
    lacking = [name for name, body in methods.items() if body.get("api_key_required") is not True]
    assert not lacking, f"methods without an API key: {lacking}"


def test_post_transactions_is_validated_against_the_services_schema(edge):
    stack, _ = edge
    resources = stack.resources("aws_api_gateway_resource")
    transactions_id = resource_id(stack, "aws_api_gateway_resource", lambda body: body["path_part"] == "transactions")
    assert "root_resource_id" in resources[transactions_id]["parent_id"]
    method = by_http_method(stack, "POST")
    assert method["resource_id"] == f"${{aws_api_gateway_resource.{transactions_id}.id}}"

    validator_type, validator_id, _ = reference(method["request_validator_id"])
    validator = stack.resources(validator_type)[validator_id]
    assert validator["validate_request_body"] is True

    ((content_type, model_name),) = method["request_models"].items()
    model_type, model_id, attribute = reference(model_name)
    model = stack.resources(model_type)[model_id]
    assert (content_type, model["content_type"], attribute) == ("application/json", "application/json", "name")
    # The gateway's model IS the file the services validate with: same text, draft-04.
    assert model["schema"] == TRANSACTION_SCHEMA_FILE.read_text()
    assert json.loads(model["schema"]) == json.loads(TRANSACTION_SCHEMA_FILE.read_text())
    assert json.loads(model["schema"])["$schema"] == "http://json-schema.org/draft-04/schema#"


def test_post_transactions_invokes_the_transaction_processor(edge, synthesis):
    stack, _ = edge
    method_id = resource_id(stack, "aws_api_gateway_method", lambda body: body["http_method"] == "POST")
    (integration,) = [body for body in stack.resources("aws_api_gateway_integration").values() if method_id in body["http_method"]]
    assert (integration["type"], integration["integration_http_method"]) == ("AWS_PROXY", "POST")
    attribute, function = producer_resource(synthesis, stack, integration["uri"])
    assert attribute == "invoke_arn"
    assert "transaction-processor" in function["function_name"]

    permission = stack.only("aws_lambda_permission")
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["action"] == "lambda:InvokeFunction"
    api_id = next(iter(stack.resources("aws_api_gateway_rest_api")))
    # This API's POST /transactions on this environment's stage only, called from this account.
    assert permission["source_arn"] == f"${{aws_api_gateway_rest_api.{api_id}.execution_arn}}/{stack.only('aws_api_gateway_stage')['stage_name']}/POST/transactions"
    assert permission["source_account"].startswith("${data.aws_caller_identity.")
    attribute, permitted = producer_resource(synthesis, stack, permission["function_name"])
    assert attribute == "function_name" and permitted == function


def test_api_proxy_reaches_fraud_api_through_the_vpc_link_under_the_certificate_name(edge):
    stack, config = edge
    resources = stack.resources("aws_api_gateway_resource")
    api_id = resource_id(stack, "aws_api_gateway_resource", lambda body: body["path_part"] == "api")
    proxy_id = resource_id(stack, "aws_api_gateway_resource", lambda body: body["path_part"] == "{proxy+}")
    assert resources[proxy_id]["parent_id"] == f"${{aws_api_gateway_resource.{api_id}.id}}"

    method = by_http_method(stack, "ANY")
    assert method["resource_id"] == f"${{aws_api_gateway_resource.{proxy_id}.id}}"
    assert method["request_parameters"] == {"method.request.path.proxy": True}
    validator_type, validator_id, _ = reference(method["request_validator_id"])
    assert stack.resources(validator_type)[validator_id]["validate_request_parameters"] is True

    (integration,) = [body for body in stack.resources("aws_api_gateway_integration").values() if body["type"] == "HTTP_PROXY"]
    assert integration["connection_type"] == "VPC_LINK"
    link_id = next(iter(stack.resources("aws_api_gateway_vpc_link")))
    assert points_at(integration["connection_id"], "aws_api_gateway_vpc_link", link_id, "id")
    # Host and SNI are the ALB certificate's name; the VPC link decides where the bytes go.
    assert integration["uri"] == f"https://{config.edge.api_domain_name}/api/{{proxy}}"
    assert integration["request_parameters"] == {"integration.request.path.proxy": "method.request.path.proxy"}
    assert integration["tls_config"]["insecure_skip_verification"] is False


def by_http_method(stack, http_method: str) -> dict:
    (body,) = [body for body in stack.resources("aws_api_gateway_method").values() if body["http_method"] == http_method]
    return body


# --- The private path: VPC link → NLB → ALB --------------------------------------------------


def test_vpc_link_reaches_the_compute_alb_through_an_internal_nlb(edge, synthesis):
    stack, _ = edge
    link = stack.only("aws_api_gateway_vpc_link")
    nlb_id = next(iter(stack.resources("aws_lb")))
    nlb = stack.only("aws_lb")
    assert [f"${{aws_lb.{nlb_id}.arn}}"] == link["target_arns"]
    assert nlb["load_balancer_type"] == "network"
    assert nlb["internal"] is True
    assert nlb["enable_cross_zone_load_balancing"] is True
    assert nlb["enable_deletion_protection"] is False
    for subnet in nlb["subnets"]:
        _, subnet_body = producer_resource(synthesis, stack, subnet)
        assert subnet_body["tags"]["Tier"] == "application"

    listener = stack.only("aws_lb_listener")
    group_id = next(iter(stack.resources("aws_lb_target_group")))
    group = stack.only("aws_lb_target_group")
    assert points_at(listener["load_balancer_arn"], "aws_lb", nlb_id, "arn")
    assert (listener["port"], listener["protocol"]) == (443, "TCP")
    ((action),) = listener["default_action"]
    assert action["type"] == "forward" and points_at(action["target_group_arn"], "aws_lb_target_group", group_id, "arn")

    assert (group["target_type"], group["port"], group["protocol"]) == ("alb", 443, "TCP")
    health = group["health_check"]
    assert (health["protocol"], health["path"], health["enabled"]) == ("HTTPS", ALB_HEALTH_CHECK_PATH, True)

    attachment = stack.only("aws_lb_target_group_attachment")
    assert points_at(attachment["target_group_arn"], "aws_lb_target_group", group_id, "arn")
    assert attachment["port"] == 443
    attribute, alb = producer_resource(synthesis, stack, attachment["target_id"])
    assert attribute == "arn"
    assert alb["load_balancer_type"] == "application" and alb["internal"] is True


def test_the_nlb_has_a_group_that_admits_only_privatelink_and_the_alb_admits_only_that_group(edge, synthesis):
    """The VPC link is PrivateLink: the NLB does not judge it by inbound rules and has none, so
    nothing in the VPC connects to it; the ALB's production listener admits only the NLB's group."""
    stack, config = edge
    nlb = stack.only("aws_lb")
    assert nlb["enforce_security_group_inbound_rules_on_private_link_traffic"] == "off"
    ((group),) = nlb["security_groups"]
    attribute, body = producer_resource(synthesis, stack, group)
    assert attribute == "id" and body["name"] == f"fraud-vpc-link-{config.name}"
    network = synthesis.stack(Layer.NETWORK, config.name)
    group_id = resource_id(network, "aws_security_group", lambda each: each["name"] == body["name"])
    alb_group_id = resource_id(network, "aws_security_group", lambda each: each["name"] == f"fraud-load-balancer-{config.name}")
    into_nlb = [rule for rule in network.resources("aws_vpc_security_group_ingress_rule").values() if group_id in rule["security_group_id"]]
    assert not into_nlb
    into_alb = [rule for rule in network.resources("aws_vpc_security_group_ingress_rule").values() if alb_group_id in rule["security_group_id"]]
    assert [(rule["from_port"], rule.get("cidr_ipv4"), rule["referenced_security_group_id"]) for rule in into_alb] == [
        (443, None, f"${{aws_security_group.{group_id}.id}}")
    ]


# --- Usage plans and keys ---------------------------------------------------------------------


def test_usage_plans_take_their_limits_from_config(edge):
    stack, config = edge
    settings = config.edge
    api_clients = by_name(stack, "aws_api_gateway_usage_plan", f"api-clients-{config.name}")
    assert api_clients["throttle_settings"] == {
        "rate_limit": settings.api_client_rate_limit_per_second,
        "burst_limit": settings.api_client_burst_limit,
    }
    assert "quota_settings" not in api_clients

    ingestion = by_name(stack, "aws_api_gateway_usage_plan", f"ingestion-clients-{config.name}")
    assert ingestion["quota_settings"] == {"limit": settings.ingestion_client_quota_per_day, "period": "DAY"}
    assert ingestion["throttle_settings"] == {
        "rate_limit": settings.ingestion_client_rate_limit_per_second,
        "burst_limit": settings.ingestion_client_burst_limit,
    }

    api_id = next(iter(stack.resources("aws_api_gateway_rest_api")))
    stage_id = next(iter(stack.resources("aws_api_gateway_stage")))
    for plan in (api_clients, ingestion):
        ((stage),) = plan["api_stages"]
        assert points_at(stage["api_id"], "aws_api_gateway_rest_api", api_id, "id")
        assert points_at(stage["stage"], "aws_api_gateway_stage", stage_id, "stage_name")


def test_each_plan_has_its_own_attached_key(edge):
    stack, config = edge
    plans = stack.resources("aws_api_gateway_usage_plan")
    keys = stack.resources("aws_api_gateway_api_key")
    assert len(plans) == len(keys) == 2
    assert all(body["name"].endswith(f"-key-{config.name}") and body["enabled"] for body in keys.values())
    attached = {}
    for link in stack.resources("aws_api_gateway_usage_plan_key").values():
        assert link["key_type"] == "API_KEY"
        _, key_id, _ = reference(link["key_id"])
        _, plan_id, _ = reference(link["usage_plan_id"])
        attached[key_id] = plan_id
    assert set(attached) == set(keys) and set(attached.values()) == set(plans)
    for key_id, plan_id in attached.items():
        # Each key is named after its plan.
        assert keys[key_id]["name"].replace("-key-", "-") == plans[plan_id]["name"]


def test_no_output_exposes_an_api_key_value(edge):
    stack, _ = edge
    text = json.dumps(stack.config.get("output", {}))
    assert "aws_api_gateway_api_key" in text, "the key ids are outputs"
    assert not re.search(r"aws_api_gateway_api_key\.[^.}\s]+\.value", text)
    assert not any(body.get("value") for body in stack.resources("aws_api_gateway_api_key").values()), "values are generated by AWS"


# --- The stage ----------------------------------------------------------------------------------


def test_stage_traces_and_writes_json_access_logs_to_an_encrypted_group(edge, synthesis):
    stack, config = edge
    stage = stack.only("aws_api_gateway_stage")
    assert stage["stage_name"] == config.name
    assert stage["xray_tracing_enabled"] is True
    assert stage.get("cache_cluster_enabled") is False

    groups = stack.resources("aws_cloudwatch_log_group")
    _, group_id, attribute = reference(stage["access_log_settings"]["destination_arn"])
    assert attribute == "arn"
    access = groups[group_id]
    assert access["retention_in_days"] == config.edge.audit_log_retention_days
    fields = json.loads(stage["access_log_settings"]["format"])
    for field in ("requestId", "ip", "caller", "user", "requestTime", "httpMethod", "resourcePath", "status", "protocol", "responseLength", "apiKeyId"):
        assert field in fields, field
    # The key's id, never its value; no bodies.
    assert "$context.identity.apiKey" not in fields.values()
    assert not any("$input" in value or "requestOverride" in value for value in fields.values())

    execution = [body for body in groups.values() if body["name"].startswith("API-Gateway-Execution-Logs_")]
    assert len(execution) == 1 and execution[0]["name"].endswith(f"/{config.name}")
    assert execution[0]["retention_in_days"] == config.edge.execution_log_retention_days
    # Every edge log group is encrypted with the data layer's logs key.
    for group in groups.values():
        attribute, key = producer_resource(synthesis, stack, group["kms_key_id"])
        assert attribute == "arn" and "CloudWatch Logs" in key["description"]


def test_method_settings_log_without_bodies_and_throttle_every_method(edge):
    stack, config = edge
    settings = stack.only("aws_api_gateway_method_settings")
    assert settings["method_path"] == "*/*"
    values = settings["settings"]
    assert values["metrics_enabled"] is True
    assert values["logging_level"] == "INFO"
    assert values["data_trace_enabled"] is False, "full request logging would write card data (PCI DSS)"
    assert values["throttling_rate_limit"] == config.edge.stage_rate_limit_per_second
    assert values["throttling_burst_limit"] == config.edge.stage_burst_limit
    assert values["caching_enabled"] is False


def test_deployment_is_recreated_whenever_the_definition_changes(edge):
    stack, _ = edge
    deployment_id = next(iter(stack.resources("aws_api_gateway_deployment")))
    deployment = stack.only("aws_api_gateway_deployment")
    assert deployment["lifecycle"]["create_before_destroy"] is True
    trigger = deployment["triggers"]["redeployment"]
    assert trigger.startswith("${sha1(jsonencode([")
    for resource_type in ("aws_api_gateway_resource", "aws_api_gateway_method", "aws_api_gateway_integration", "aws_api_gateway_model", "aws_api_gateway_request_validator"):
        for logical_id in stack.resources(resource_type):
            # The whole object, so an in-place change of any attribute changes the hash.
            assert re.search(rf"\b{resource_type}\.{re.escape(logical_id)}[,\]]", trigger), f"{resource_type}.{logical_id}"
    assert points_at(stack.only("aws_api_gateway_stage")["deployment_id"], "aws_api_gateway_deployment", deployment_id, "id")


# --- WAF ------------------------------------------------------------------------------------------


def _rules(stack) -> dict[str, dict]:
    return {rule["name"]: rule for rule in stack.only("aws_wafv2_web_acl")["rule"]}


def _managed_groups(rules) -> set[str]:
    return {rule["statement"]["managed_rule_group_statement"]["name"] for rule in rules.values() if "managed_rule_group_statement" in rule["statement"]}


def test_web_acl_rate_limits_geo_blocks_and_runs_the_managed_groups(edge, synthesis):
    stack, config = edge
    acl = stack.only("aws_wafv2_web_acl")
    assert acl["scope"] == "REGIONAL"
    assert acl["default_action"] == {"allow": {}}
    rules = _rules(stack)

    # The rate rules themselves are judged by evaluating them (tests/security/test_rate_limits.py).
    rate_rules = {name for name, rule in rules.items() if "rate_based_statement" in rule["statement"]}
    assert rate_rules == {"rate-keyless-per-ip", "rate-keyed-per-ip", "rate-per-key-transactions", "rate-per-key-api"}
    assert all(rules[name]["action"] == {"block": {}} for name in rate_rules)
    assert not stack.resources("aws_wafv2_ip_set"), "no address is exempt any more"

    geo = rules["geo-block"]
    assert geo["action"] == {"block": {}}
    assert geo["statement"]["geo_match_statement"]["country_codes"] == list(config.edge.blocked_country_codes)

    assert {"AWSManagedRulesSQLiRuleSet", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= _managed_groups(rules)
    assert ("AWSManagedRulesAmazonIpReputationList" in _managed_groups(rules)) is config.edge.waf_ip_reputation_enabled
    for rule in rules.values():
        if "managed_rule_group_statement" in rule["statement"]:
            assert rule["override_action"] == {"none": {}}, f"{rule['name']} must enforce its group's actions"
    assert sorted(rule["priority"] for rule in rules.values()) == list(range(len(rules)))


def test_every_rule_and_the_acl_publish_metrics_and_samples(edge, synthesis):
    stack, config = edge
    acl = stack.only("aws_wafv2_web_acl")
    configs = [acl["visibility_config"], *(rule["visibility_config"] for rule in acl["rule"])]
    assert all(each["cloudwatch_metrics_enabled"] and each["sampled_requests_enabled"] for each in configs)
    names = [each["metric_name"] for each in configs]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,128}", name) and name.endswith(config.name) for name in names)
    contract = synthesis.stacks_by_environment[config.name].edge.contract
    assert contract.web_acl_rule_metric_names == tuple(rule["visibility_config"]["metric_name"] for rule in sorted(acl["rule"], key=lambda rule: rule["priority"]))
    assert contract.web_acl_metric_name == acl["visibility_config"]["metric_name"]


def test_web_acl_guards_the_api_stage_only(edge):
    """The ALB sees only the NLB's private addresses, and only requests that passed this ACL (docs/edge.md, "WAF")."""
    stack, _ = edge
    acl_id = next(iter(stack.resources("aws_wafv2_web_acl")))
    stage_id = next(iter(stack.resources("aws_api_gateway_stage")))
    (association,) = stack.resources("aws_wafv2_web_acl_association").values()
    assert points_at(association["web_acl_arn"], "aws_wafv2_web_acl", acl_id, "arn")
    assert points_at(association["resource_arn"], "aws_api_gateway_stage", stage_id, "arn")


def test_waf_logs_to_an_encrypted_group_without_credentials(edge, synthesis):
    stack, config = edge
    logging = stack.only("aws_wafv2_web_acl_logging_configuration")
    acl_id = next(iter(stack.resources("aws_wafv2_web_acl")))
    assert points_at(logging["resource_arn"], "aws_wafv2_web_acl", acl_id, "arn")
    ((destination),) = logging["log_destination_configs"]
    _, group_id, attribute = reference(destination)
    group = stack.resources("aws_cloudwatch_log_group")[group_id]
    assert attribute == "arn" and group["name"].startswith("aws-waf-logs-")
    assert group["retention_in_days"] == config.edge.audit_log_retention_days
    _, key = producer_resource(synthesis, stack, group["kms_key_id"])
    assert "CloudWatch Logs" in key["description"]
    redacted = {field["single_header"]["name"] for field in logging["redacted_fields"]}
    assert redacted == {"authorization", "x-api-key"}

    (policy,) = [
        document
        for document in stack.data_sources("aws_iam_policy_document").values()
        if any(principal["identifiers"] == ["delivery.logs.amazonaws.com"] for statement in document["statement"] for principal in statement.get("principals", []))
    ]
    (statement,) = policy["statement"]
    assert statement["actions"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["resources"] == [f"${{aws_cloudwatch_log_group.{group_id}.arn}}:*"]
    assert {condition["variable"] for condition in statement["condition"]} == {"aws:SourceAccount", "aws:SourceArn"}


# --- Custom domain and outputs ------------------------------------------------------------------


def test_custom_domain_follows_the_environment_flag(edge, synthesis):
    stack, config = edge
    domain_types = ("aws_api_gateway_domain_name", "aws_api_gateway_base_path_mapping", "aws_route53_record")
    if not config.edge.custom_domain_enabled:
        assert not any(stack.resources(resource_type) for resource_type in domain_types)
        assert "api_custom_domain_url" not in stack.config["output"]
        return
    domain_id = next(iter(stack.resources("aws_api_gateway_domain_name")))
    domain = stack.only("aws_api_gateway_domain_name")
    assert domain["domain_name"] == config.edge.api_domain_name
    assert domain["endpoint_configuration"]["types"] == ["REGIONAL"]
    assert domain["security_policy"] == "TLS_1_2"
    attribute, _ = producer_resource(synthesis, stack, domain["regional_certificate_arn"])
    assert attribute == "certificate_arn", "compute's validated certificate"
    mapping = stack.only("aws_api_gateway_base_path_mapping")
    assert points_at(mapping["domain_name"], "aws_api_gateway_domain_name", domain_id, "domain_name")
    record = stack.only("aws_route53_record")
    assert record["type"] == "A"
    assert points_at(record["alias"]["name"], "aws_api_gateway_domain_name", domain_id, "regional_domain_name")
    assert points_at(record["alias"]["zone_id"], "aws_api_gateway_domain_name", domain_id, "regional_zone_id")
    assert stack.config["output"]["api_custom_domain_url"]["value"] == f"https://{config.edge.api_domain_name}"


def test_outputs_name_the_endpoint_and_the_plan_and_key_ids(edge):
    stack, _ = edge
    outputs = stack.config["output"]
    stage_id = next(iter(stack.resources("aws_api_gateway_stage")))
    assert points_at(outputs["api_endpoint_url"]["value"], "aws_api_gateway_stage", stage_id, "invoke_url")
    # The ALB's name is the compute layer's output; an output is never repeated across stacks.
    assert "alb_dns_name" not in outputs
    assert set(outputs["usage_plan_ids"]["value"]) == set(outputs["api_key_ids"]["value"]) == {"api_clients", "ingestion_clients"}
    for value in outputs["usage_plan_ids"]["value"].values():
        assert reference(value)[0::2] == ("aws_api_gateway_usage_plan", "id")
    for value in outputs["api_key_ids"]["value"].values():
        assert reference(value)[0::2] == ("aws_api_gateway_api_key", "id")


# --- The layer's place in the DAG ---------------------------------------------------------------


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_edge_depends_on_network_data_and_compute_only(synthesis, environment):
    """So edge can be destroyed and re-created while the layers below stay."""
    name = stack_id(Layer.EDGE, environment)
    below = {stack_id(layer, environment) for layer in (Layer.NETWORK, Layer.DATA, Layer.COMPUTE)}
    assert LAYER_DEPENDENCIES[Layer.EDGE] == (Layer.NETWORK, Layer.DATA, Layer.COMPUTE)
    assert set(synthesis.manifest["stacks"][name]["dependencies"]) == below
    stack = synthesis.stack(Layer.EDGE, environment)
    reads = {body["config"]["key"] for body in stack.data_sources("terraform_remote_state").values()}
    assert reads == {f"{environment}/{layer}.tfstate" for layer in ("network", "data", "compute")}
    # Nothing below reads edge, so its teardown never strands them.
    for layer in (Layer.NETWORK, Layer.DATA, Layer.COMPUTE):
        lower = synthesis.stack(layer, environment)
        assert f"{environment}/edge.tfstate" not in {body["config"]["key"] for body in lower.data_sources("terraform_remote_state").values()}
    for _, _, body in stack.all_resources():
        assert not body.get("lifecycle", {}).get("prevent_destroy"), "every environment must be destroyable"


def test_the_api_gateway_cloudwatch_role_is_an_account_level_bootstrap_resource(synthesis):
    bootstrap = synthesis.stack_by_name("bootstrap")
    account = bootstrap.only("aws_api_gateway_account")
    _, role_id, _ = reference(account["cloudwatch_role_arn"])
    role = bootstrap.resources("aws_iam_role")[role_id]
    trust = bootstrap.data_sources("aws_iam_policy_document")[reference(role["assume_role_policy"])[1]]
    assert [principal["identifiers"] for statement in trust["statement"] for principal in statement["principals"]] == [["apigateway.amazonaws.com"]]
    (policy,) = [body for body in bootstrap.resources("aws_iam_role_policy").values() if role_id in body["role"]]
    permissions = bootstrap.data_sources("aws_iam_policy_document")[reference(policy["policy"])[1]]
    assert all(resource != "*" for statement in permissions["statement"] for resource in statement["resources"])
    patterns = [resource.split(":log-group:", 1)[1] for statement in permissions["statement"] if "logs:PutLogEvents" in statement["actions"] for resource in statement["resources"]]
    (provider,) = bootstrap.config["provider"]["aws"]
    for environment, config in synthesis.environments.items():
        edge = synthesis.stack(Layer.EDGE, environment)
        assert not edge.resources("aws_api_gateway_account"), "one setting per account and region: bootstrap owns it"
        # The setting is per region: it must be made in the region the stages live in.
        assert provider["region"] == config.region
        for group in edge.resources("aws_cloudwatch_log_group").values():
            if not group["name"].startswith("aws-waf-logs-"):
                name = re.sub(r"\$\{[^}]*\}", "abc123", group["name"])
                assert any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns), f"API Gateway may not write {name}"


# --- No bypass: the API stage is the only way in ---------------------------------------------------

# Resource types that would open another door from the internet.
PUBLIC_ENTRY_TYPES = (
    "aws_apigatewayv2_api", "aws_lambda_function_url", "aws_cloudfront_distribution", "aws_elb", "aws_instance",
    "aws_globalaccelerator_accelerator", "aws_lightsail_instance", "aws_transfer_server", "aws_api_gateway_rest_api",
)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_no_bypass_nothing_but_the_api_stage_is_reachable_from_the_internet(synthesis, environment):
    stacks = [synthesis.stack(layer, environment) for layer in Layer]
    everything = [(stack, resource_type, name, body) for stack in stacks for resource_type, name, body in stack.all_resources()]

    for stack, resource_type, name, body in everything:
        if resource_type in ("aws_lb", "aws_alb"):
            assert body["internal"] is True, f"{stack.name}: {name} is internet-facing"
        if resource_type == "aws_vpc_security_group_ingress_rule":
            assert body.get("cidr_ipv4") not in OPEN_TO_THE_WORLD and body.get("cidr_ipv6") not in OPEN_TO_THE_WORLD, f"{stack.name}: {name}"
        if resource_type == "aws_security_group_rule" and body.get("type") == "ingress":
            assert not OPEN_TO_THE_WORLD & set(body.get("cidr_blocks", []) + body.get("ipv6_cidr_blocks", [])), f"{stack.name}: {name}"
        if resource_type == "aws_security_group":
            for rule in body.get("ingress", []):
                assert not OPEN_TO_THE_WORLD & set(rule.get("cidr_blocks", []) + rule.get("ipv6_cidr_blocks", [])), f"{stack.name}: {name}"
        if resource_type in ("aws_db_instance", "aws_rds_cluster_instance"):
            assert body.get("publicly_accessible") is False, f"{stack.name}: {name}"
        if resource_type == "aws_ecs_service":
            assert body["network_configuration"]["assign_public_ip"] is False, f"{stack.name}: {name}"
        if resource_type == "aws_api_gateway_method":
            assert body["api_key_required"] is True, f"{stack.name}: {name} is open without a key"

    edge = synthesis.stack(Layer.EDGE, environment)
    public = [(stack.name, resource_type, name) for stack, resource_type, name, _ in everything if resource_type in PUBLIC_ENTRY_TYPES]
    # The one public entry: the edge layer's REST API, behind API keys and WAF.
    assert public == [(edge.name, "aws_api_gateway_rest_api", next(iter(edge.resources("aws_api_gateway_rest_api"))))]
    stage_id = next(iter(edge.resources("aws_api_gateway_stage")))
    assert any(body["resource_arn"] == f"${{aws_api_gateway_stage.{stage_id}.arn}}" for body in edge.resources("aws_wafv2_web_acl_association").values())

    # Elastic IPs exist only for NAT gateways (egress), never on something that listens.
    network = synthesis.stack(Layer.NETWORK, environment)
    nat_allocations = {body["allocation_id"] for body in network.resources("aws_nat_gateway").values()}
    for stack in stacks:
        for name in stack.resources("aws_eip"):
            assert f"${{aws_eip.{name}.id}}" in nat_allocations or f"${{aws_eip.{name}.allocation_id}}" in nat_allocations, f"{stack.name}: {name}"


# --- Settings the edge layer refuses ----------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"ingestion_client_rate_limit_per_second": 30, "ingestion_client_burst_limit": 20}, "ingestion_client_rate_limit_per_second"),
        ({"stage_rate_limit_per_second": 500}, "stage_rate_limit_per_second"),
        ({"stage_rate_limit_per_second": 20_000}, "stage_rate_limit_per_second"),
        ({"stage_burst_limit": 1000}, "stage_burst_limit"),
        ({"blocked_country_codes": ("KP", "KP")}, "twice"),
        ({"audit_log_retention_days": 100}, "edge.audit_log_retention_days"),
        ({"execution_log_retention_days": 2}, "edge.execution_log_retention_days"),
    ],
)
def test_edge_settings_that_cannot_work_stop_synth(overrides, message):
    from dataclasses import replace

    from config.environments import build_environments
    from config.settings import ConfigError
    from config.validation import validate

    config = build_environments()["dev"]
    with pytest.raises(ConfigError, match=message):
        validate(replace(config, edge=replace(config.edge, **overrides)))
