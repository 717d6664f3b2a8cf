"""What moto's server lacks for the stacks' resources, added to it before it serves.

Each addition is one API operation, or one attribute, that the AWS provider 5.100.0 calls or reads
back when it creates, reads, updates, tags or destroys a resource the stacks declare, and that
moto 5.2.5 does not serve, or accepts and then leaves out of its answers (which makes every plan
after a deploy show a change that nothing would make); each follows the AWS API reference. Where moto has a
model for the resource (CodeDeploy, Application Auto Scaling, SQS, Secrets Manager, API Gateway usage
plans) the addition works on it; X-Ray sampling rules and groups and ECR pull-through cache rules,
which moto has no model for, get a small one here. One more keeps moto's threaded server from
racing on EC2 tags.

Written against moto 5.2.5 exactly (pinned in pyproject.toml): the additions reach into moto's
models, so `install` refuses any other version rather than patch code it was not checked
against. `scripts/emulator_server.py` installs them and starts moto's server, which is what
`scripts/emulator.py` runs. What the emulator still cannot serve is in config/targets.py
(`EMULATOR_GAPS`); tests/scripts/test_moto_additions.py calls every addition through boto3.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
import uuid
from typing import Any

import moto

PINNED_MOTO_VERSION = "5.2.5"

_installed = False


def install() -> None:
    """Add everything below to moto; calling it again changes nothing."""
    global _installed
    if _installed:
        return
    if moto.__version__ != PINNED_MOTO_VERSION:
        raise RuntimeError(
            f"scripts/moto_additions.py was written against moto {PINNED_MOTO_VERSION} and found {moto.__version__}: "
            "run tests/scripts/test_moto_additions.py against the new version, fix what fails, then move PINNED_MOTO_VERSION"
        )
    _add_codedeploy_operations()
    _add_application_autoscaling_tags()
    _add_xray_sampling_rules_and_groups()
    _add_sqs_redrive_allow_policy()
    _allow_cancelling_managed_rotation()
    _add_ecr_pull_through_cache_rules()
    _detach_usage_plan_stages_with_method_throttles()
    # What moto accepts but does not give back, so every refresh plans a change nothing would make.
    _return_security_group_rule_descriptions()
    _keep_lambda_logging_config()
    _leave_out_serverless_v1_scaling_of_provisioned_clusters()
    _keep_db_instance_performance_insights()
    _keep_ecs_service_settings()
    _size_fargate_tasks_by_the_task()
    _return_sns_topic_settings()
    _return_redrive_policy_as_aws_writes_it()
    _keep_api_gateway_integration_connection_id()
    _keep_network_load_balancer_private_link_enforcement()
    # What moto's threaded server races on.
    _serialize_ec2_tag_access()
    _installed = True


# CodeDeploy: DeleteApplication, DeleteDeploymentGroup, UpdateDeploymentGroup, and the alarms
# GetDeploymentGroup leaves out.


def _add_codedeploy_operations() -> None:
    from moto.codedeploy import responses
    from moto.codedeploy.exceptions import (
        ApplicationDoesNotExistException,
        DeploymentGroupAlreadyExistsException,
        DeploymentGroupDoesNotExistException,
    )
    from moto.core.responses import ActionResult, EmptyResult

    def application_of(backend: Any, name: str) -> Any:
        if name not in backend.applications:
            raise ApplicationDoesNotExistException(f"The application {name} does not exist with the user or AWS account.")
        return backend.applications[name]

    def group_of(backend: Any, application: str, name: str) -> Any:
        application_of(backend, application)
        if name not in backend.deployment_groups.get(application, {}):
            raise DeploymentGroupDoesNotExistException(f"The deployment group {name} does not exist with the user or AWS account.")
        return backend.deployment_groups[application][name]

    def delete_application(self: Any) -> Any:
        backend, name = self.codedeploy_backend, self._get_param("applicationName")
        application_of(backend, name)
        # The application's deployment groups go with it, as on AWS.
        for group in backend.deployment_groups.pop(name, {}):
            backend.tagger.delete_all_tags_for_resource(backend._deployment_group_arn(name, group))
        backend.tagger.delete_all_tags_for_resource(backend._application_arn(name))
        del backend.applications[name]
        return EmptyResult()

    def delete_deployment_group(self: Any) -> Any:
        backend = self.codedeploy_backend
        application, name = self._get_param("applicationName"), self._get_param("deploymentGroupName")
        group_of(backend, application, name)
        del backend.deployment_groups[application][name]
        backend.tagger.delete_all_tags_for_resource(backend._deployment_group_arn(application, name))
        return ActionResult({"hooksNotCleanedUp": []})

    # Request member -> DeploymentGroup attribute. A member the request leaves out keeps its value.
    updatable = {
        "deploymentConfigName": "deployment_config_name",
        "ec2TagFilters": "ec2_tag_filters",
        "onPremisesInstanceTagFilters": "on_premises_instance_tag_filters",
        "autoScalingGroups": "auto_scaling_groups",
        "serviceRoleArn": "service_role_arn",
        "triggerConfigurations": "trigger_configurations",
        "alarmConfiguration": "alarm_configuration",
        "autoRollbackConfiguration": "auto_rollback_configuration",
        "outdatedInstancesStrategy": "outdated_instances_strategy",
        "deploymentStyle": "deployment_style",
        "blueGreenDeploymentConfiguration": "blue_green_deployment_configuration",
        "loadBalancerInfo": "load_balancer_info",
        "ec2TagSet": "ec2_tag_set",
        "ecsServices": "ecs_services",
        "onPremisesTagSet": "on_premises_tag_set",
        "terminationHookEnabled": "termination_hook_enabled",
    }

    def update_deployment_group(self: Any) -> Any:
        backend = self.codedeploy_backend
        application, current = self._get_param("applicationName"), self._get_param("currentDeploymentGroupName")
        group = group_of(backend, application, current)
        new_name = self._get_param("newDeploymentGroupName")
        if new_name and new_name != current:
            if new_name in backend.deployment_groups[application]:
                raise DeploymentGroupAlreadyExistsException(f"Deployment group {new_name} already exists.")
            old_arn = backend._deployment_group_arn(application, current)
            backend.tagger.copy_tags(old_arn, backend._deployment_group_arn(application, new_name))
            backend.tagger.delete_all_tags_for_resource(old_arn)
            backend.deployment_groups[application][new_name] = backend.deployment_groups[application].pop(current)
            group.deployment_group_name = new_name
        for member, attribute in updatable.items():
            value = self._get_param(member)
            if value is not None:
                setattr(group, attribute, value)
        return ActionResult({"hooksNotCleanedUp": []})

    # moto answers GetDeploymentGroup with an empty alarmConfiguration whatever the group holds.
    deployment_group_info = responses._deployment_group_info

    def deployment_group_info_with_alarms(group: Any) -> dict[str, Any]:
        return {
            **deployment_group_info(group),
            "alarmConfiguration": group.alarm_configuration or {"enabled": False, "ignorePollAlarmFailure": False, "alarms": []},
        }

    responses._deployment_group_info = deployment_group_info_with_alarms
    responses.CodeDeployResponse.delete_application = delete_application
    responses.CodeDeployResponse.delete_deployment_group = delete_deployment_group
    responses.CodeDeployResponse.update_deployment_group = update_deployment_group


# Application Auto Scaling: tags on scalable targets (RegisterScalableTarget's Tags,
# ListTagsForResource, TagResource, UntagResource). The tags live on moto's target object, so
# they go when the target is deregistered.


def _add_application_autoscaling_tags() -> None:
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
    from moto.core.exceptions import JsonRESTError

    def target_of(backend: Any, arn: str) -> Any:
        for by_resource in backend.targets.values():
            for target in by_resource.values():
                if target.arn == arn:
                    return target
        raise JsonRESTError("ResourceNotFoundException", f"No scalable target found for ARN {arn}")

    register = ApplicationAutoScalingResponse.register_scalable_target

    def register_scalable_target(self: Any) -> str:
        backend = self.applicationautoscaling_backend
        is_new = not backend._scalable_target_exists(self._get_param("ResourceId"), self._get_param("ScalableDimension"))
        body = register(self)
        target = target_of(backend, json.loads(body)["ScalableTargetARN"])
        # Tags apply when the target is created; AWS ignores them when an existing target is updated.
        if is_new:
            target.tags = dict(self._get_param("Tags") or {})
        return body

    def list_tags_for_resource(self: Any) -> str:
        target = target_of(self.applicationautoscaling_backend, self._get_param("ResourceARN"))
        return json.dumps({"Tags": getattr(target, "tags", {})})

    def tag_resource(self: Any) -> str:
        target = target_of(self.applicationautoscaling_backend, self._get_param("ResourceARN"))
        target.tags = {**getattr(target, "tags", {}), **self._get_param("Tags")}
        return "{}"

    def untag_resource(self: Any) -> str:
        target = target_of(self.applicationautoscaling_backend, self._get_param("ResourceARN"))
        removed = set(self._get_param("TagKeys"))
        target.tags = {key: value for key, value in getattr(target, "tags", {}).items() if key not in removed}
        return "{}"

    ApplicationAutoScalingResponse.register_scalable_target = register_scalable_target
    ApplicationAutoScalingResponse.list_tags_for_resource = list_tags_for_resource
    ApplicationAutoScalingResponse.tag_resource = tag_resource
    ApplicationAutoScalingResponse.untag_resource = untag_resource


# X-Ray: sampling rules and groups (create, get, update, delete) and their tags. moto's X-Ray
# serves traces only; this is the control plane the provider manages.

_SAMPLING_RULE_REQUIRED = ("ResourceARN", "Priority", "FixedRate", "ReservoirSize", "ServiceName", "ServiceType", "Host", "HTTPMethod", "URLPath", "Version")


class _XRayControlPlane:
    """One account and region's sampling rules and groups, kept on moto's X-Ray backend."""

    def __init__(self, account_id: str, region: str) -> None:
        from moto.utilities.tagging_service import TaggingService

        self.arn_prefix = f"arn:aws:xray:{region}:{account_id}"
        self.rules: dict[str, dict[str, Any]] = {}  # name -> SamplingRuleRecord
        self.groups: dict[str, dict[str, Any]] = {}  # name -> Group
        self.tags = TaggingService()

    @staticmethod
    def of(backend: Any) -> _XRayControlPlane:
        # In the backend's __dict__, so moto's reset (which empties it) forgets these too.
        if "control_plane" not in backend.__dict__:
            backend.__dict__["control_plane"] = _XRayControlPlane(backend.account_id, backend.region_name)
        return backend.__dict__["control_plane"]

    def rule(self, name: str | None, arn: str | None) -> dict[str, Any]:
        for record in self.rules.values():
            if record["SamplingRule"]["RuleName"] == name or record["SamplingRule"]["RuleARN"] == arn:
                return record
        raise _xray_error("InvalidRequestException", "Sampling rule does not exist")

    def group(self, name: str | None, arn: str | None) -> dict[str, Any]:
        for group in self.groups.values():
            if group["GroupName"] == name or group["GroupARN"] == arn:
                return group
        raise _xray_error("InvalidRequestException", "Group not found")

    def tagged(self, arn: str) -> str:
        known = {record["SamplingRule"]["RuleARN"] for record in self.rules.values()} | {group["GroupARN"] for group in self.groups.values()}
        if arn not in known:
            raise _xray_error("ResourceNotFoundException", f"Resource {arn} not found")
        return arn


def _xray_error(code: str, message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(code, message)


def _validated_sampling_rule(rule: dict[str, Any]) -> dict[str, Any]:
    missing = [member for member in ("RuleName", *_SAMPLING_RULE_REQUIRED) if rule.get(member) is None]
    if missing:
        raise _xray_error("InvalidRequestException", f"SamplingRule is missing {', '.join(missing)}")
    if not 1 <= len(rule["RuleName"]) <= 32:
        raise _xray_error("InvalidRequestException", "RuleName must be 1 to 32 characters")
    if rule["Version"] != 1:
        raise _xray_error("InvalidRequestException", "Version must be 1")
    _check_sampling_rule_ranges(rule)
    return rule


def _check_sampling_rule_ranges(rule: dict[str, Any]) -> None:
    if "Priority" in rule and not 1 <= rule["Priority"] <= 9999:
        raise _xray_error("InvalidRequestException", "Priority must be between 1 and 9999")
    if "FixedRate" in rule and not 0 <= rule["FixedRate"] <= 1:
        raise _xray_error("InvalidRequestException", "FixedRate must be between 0 and 1")
    if "ReservoirSize" in rule and rule["ReservoirSize"] < 0:
        raise _xray_error("InvalidRequestException", "ReservoirSize must not be negative")


def _add_xray_sampling_rules_and_groups() -> None:
    from moto.xray import urls
    from moto.xray.responses import XRayResponse

    def plane(self: Any) -> _XRayControlPlane:
        return _XRayControlPlane.of(self.xray_backend)

    def create_sampling_rule(self: Any) -> str:
        store = plane(self)
        rule = _validated_sampling_rule(dict(self._get_param("SamplingRule") or {}))
        if rule["RuleName"] in store.rules:
            raise _xray_error("InvalidRequestException", f"A sampling rule named {rule['RuleName']} already exists")
        rule["RuleARN"] = f"{store.arn_prefix}:sampling-rule/{rule['RuleName']}"
        rule.setdefault("Attributes", {})
        now = time.time()
        record = store.rules[rule["RuleName"]] = {"SamplingRule": rule, "CreatedAt": now, "ModifiedAt": now}
        store.tags.tag_resource(rule["RuleARN"], self._get_param("Tags") or [])
        return json.dumps({"SamplingRuleRecord": record})

    def get_sampling_rules(self: Any) -> str:
        return json.dumps({"SamplingRuleRecords": list(plane(self).rules.values())})

    def update_sampling_rule(self: Any) -> str:
        update = dict(self._get_param("SamplingRuleUpdate") or {})
        record = plane(self).rule(update.pop("RuleName", None), update.pop("RuleARN", None))
        _check_sampling_rule_ranges(update)
        record["SamplingRule"].update({member: value for member, value in update.items() if value is not None})
        record["ModifiedAt"] = time.time()
        return json.dumps({"SamplingRuleRecord": record})

    def delete_sampling_rule(self: Any) -> str:
        store = plane(self)
        record = store.rule(self._get_param("RuleName"), self._get_param("RuleARN"))
        del store.rules[record["SamplingRule"]["RuleName"]]
        store.tags.delete_all_tags_for_resource(record["SamplingRule"]["RuleARN"])
        return json.dumps({"SamplingRuleRecord": record})

    def create_group(self: Any) -> str:
        store = plane(self)
        name, expression = self._get_param("GroupName"), self._get_param("FilterExpression")
        if not name or not 1 <= len(name) <= 32:
            raise _xray_error("InvalidRequestException", "GroupName must be 1 to 32 characters")
        if name in store.groups:
            raise _xray_error("InvalidRequestException", f"Group {name} already exists")
        group = store.groups[name] = {
            "GroupName": name,
            "GroupARN": f"{store.arn_prefix}:group/{name}/{uuid.uuid4().hex.upper()[:26]}",
            "FilterExpression": expression,
            "InsightsConfiguration": _insights(self._get_param("InsightsConfiguration")),
        }
        store.tags.tag_resource(group["GroupARN"], self._get_param("Tags") or [])
        return json.dumps({"Group": group})

    def get_group(self: Any) -> str:
        return json.dumps({"Group": plane(self).group(self._get_param("GroupName"), self._get_param("GroupARN"))})

    def groups(self: Any) -> str:  # GetGroups, served at /Groups
        return json.dumps({"Groups": list(plane(self).groups.values())})

    def update_group(self: Any) -> str:
        group = plane(self).group(self._get_param("GroupName"), self._get_param("GroupARN"))
        if self._get_param("FilterExpression") is not None:
            group["FilterExpression"] = self._get_param("FilterExpression")
        if self._get_param("InsightsConfiguration") is not None:
            group["InsightsConfiguration"] = _insights({**group["InsightsConfiguration"], **self._get_param("InsightsConfiguration")})
        return json.dumps({"Group": group})

    def delete_group(self: Any) -> str:
        store = plane(self)
        group = store.group(self._get_param("GroupName"), self._get_param("GroupARN"))
        del store.groups[group["GroupName"]]
        store.tags.delete_all_tags_for_resource(group["GroupARN"])
        return "{}"

    def list_tags_for_resource(self: Any) -> str:
        store = plane(self)
        return json.dumps(store.tags.list_tags_for_resource(store.tagged(self._get_param("ResourceARN"))))

    def tag_resource(self: Any) -> str:
        store = plane(self)
        store.tags.tag_resource(store.tagged(self._get_param("ResourceARN")), self._get_param("Tags") or [])
        return "{}"

    def untag_resource(self: Any) -> str:
        store = plane(self)
        store.tags.untag_resource_using_names(store.tagged(self._get_param("ResourceARN")), self._get_param("TagKeys") or [])
        return "{}"

    operations = {
        "CreateSamplingRule": create_sampling_rule, "GetSamplingRules": get_sampling_rules,
        "UpdateSamplingRule": update_sampling_rule, "DeleteSamplingRule": delete_sampling_rule,
        "CreateGroup": create_group, "GetGroup": get_group, "Groups": groups, "UpdateGroup": update_group,
        "DeleteGroup": delete_group, "ListTagsForResource": list_tags_for_resource, "TagResource": tag_resource,
        "UntagResource": untag_resource,
    }
    for path, handler in operations.items():
        # XRayResponse takes the action from the request path (/CreateGroup -> create_group).
        setattr(XRayResponse, handler.__name__, handler)
        urls.url_paths["{0}/" + path + "$"] = XRayResponse.dispatch


def _insights(configuration: dict[str, Any] | None) -> dict[str, bool]:
    # AWS reports both switches, off unless set.
    configuration = configuration or {}
    return {
        "InsightsEnabled": bool(configuration.get("InsightsEnabled", False)),
        "NotificationsEnabled": bool(configuration.get("NotificationsEnabled", False)),
    }


# SQS: the RedriveAllowPolicy attribute, which moto neither returns nor accepts by name, and
# SetQueueAttributes keeping a queue's Policy when the request does not name it (moto drops it).

_REDRIVE_PERMISSIONS = ("allowAll", "denyAll", "byQueue")


def _add_sqs_redrive_allow_policy() -> None:
    from moto.sqs.exceptions import InvalidParameterValue
    from moto.sqs.models import Queue

    def check(document: str) -> None:
        try:
            policy = json.loads(document)
        except ValueError:
            raise InvalidParameterValue("Value for parameter RedriveAllowPolicy is invalid. Reason: not valid JSON.") from None
        permission = policy.get("redrivePermission") if isinstance(policy, dict) else None
        if permission not in _REDRIVE_PERMISSIONS:
            raise InvalidParameterValue(f"Value for parameter RedriveAllowPolicy is invalid. Reason: redrivePermission must be one of {', '.join(_REDRIVE_PERMISSIONS)}.")
        sources = policy.get("sourceQueueArns")
        if (permission == "byQueue") != bool(sources) or len(sources or []) > 10:
            raise InvalidParameterValue("Value for parameter RedriveAllowPolicy is invalid. Reason: sourceQueueArns (1 to 10) goes with byQueue only.")

    set_attributes = Queue._set_attributes

    def _set_attributes(self: Any, attributes: dict[str, Any], now: float | None = None) -> None:
        if attributes.get("RedriveAllowPolicy"):
            check(attributes["RedriveAllowPolicy"])
        kept_policy = getattr(self, "policy", None)
        set_attributes(self, attributes, now)
        if "Policy" not in attributes:
            self.policy = kept_policy
        if "RedriveAllowPolicy" in attributes and not attributes["RedriveAllowPolicy"]:
            self.redrive_allow_policy = None  # an empty value removes it

    Queue.redrive_allow_policy = None
    Queue.BASE_ATTRIBUTES = [*Queue.BASE_ATTRIBUTES, "RedriveAllowPolicy"]
    Queue._set_attributes = _set_attributes


# Secrets Manager: CancelRotateSecret for a secret whose rotation Secrets Manager runs itself
# (no Lambda: the RDS-managed master user secret). moto refuses it for want of a Lambda.


def _allow_cancelling_managed_rotation() -> None:
    from moto.secretsmanager.models import ReplicaSecret, SecretsManagerBackend

    cancel_rotate_secret = SecretsManagerBackend.cancel_rotate_secret

    def cancel_managed_rotation(self: Any, secret_id: str) -> str:
        secret = self.secrets[secret_id] if self._is_valid_identifier(secret_id) else None
        managed = (
            secret is not None and not isinstance(secret, ReplicaSecret) and not secret.is_deleted()
            and secret.rotation_enabled and not secret.rotation_lambda_arn
        )
        if not managed:
            return cancel_rotate_secret(self, secret_id)
        secret.rotation_enabled = False
        return secret.to_short_dict()

    SecretsManagerBackend.cancel_rotate_secret = cancel_managed_rotation


# EC2: a security group rule that references another group keeps its description; moto's
# DescribeSecurityGroupRules reads it only from CIDR rules.


def _return_security_group_rule_descriptions() -> None:
    from moto.ec2.models.security_groups import SecurityGroupRule

    def description(self: Any) -> str | None:
        return self.ip_range.get("Description") or self.source_group.get("Description")

    SecurityGroupRule.description = property(description)


# Lambda: LoggingConfig, which moto ignores. AWS answers with the log group it writes to and, for
# JSON logs, the levels it applies when none are given (INFO).


def _keep_lambda_logging_config() -> None:
    from moto.awslambda.models import LambdaFunction

    init, get_configuration, update_configuration = LambdaFunction.__init__, LambdaFunction.get_configuration, LambdaFunction.update_configuration

    def __init__(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        init(self, account_id, spec, *args, **kwargs)
        self.logging_config = spec.get("LoggingConfig") or {}

    def logging_config_as_aws_reports_it(self: Any) -> dict[str, str]:
        configured = getattr(self, "logging_config", {})
        reported = {"LogFormat": configured.get("LogFormat", "Text"), "LogGroup": configured.get("LogGroup", f"/aws/lambda/{self.function_name}")}
        if reported["LogFormat"] == "JSON":
            reported["ApplicationLogLevel"] = configured.get("ApplicationLogLevel", "INFO")
            reported["SystemLogLevel"] = configured.get("SystemLogLevel", "INFO")
        return reported

    def get_configuration_with_logging(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {**get_configuration(self, *args, **kwargs), "LoggingConfig": logging_config_as_aws_reports_it(self)}

    def update_configuration_with_logging(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if config_updates.get("LoggingConfig") is not None:
            self.logging_config = config_updates["LoggingConfig"]
        return update_configuration(self, config_updates)

    LambdaFunction.__init__ = __init__
    LambdaFunction.get_configuration = get_configuration_with_logging
    LambdaFunction.update_configuration = update_configuration_with_logging


# RDS: a provisioned (Serverless v2) cluster has no Serverless v1 ScalingConfigurationInfo; moto
# answers with an empty one, which the provider reads as a scaling block of defaults to apply.


def _leave_out_serverless_v1_scaling_of_provisioned_clusters() -> None:
    from moto.rds.models import DBCluster

    scaling_configuration_info = DBCluster.scaling_configuration_info.fget

    def only_for_serverless_v1(self: Any) -> dict[str, Any] | None:
        return scaling_configuration_info(self) if self.engine_mode == "serverless" else None

    DBCluster.scaling_configuration_info = property(only_for_serverless_v1)


# RDS: a DB instance's Performance Insights settings, which moto drops on create and modify. AWS
# keeps insights 7 days unless told otherwise.


def _keep_db_instance_performance_insights() -> None:
    from moto.rds.models import DBInstance, RDSBackend

    create_db_instance = RDSBackend.create_db_instance
    update = DBInstance.update

    def apply_insights(instance: Any, settings: dict[str, Any]) -> None:
        enabled = settings.get("enable_performance_insights")
        if enabled is not None:
            instance.performance_insights_enabled = bool(enabled)
        if instance.performance_insights_enabled:
            instance.performance_insights_kms_key_id = settings.get("performance_insights_kms_key_id") or instance.performance_insights_kms_key_id
            instance.performance_insights_retention_period = (
                settings.get("performance_insights_retention_period") or instance.performance_insights_retention_period or 7
            )

    def create_with_insights(self: Any, db_kwargs: dict[str, Any]) -> Any:
        instance = create_db_instance(self, db_kwargs)
        apply_insights(instance, db_kwargs)
        return instance

    def update_with_insights(self: Any, *args: Any, **db_kwargs: Any) -> None:
        insights = {key: db_kwargs.pop(key) for key in ("enable_performance_insights", "performance_insights_kms_key_id", "performance_insights_retention_period") if key in db_kwargs}
        update(self, *args, **db_kwargs)
        apply_insights(self, insights)

    DBInstance.performance_insights_enabled = False
    DBInstance.performance_insights_kms_key_id = None
    DBInstance.performance_insights_retention_period = None
    RDSBackend.create_db_instance = create_with_insights
    DBInstance.update = update_with_insights


# ECS: three CreateService settings moto drops (UpdateService already keeps them).

_ECS_SERVICE_SETTINGS = {
    "availabilityZoneRebalancing": "availability_zone_rebalancing",
    "enableECSManagedTags": "enable_ecs_managed_tags",
    "healthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
}


def _keep_ecs_service_settings() -> None:
    from moto.ecs.responses import EC2ContainerServiceResponse

    create_service = EC2ContainerServiceResponse.create_service

    def create_service_with_settings(self: Any) -> Any:
        result = create_service(self)
        service = result.result["service"]
        for member, attribute in _ECS_SERVICE_SETTINGS.items():
            if self._get_param(member) is not None:
                setattr(service, attribute, self._get_param(member))
        return result

    EC2ContainerServiceResponse.create_service = create_service_with_settings


# ECS: RunTask of a Fargate task definition whose containers set no memory of their own (Fargate
# sizes the task, so they need not) fails in moto, which adds up the containers' memory to place
# the task on an EC2 instance. A Fargate task takes what its task definition asks for.


def _size_fargate_tasks_by_the_task() -> None:
    from moto.ecs.models import EC2ContainerServiceBackend

    size_by_containers = EC2ContainerServiceBackend._calculate_task_resource_requirements

    def size(task_definition: Any) -> dict[str, Any]:
        if "FARGATE" in (task_definition.requires_compatibilities or []):
            return {"CPU": int(task_definition.cpu or 0), "MEMORY": int(task_definition.memory or 0), "PORTS": [], "PORTS_UDP": []}
        return size_by_containers(task_definition)

    EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(size)


# SNS: topic attributes moto stores (CreateTopic, SetTopicAttributes) but leaves out of
# GetTopicAttributes.

_SNS_TOPIC_SETTINGS = (
    "SignatureVersion", "TracingConfig",
    *(f"{protocol}{outcome}FeedbackRoleArn" for protocol in ("HTTP", "Lambda", "SQS", "Application", "Firehose") for outcome in ("Success", "Failure")),
    *(f"{protocol}SuccessFeedbackSampleRate" for protocol in ("HTTP", "Lambda", "SQS", "Application", "Firehose")),
)


def _return_sns_topic_settings() -> None:
    from moto.core.utils import camelcase_to_underscores
    from moto.sns.responses import SNSResponse

    get_topic_attributes = SNSResponse.get_topic_attributes

    def get_topic_attributes_with_settings(self: Any) -> Any:
        result = get_topic_attributes(self)
        topic = self.backend.get_topic(self._get_param("TopicArn"))
        for name in _SNS_TOPIC_SETTINGS:
            value = getattr(topic, camelcase_to_underscores(name), None)
            if value not in (None, ""):
                result.result["Attributes"][name] = str(value)
        return result

    SNSResponse.get_topic_attributes = get_topic_attributes_with_settings


# SQS: RedrivePolicy as AWS returns it (compact JSON); moto re-serialises it with spaces, which the
# provider reports as a change on every plan.


def _return_redrive_policy_as_aws_writes_it() -> None:
    from moto.sqs.models import Queue

    attributes = Queue.attributes.fget

    def attributes_with_compact_redrive_policy(self: Any) -> dict[str, Any]:
        result = attributes(self)
        if self.redrive_policy:
            result["RedrivePolicy"] = json.dumps(self.redrive_policy, separators=(",", ":"))
        return result

    Queue.attributes = property(attributes_with_compact_redrive_policy)


# API Gateway: an integration's connectionId (the VPC link of a VPC_LINK integration), which
# moto's PutIntegration drops.


def _keep_api_gateway_integration_connection_id() -> None:
    from moto.apigateway.models import Integration
    from moto.apigateway.responses import APIGatewayResponse

    put_integration, to_json = APIGatewayResponse.put_integration, Integration.to_json

    def put_integration_with_connection(self: Any) -> Any:
        status, headers, _ = put_integration(self)
        _, _, rest_api_id, _, resource_id, _, method = self.path.split("/")[:7]
        integration = self.backend.get_integration(rest_api_id, resource_id, method)
        integration.connection_id = self._get_param("connectionId")
        return status, headers, json.dumps(integration.to_json())

    def to_json_with_connection(self: Any) -> dict[str, Any]:
        answer = to_json(self)
        if getattr(self, "connection_id", None):
            answer["connectionId"] = self.connection_id
        return answer

    APIGatewayResponse.put_integration = put_integration_with_connection
    Integration.to_json = to_json_with_connection


# ECR: pull-through cache rules (create, describe, update, delete), which moto has no model for.
# ECR creates the cache repositories on the first pull through a rule; no task pulls on the emulator.

# Upstream registry URL -> the name AWS reports for it, and whether a rule needs a Secrets Manager
# credential (`ecr-pullthroughcache/...`) to reach it.
_PULL_THROUGH_UPSTREAMS = {
    "public.ecr.aws": ("ecr-public", False),
    "registry.k8s.io": ("k8s", False),
    "quay.io": ("quay", False),
    "registry-1.docker.io": ("docker-hub", True),
    "ghcr.io": ("github-container-registry", True),
    "registry.gitlab.com": ("gitlab-container-registry", True),
}
_CACHE_REPOSITORY_PREFIX = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*/?|ROOT")


def _add_ecr_pull_through_cache_rules() -> None:
    from moto.core.exceptions import ServiceException
    from moto.ecr.exceptions import InvalidParameterException
    from moto.ecr.responses import ECRResponse

    class PullThroughCacheRuleAlreadyExistsException(ServiceException):
        code = "PullThroughCacheRuleAlreadyExistsException"

    class PullThroughCacheRuleNotFoundException(ServiceException):
        code = "PullThroughCacheRuleNotFoundException"

    def rules_of(self: Any) -> dict[str, dict[str, Any]]:
        # In the backend's __dict__, so moto's reset forgets them with the rest of the registry.
        return self.ecr_backend.__dict__.setdefault("pull_through_cache_rules", {})

    def rule_of(self: Any, prefix: str | None) -> dict[str, Any]:
        rule = rules_of(self).get(prefix or "")
        if rule is None:
            raise PullThroughCacheRuleNotFoundException(f"The pull-through cache rule with prefix '{prefix}' does not exist in the registry with id '{self.ecr_backend.account_id}'")
        return rule

    def create_pull_through_cache_rule(self: Any) -> str:
        prefix, upstream = self._get_param("ecrRepositoryPrefix"), self._get_param("upstreamRegistryUrl")
        if not prefix or not 2 <= len(prefix) <= 30 or not _CACHE_REPOSITORY_PREFIX.fullmatch(prefix):
            raise InvalidParameterException(f"Invalid parameter at 'ecrRepositoryPrefix': '{prefix}' must be ROOT or 2 to 30 lowercase letters, digits, '.', '_', '-' and '/'")
        if upstream not in _PULL_THROUGH_UPSTREAMS:
            raise InvalidParameterException(f"Invalid parameter at 'upstreamRegistryUrl': {upstream} is not a supported upstream registry")
        registry, needs_credential = _PULL_THROUGH_UPSTREAMS[upstream]
        credential = self._get_param("credentialArn")
        if needs_credential != bool(credential):
            raise InvalidParameterException(f"Invalid parameter at 'credentialArn': {upstream} {'needs' if needs_credential else 'takes no'} credential")
        if prefix in rules_of(self):
            raise PullThroughCacheRuleAlreadyExistsException(f"A pull-through cache rule with prefix '{prefix}' already exists")
        now = time.time()
        rule = {
            "ecrRepositoryPrefix": prefix, "upstreamRegistryUrl": upstream, "createdAt": now, "updatedAt": now,
            "registryId": self.ecr_backend.account_id, "upstreamRegistry": registry,
        }
        for member in ("credentialArn", "customRoleArn", "upstreamRepositoryPrefix"):
            if self._get_param(member):
                rule[member] = self._get_param(member)
        rules_of(self)[prefix] = rule
        return json.dumps({key: value for key, value in rule.items() if key != "updatedAt"})

    def describe_pull_through_cache_rules(self: Any) -> str:
        prefixes = self._get_param("ecrRepositoryPrefixes")
        chosen = [rule_of(self, prefix) for prefix in prefixes] if prefixes else list(rules_of(self).values())
        return json.dumps({"pullThroughCacheRules": chosen})

    def update_pull_through_cache_rule(self: Any) -> str:
        rule = rule_of(self, self._get_param("ecrRepositoryPrefix"))
        for member in ("credentialArn", "customRoleArn"):
            if self._get_param(member):
                rule[member] = self._get_param(member)
        rule["updatedAt"] = time.time()
        return json.dumps({member: rule.get(member) for member in ("ecrRepositoryPrefix", "registryId", "updatedAt", "credentialArn", "customRoleArn", "upstreamRepositoryPrefix") if rule.get(member)})

    def delete_pull_through_cache_rule(self: Any) -> str:
        rule = rule_of(self, self._get_param("ecrRepositoryPrefix"))
        del rules_of(self)[rule["ecrRepositoryPrefix"]]
        return json.dumps({key: value for key, value in rule.items() if key != "updatedAt"})

    for handler in (create_pull_through_cache_rule, describe_pull_through_cache_rules, update_pull_through_cache_rule, delete_pull_through_cache_rule):
        setattr(ECRResponse, handler.__name__, handler)


# API Gateway: a usage plan's API stage with per-method throttles. moto detaches a stage only when
# the whole entry equals {apiId, stage}, so a stage with throttles could never be detached and the
# plan never deleted; and it ignores the per-method throttle paths the provider updates.

_STAGE_THROTTLE_PATH = re.compile(r"/apiStages/(?P<api>[^:/]+):(?P<stage>[^/]+)/throttle/(?P<method>.+?)(?:/(?P<limit>rateLimit|burstLimit))?")


def _detach_usage_plan_stages_with_method_throttles() -> None:
    from moto.apigateway.exceptions import BadRequestException
    from moto.apigateway.models import UsagePlan

    apply_patch_operations = UsagePlan.apply_patch_operations

    def attached(plan: Any, api: str, stage: str) -> dict[str, Any]:
        for entry in plan.api_stages:
            if (entry["apiId"], entry["stage"]) == (api, stage):
                return entry
        raise BadRequestException(f"API stage {api}:{stage} is not associated with usage plan {plan.id}")

    def apply_in_order(self: Any, patch_operations: list[dict[str, Any]]) -> None:
        # One at a time, in the request's order: the provider detaches, re-attaches, then sets throttles.
        for operation in patch_operations:
            kind, path, value = operation["op"], operation["path"], operation.get("value")
            throttle = _STAGE_THROTTLE_PATH.fullmatch(path)
            if kind == "remove" and path == "/apiStages":
                entry = attached(self, *str(value).split(":", 1))
                self.api_stages.remove(entry)
            elif throttle is not None:
                methods = attached(self, throttle["api"], throttle["stage"]).setdefault("throttle", {})
                if kind == "remove":
                    methods.pop(throttle["method"], None)
                elif kind in ("add", "replace") and throttle["limit"] is not None:
                    limits = methods.setdefault(throttle["method"], {})
                    limits[throttle["limit"]] = float(value) if throttle["limit"] == "rateLimit" else int(value)
                else:
                    raise BadRequestException(f"Invalid patch path {path} for op {kind}")
            else:
                apply_patch_operations(self, [operation])

    UsagePlan.apply_patch_operations = apply_in_order


# ELBv2: whether a network load balancer with security groups applies them to PrivateLink traffic
# (SetSecurityGroups' EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic), which moto drops. AWS
# reports it for every network load balancer with security groups, "on" unless turned off.


def _keep_network_load_balancer_private_link_enforcement() -> None:
    from moto.elbv2.models import FakeLoadBalancer
    from moto.elbv2.responses import ELBV2Response

    set_security_groups = ELBV2Response.set_security_groups

    def enforcement(self: Any) -> str | None:
        if self.type != "network" or not self.security_groups:
            return None
        return self.__dict__.get("private_link_enforcement", "on")

    def set_security_groups_with_enforcement(self: Any) -> Any:
        result = set_security_groups(self)
        balancer = self.elbv2_backend.load_balancers[self._get_param("LoadBalancerArn")]
        setting = self._get_param("EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic")
        if setting is not None:
            balancer.__dict__["private_link_enforcement"] = setting
        if balancer.enforce_security_group_inbound_rules_on_private_link_traffic is not None:
            result.result["EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"] = balancer.enforce_security_group_inbound_rules_on_private_link_traffic
        return result

    FakeLoadBalancer.enforce_security_group_inbound_rules_on_private_link_traffic = property(enforcement)
    ELBV2Response.set_security_groups = set_security_groups_with_enforcement


# EC2: every response that shows a resource's tags scans the tags of all resources, while other
# requests add and remove tags. moto's server answers requests in parallel threads, so a scan can
# meet a dict that changes size and answer 500; the SDK then sends the request again, and a
# create that had succeeded is refused the second time (AuthorizeSecurityGroupIngress:
# InvalidPermission.Duplicate) or made twice. One lock keeps reads and writes of tags apart.


def _serialize_ec2_tag_access() -> None:
    from moto.ec2.models.tags import TagBackend

    lock = threading.RLock()

    def serialized(method: Any) -> Any:
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return method(*args, **kwargs)

        return call

    for name in ("create_tags", "delete_tags", "delete_tag_keys", "describe_tags"):
        setattr(TagBackend, name, serialized(getattr(TagBackend, name)))
