"""The capacity model holds for every environment, is what the stacks deploy, and refuses at synth
a setting that breaks it (config/capacity.py, docs/capacity.md)."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys

import pytest

from config.capacity import (
    API_KEYS_PER_PLAN,
    FRAUD_API_TASK_KNEE_PER_SECOND,
    PROCESSOR_INVOCATION_SECONDS,
    REQUEST_METRIC_PERIOD_SECONDS,
    REQUEST_TARGET_SHARE_OF_KNEE,
    RESERVED_SLOTS,
    TASK_SETS_DURING_DEPLOYMENT,
    aurora_max_connections,
    capacity_of,
)
from config.environments import build_environments
from config.settings import WAF_RATE_WINDOW_SECONDS, ConfigError
from config.validation import validate
from scripts.paths import REPO_ROOT
from stacks.layers import Layer

ENVIRONMENTS = ("dev", "staging", "prod")


@pytest.fixture(params=ENVIRONMENTS)
def config(request):
    return build_environments()[request.param]


def _replace(config, part: str, **changes):
    return dataclasses.replace(config, **{part: dataclasses.replace(getattr(config, part), **changes)})


# --- The inequalities, over every environment's configuration --------------------------------------


def test_with_one_task_lost_the_maximum_tasks_serve_what_the_api_client_plan_sells(config):
    compute, edge = config.compute, config.edge
    per_task = min(compute.fraud_api_requests_per_target / 60, FRAUD_API_TASK_KNEE_PER_SECOND)
    assert (compute.fraud_api_max_tasks - 1) * per_task >= edge.api_client_rate_limit_per_second * API_KEYS_PER_PLAN
    if config.name == "prod":
        assert (compute.fraud_api_max_tasks - 1) * per_task >= 1000  # what R5.6 sells, whatever the setting says


def test_the_request_target_is_per_task_per_minute_and_a_stated_share_of_the_knee(config):
    target_per_second = config.compute.fraud_api_requests_per_target / REQUEST_METRIC_PERIOD_SECONDS
    assert REQUEST_METRIC_PERIOD_SECONDS == 60
    assert target_per_second <= REQUEST_TARGET_SHARE_OF_KNEE * FRAUD_API_TASK_KNEE_PER_SECOND
    # Not the old 1000 per minute (17 req/s), dozens of times below what a task serves.
    assert target_per_second >= REQUEST_TARGET_SHARE_OF_KNEE * FRAUD_API_TASK_KNEE_PER_SECOND * 0.9


def test_every_aurora_client_at_its_most_stays_below_max_connections(config):
    capacity = capacity_of(config)
    fraud_api = config.compute.fraud_api_db_pool_max_size * config.compute.fraud_api_max_tasks * TASK_SETS_DURING_DEPLOYMENT
    clients = {client.name: client.connections for client in capacity.aurora_clients}
    assert clients["fraud-api tasks"] == fraud_api
    # The Lambdas reach DynamoDB, not Aurora (test_only_fraud_api_and_its_migration_task_can_reach_the_database proves it).
    assert clients["pipeline Lambdas"] == clients["secret-rotation Lambda"] == 0
    needed = RESERVED_SLOTS + sum(clients.values())
    limit = aurora_max_connections(config.data.aurora_min_capacity_acu, config.data.aurora_max_capacity_acu)
    assert needed < limit
    assert fraud_api // TASK_SETS_DURING_DEPLOYMENT <= config.observability.aurora_connections_threshold < limit


def test_the_processors_concurrency_drains_the_ingestion_plans_first_second(config):
    edge = config.edge
    admitted = (edge.ingestion_client_burst_limit + edge.ingestion_client_rate_limit_per_second) * API_KEYS_PER_PLAN
    assert config.compute.lambda_reserved_concurrency / PROCESSOR_INVOCATION_SECONDS >= admitted


def test_waf_per_key_limits_sit_above_what_each_plan_admits_in_its_window(config):
    capacity, edge = capacity_of(config), config.edge
    assert capacity.waf_per_key_api >= edge.api_client_burst_limit + edge.api_client_rate_limit_per_second * WAF_RATE_WINDOW_SECONDS
    assert capacity.waf_per_key_transactions >= (
        edge.ingestion_client_burst_limit + edge.ingestion_client_rate_limit_per_second * WAF_RATE_WINDOW_SECONDS
    )
    assert capacity.waf_keyed_per_ip == capacity.waf_per_key_api + capacity.waf_per_key_transactions


def test_the_model_finds_no_problem_in_any_shipped_environment(config):
    assert capacity_of(config).problems() == []


@pytest.mark.parametrize(
    "min_acu, max_acu, expected",
    [
        (0.5, 1, 189),
        (0.5, 4, 823),
        (0.5, 6, 823),  # between two documented rows: the lower one
        (0.5, 8, 1669),
        (1, 16, 3360),
        (0.5, 16, 2000),  # a minimum of 0.5 ACU caps it
        (2, 64, 5000),
    ],
)
def test_max_connections_follow_awss_documented_rule(min_acu, max_acu, expected):
    assert aurora_max_connections(min_acu, max_acu) == expected


# --- Refused before synth, naming the setting -------------------------------------------------------


def test_a_maximum_one_task_too_small_is_refused_naming_it(config):
    needed = capacity_of(config).tasks_needed
    # Without a floor or a daily peak above the maximum, which are refused on their own.
    unfloored = _replace(config, "compute", fraud_api_peak=None, fraud_api_min_tasks=1)
    validate(_replace(unfloored, "compute", fraud_api_max_tasks=needed))
    with pytest.raises(ConfigError, match=rf"compute\.fraud_api_max_tasks {needed - 1}: .* raise it to at least {needed}") as raised:
        validate(_replace(unfloored, "compute", fraud_api_max_tasks=needed - 1))
    assert str(raised.value).startswith(f"environment '{config.name}': ") and "\n" not in str(raised.value)


def test_a_pool_one_connection_too_large_is_refused_naming_it(config):
    capacity = capacity_of(config)
    per_connection = TASK_SETS_DURING_DEPLOYMENT * capacity.max_tasks
    others = capacity.connections_needed - capacity.pool_per_task * per_connection
    largest = (capacity.max_connections - 1 - others) // per_connection
    roomy_alarm = _replace(config, "observability", aurora_connections_threshold=capacity.max_connections - 1)
    validate(_replace(roomy_alarm, "compute", fraud_api_db_pool_max_size=largest))
    with pytest.raises(ConfigError, match=rf"compute\.fraud_api_db_pool_max_size {largest + 1} x") as raised:
        validate(_replace(roomy_alarm, "compute", fraud_api_db_pool_max_size=largest + 1))
    assert "data.aurora_max_capacity_acu" in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize(
    "part, changes, message",
    [
        ("compute", {"fraud_api_requests_per_target": 1_000_000}, r"compute\.fraud_api_requests_per_target 1000000 .* at most"),
        ("compute", {"fraud_api_requests_per_target": 1000}, r"compute\.fraud_api_max_tasks"),  # the old target
        ("compute", {"lambda_reserved_concurrency": 1}, r"compute\.lambda_reserved_concurrency 1 drains"),
        ("observability", {"aurora_connections_threshold": 5}, r"observability\.aurora_connections_threshold 5"),
        ("data", {"aurora_max_capacity_acu": 0.5, "aurora_min_capacity_acu": 0.5}, r"data\.aurora_max_capacity_acu must be at least 1"),
        ("edge", {"ingestion_client_burst_limit": 2000, "stage_burst_limit": 5000}, r"compute\.lambda_reserved_concurrency"),
    ],
)
def test_a_setting_that_breaks_the_model_is_refused_naming_it(part, changes, message):
    prod = build_environments()["prod"]
    with pytest.raises(ConfigError, match=message) as raised:
        validate(_replace(prod, part, **changes))
    assert str(raised.value).startswith("environment 'prod': ") and "\n" not in str(raised.value)


# Runs app.py as `cdktf synth` does, with every environment's compute settings changed.
_SYNTH_WITH = """
import runpy, sys
import config.environments as environments
from config.settings import ComputeSettings
def changed(**fields):
    fields.update({changes})
    return ComputeSettings(**fields)
environments.ComputeSettings = changed
sys.argv = ["app.py"]
runpy.run_path("app.py", run_name="__main__")
"""


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"fraud_api_max_tasks": 2}, "error: environment 'dev': compute.fraud_api_max_tasks 2: with one task lost"),
        ({"fraud_api_db_pool_max_size": 100}, "error: environment 'dev': compute.fraud_api_db_pool_max_size 100 x 2 task sets"),
    ],
)
def test_synth_stops_in_one_line_and_writes_nothing(tmp_path, changes, message):
    outdir = tmp_path / "cdktf.out"
    result = subprocess.run(
        [sys.executable, "-c", _SYNTH_WITH.format(changes=repr(changes))],
        cwd=REPO_ROOT,
        env={**os.environ, "CDKTF_OUTDIR": str(outdir)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr
    assert not outdir.exists()


# --- The stacks deploy the model's numbers ----------------------------------------------------------

_REMOTE = re.compile(r"^\$\{data\.terraform_remote_state\.([^.]+)\.outputs\.([^}]+)\}$")
_REF = re.compile(r"^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$")


def _network_group(synthesis, stack, environment: str, reference: str) -> str:
    """The tier of the network layer's security group a remote-state reference names."""
    remote, output = _REMOTE.match(reference).groups()
    assert stack.data_sources("terraform_remote_state")[remote]["config"]["key"] == f"{environment}/network.tfstate"
    network = synthesis.stack(Layer.NETWORK, environment)
    resource_type, logical_id, _ = _REF.match(network.config["output"][output]["value"]).groups()
    assert resource_type == "aws_security_group"
    return network.resources(resource_type)[logical_id]["name"].removeprefix("fraud-").removesuffix(f"-{environment}")


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_stacks_deploy_the_numbers_the_model_counts(synthesis, environment):
    capacity = capacity_of(synthesis.environments[environment])
    compute = synthesis.stack(Layer.COMPUTE, environment)

    target = compute.only("aws_appautoscaling_target")
    assert (target["min_capacity"], target["max_capacity"]) == (capacity.min_tasks, capacity.max_tasks)
    (requests,) = [
        body["target_tracking_scaling_policy_configuration"]
        for body in compute.resources("aws_appautoscaling_policy").values()
        if body["name"] == f"fraud-api-requests-{environment}"
    ]
    assert requests["target_value"] == capacity.requests_per_target_per_minute
    metrics = {metric["id"]: metric for metric in requests["customized_metric_specification"]["metrics"]}
    # Sum of requests per period over the running tasks, with CloudWatch's default 60 s period: per task per minute.
    assert metrics["requests"]["metric_stat"]["stat"] == "Sum" and "period" not in metrics["requests"]["metric_stat"]
    assert metrics["requests_per_task"]["expression"] == "requests / tasks"

    (processor,) = [
        body for body in compute.resources("aws_lambda_function").values() if body["function_name"] == f"fraud-transaction-processor-{environment}"
    ]
    assert processor["reserved_concurrent_executions"] == capacity.processor_reserved_concurrency

    # The pool each serving task opens is the setting, passed explicitly (the service's own default
    # would hide a change of either).
    containers = {
        container["name"]: container
        for task in compute.resources("aws_ecs_task_definition").values()
        for container in json.loads(task["container_definitions"])
    }
    passed = {variable["name"]: variable["value"] for variable in containers["fraud-api"]["environment"]}
    assert passed["DB_POOL_MAX_SIZE"] == str(capacity.pool_per_task)

    cluster = synthesis.stack(Layer.DATA, environment).only("aws_rds_cluster")
    scaling = cluster["serverlessv2_scaling_configuration"]
    assert (scaling["min_capacity"], scaling["max_capacity"]) == (capacity.min_acu, capacity.max_acu)

    edge = synthesis.stack(Layer.EDGE, environment)
    plans = {body["name"]: body for body in edge.resources("aws_api_gateway_usage_plan").values()}
    api, ingestion = plans[f"fraud-api-clients-{environment}"], plans[f"fraud-ingestion-clients-{environment}"]
    assert api["throttle_settings"] == {"rate_limit": capacity.api_client_rate_per_second, "burst_limit": capacity.api_client_burst}
    assert ingestion["throttle_settings"] == {"rate_limit": capacity.ingestion_rate_per_second, "burst_limit": capacity.ingestion_burst}
    for logical_id in (logical for logical, body in edge.resources("aws_api_gateway_usage_plan").items()):
        keys = [key for key in edge.resources("aws_api_gateway_usage_plan_key").values() if key["usage_plan_id"] == f"${{aws_api_gateway_usage_plan.{logical_id}.id}}"]
        assert len(keys) == API_KEYS_PER_PLAN
    (acl,) = edge.resources("aws_wafv2_web_acl").values()
    limits = {rule["name"]: rule["statement"]["rate_based_statement"]["limit"] for rule in acl["rule"] if "rate_based_statement" in rule["statement"]}
    assert (limits["rate-per-key-api"], limits["rate-per-key-transactions"], limits["rate-keyed-per-ip"]) == (
        capacity.waf_per_key_api,
        capacity.waf_per_key_transactions,
        capacity.waf_keyed_per_ip,
    )

    alarms = synthesis.stack(Layer.OBSERVABILITY, environment).resources("aws_cloudwatch_metric_alarm").values()
    (connections,) = [alarm for alarm in alarms if alarm.get("metric_name") == "DatabaseConnections"]
    assert connections["threshold"] == capacity.connections_alarm_threshold


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_only_fraud_api_and_its_migration_task_can_reach_the_database(synthesis, environment):
    """What lets the model count no Lambda among Aurora's clients: the database's group admits the
    serving tasks' and the migration task's groups alone, and no function of any layer wears them."""
    network = synthesis.stack(Layer.NETWORK, environment)
    groups = {f"${{aws_security_group.{logical}.id}}": body["name"] for logical, body in network.resources("aws_security_group").items()}
    database = f"fraud-database-{environment}"
    admitted = {
        groups[rule["referenced_security_group_id"]]
        for rule in network.resources("aws_vpc_security_group_ingress_rule").values()
        if groups[rule["security_group_id"]] == database
    }
    assert admitted == {f"fraud-application-{environment}", f"fraud-migration-{environment}"}
    functions = [
        (stack, body) for stack in synthesis.stacks() if stack.name.endswith(f"-{environment}") for body in stack.resources("aws_lambda_function").values()
    ]
    assert len(functions) == 3  # the processor, the analyzer, the API-config rotation
    for stack, function in functions:
        tiers = {_network_group(synthesis, stack, environment, group) for group in function["vpc_config"]["security_group_ids"]}
        assert tiers == {"lambda"}, function["function_name"]


# --- docs/capacity.md's table is the model's ---------------------------------------------------------

DOC = REPO_ROOT / "docs" / "capacity.md"


def _per_environment(label: str, values) -> str:
    return f"| {label} | " + " | ".join(values) + " |"


def render_capacity_table(environments) -> str:
    """The table of docs/capacity.md, from the model of each environment."""
    models = [capacity_of(config) for config in environments.values()]
    knee_share = f"{REQUEST_TARGET_SHARE_OF_KNEE:.0%} of the {FRAUD_API_TASK_KNEE_PER_SECOND} req/s knee"

    def tasks(model) -> str:
        peak = f" ({model.peak_min_tasks} at the daily peak)" if model.peak_min_tasks else ""
        return f"{model.min_tasks}–{model.max_tasks}{peak}"

    def others(model) -> str:
        clients = {client.name: client.connections for client in model.aurora_clients}
        return f"{clients['schema migration task']} + {clients['RDS and operators']} + {RESERVED_SLOTS}"

    rows = [
        ("API-client plan per key: rate / burst", lambda m: f"{m.api_client_rate_per_second:,} / {m.api_client_burst:,} req/s"),
        ("ingestion plan per key: rate / burst / quota", lambda m: f"{m.ingestion_rate_per_second} / {m.ingestion_burst} req/s, {m.ingestion_quota_per_day:,}/day"),
        ("API keys per plan", lambda m: str(API_KEYS_PER_PLAN)),
        ("stage throttle, all keys together", lambda m: f"{m.stage_rate_per_second:,} req/s"),
        (f"WAF per key, `/api/*` (per {WAF_RATE_WINDOW_SECONDS} s)", lambda m: f"{m.waf_per_key_api:,} ≥ {m.api_admitted_per_window:,} admitted"),
        (f"WAF per key, `POST /transactions` (per {WAF_RATE_WINDOW_SECONDS} s)", lambda m: f"{m.waf_per_key_transactions:,} ≥ {m.ingestion_admitted_per_window:,} admitted"),
        (f"WAF keyed requests per IP (per {WAF_RATE_WINDOW_SECONDS} s)", lambda m: f"{m.waf_keyed_per_ip:,}"),
        ("fraud-api tasks, min–max", tasks),
        ("request target per task", lambda m: f"{m.requests_per_target_per_minute:,}/min = {m.target_per_second:g} req/s"),
        ("one task lost: (max − 1) × target", lambda m: f"{m.one_task_lost_per_second:,.0f} ≥ {m.api_client_sold_per_second:,} req/s sold"),
        ("every task at its knee", lambda m: f"{m.fleet_ceiling_per_second:,} req/s"),
        ("DB pool per task", lambda m: str(m.pool_per_task)),
        (f"fraud-api connections at most (pool × max × {TASK_SETS_DURING_DEPLOYMENT} task sets)", lambda m: f"{m.aurora_clients[0].connections:,}"),
        ("+ migration + RDS and operators + reserved slots", others),
        ("connections needed < `max_connections`", lambda m: f"{m.connections_needed:,} < {m.max_connections:,}"),
        ("connections alarm (pools at max tasks ≤ it)", lambda m: f"{m.connections_alarm_threshold} (≥ {m.fraud_api_steady_connections})"),
        ("Aurora capacity range", lambda m: f"{m.min_acu:g}–{m.max_acu:g} ACU"),
        ("transaction-processor reserved concurrency", lambda m: str(m.processor_reserved_concurrency)),
        (
            f"processor drains at {PROCESSOR_INVOCATION_SECONDS * 1000:g} ms each ≥ ingestion's first second",
            lambda m: f"{m.processor_per_second:g}/s ≥ {m.ingestion_first_second}",
        ),
    ]
    lines = [f"| | {' | '.join(environments)} |", "| --- | " + " | ".join("---:" for _ in environments) + " |"]
    lines += [_per_environment(label, [value(model) for model in models]) for label, value in rows]
    lines += ["", f"The request target is {knee_share}; connections count Aurora's `max_connections` by AWS's documented rule (below)."]
    return "\n".join(lines)


def test_docs_table_is_the_model_of_every_environment():
    from scripts.checkov_exceptions import read_block

    expected = render_capacity_table(build_environments())
    assert read_block(DOC.read_text(), "capacity-table") == expected, "paste into docs/capacity.md:\n" + expected
