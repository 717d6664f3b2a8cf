"""Every operation scripts/moto_additions.py adds to moto, called through boto3 on the emulator itself.

The emulator is the one tests/scripts/conftest.py starts (scripts.emulator.start runs
scripts/emulator_server.py), so these tests also prove the additions are in the server it runs.
"""

from __future__ import annotations

import json
import re
import threading
import time
import tomllib
from typing import Any

import botocore.config
import botocore.exceptions
import pytest

import moto
from scripts import moto_additions
from scripts.paths import REPO_ROOT

ROLE_ARN = "arn:aws:iam::123456789012:role/codedeploy"


def _error_code(error: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> str:
    return error.value.response["Error"]["Code"]


# --- the pin ------------------------------------------------------------------------------------


def test_the_additions_are_written_for_the_moto_version_the_project_pins():
    test_dependencies = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    (pin,) = [dependency for dependency in test_dependencies if dependency.startswith("moto")]
    assert re.fullmatch(r"moto\[server\]==(.+)", pin).group(1) == moto_additions.PINNED_MOTO_VERSION == moto.__version__


def test_another_moto_version_is_refused_before_anything_is_patched(monkeypatch):
    monkeypatch.setattr(moto, "__version__", "5.3.0")
    monkeypatch.setattr(moto_additions, "_installed", False)
    with pytest.raises(RuntimeError, match="written against moto 5.2.5 and found 5.3.0"):
        moto_additions.install()


# --- CodeDeploy -----------------------------------------------------------------------------------


def _application_with_group(codedeploy: Any, name: str) -> str:
    codedeploy.create_application(applicationName=name, computePlatform="ECS", tags=[{"Key": "Layer", "Value": "compute"}])
    codedeploy.create_deployment_group(
        applicationName=name, deploymentGroupName=f"{name}-group", serviceRoleArn=ROLE_ARN,
        deploymentConfigName="CodeDeployDefault.ECSAllAtOnce",
        alarmConfiguration={"enabled": True, "ignorePollAlarmFailure": False, "alarms": [{"name": "blue-5xx"}, {"name": "green-5xx"}]},
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        ecsServices=[{"clusterName": "cluster", "serviceName": "service"}],
        tags=[{"Key": "Layer", "Value": "compute"}],
    )
    return f"arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:{name}/{name}-group"


def test_get_deployment_group_returns_the_alarms_it_was_created_with(client):
    codedeploy = client("codedeploy")
    _application_with_group(codedeploy, "alarms")
    info = codedeploy.get_deployment_group(applicationName="alarms", deploymentGroupName="alarms-group")["deploymentGroupInfo"]
    assert info["alarmConfiguration"] == {"enabled": True, "ignorePollAlarmFailure": False, "alarms": [{"name": "blue-5xx"}, {"name": "green-5xx"}]}


def test_update_deployment_group_changes_what_it_names_and_keeps_the_rest(client):
    codedeploy = client("codedeploy")
    _application_with_group(codedeploy, "update")
    codedeploy.update_deployment_group(
        applicationName="update", currentDeploymentGroupName="update-group", serviceRoleArn=ROLE_ARN,
        deploymentConfigName="CodeDeployDefault.ECSCanary10Percent5Minutes",
        alarmConfiguration={"enabled": False, "ignorePollAlarmFailure": True, "alarms": []},
    )
    info = codedeploy.get_deployment_group(applicationName="update", deploymentGroupName="update-group")["deploymentGroupInfo"]
    assert info["deploymentConfigName"] == "CodeDeployDefault.ECSCanary10Percent5Minutes"
    assert info["alarmConfiguration"] == {"enabled": False, "ignorePollAlarmFailure": True, "alarms": []}
    assert info["deploymentStyle"] == {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"}
    assert info["ecsServices"] == [{"clusterName": "cluster", "serviceName": "service"}]


def test_renaming_a_deployment_group_moves_it_and_its_tags(client):
    codedeploy = client("codedeploy")
    old_arn = _application_with_group(codedeploy, "rename")
    codedeploy.update_deployment_group(applicationName="rename", currentDeploymentGroupName="rename-group", newDeploymentGroupName="renamed")
    assert codedeploy.list_deployment_groups(applicationName="rename")["deploymentGroups"] == ["renamed"]
    new_arn = old_arn.replace("rename-group", "renamed")
    assert codedeploy.list_tags_for_resource(ResourceArn=new_arn)["Tags"] == [{"Key": "Layer", "Value": "compute"}]
    assert codedeploy.list_tags_for_resource(ResourceArn=old_arn)["Tags"] == []

    codedeploy.create_deployment_group(applicationName="rename", deploymentGroupName="other", serviceRoleArn=ROLE_ARN)
    with pytest.raises(botocore.exceptions.ClientError) as taken:
        codedeploy.update_deployment_group(applicationName="rename", currentDeploymentGroupName="other", newDeploymentGroupName="renamed")
    assert _error_code(taken) == "DeploymentGroupAlreadyExistsException"
    assert sorted(codedeploy.list_deployment_groups(applicationName="rename")["deploymentGroups"]) == ["other", "renamed"]


def test_delete_deployment_group_removes_the_group_and_its_tags(client):
    codedeploy = client("codedeploy")
    arn = _application_with_group(codedeploy, "delete-group")
    assert codedeploy.delete_deployment_group(applicationName="delete-group", deploymentGroupName="delete-group-group")["hooksNotCleanedUp"] == []
    assert codedeploy.list_deployment_groups(applicationName="delete-group")["deploymentGroups"] == []
    assert codedeploy.list_tags_for_resource(ResourceArn=arn)["Tags"] == []
    with pytest.raises(botocore.exceptions.ClientError) as missing:
        codedeploy.delete_deployment_group(applicationName="delete-group", deploymentGroupName="delete-group-group")
    assert _error_code(missing) == "DeploymentGroupDoesNotExistException"


def test_delete_application_removes_it_with_its_groups_and_tags(client):
    codedeploy = client("codedeploy")
    group_arn = _application_with_group(codedeploy, "delete-app")
    codedeploy.delete_application(applicationName="delete-app")
    assert "delete-app" not in codedeploy.list_applications()["applications"]
    with pytest.raises(botocore.exceptions.ClientError) as gone:
        codedeploy.get_deployment_group(applicationName="delete-app", deploymentGroupName="delete-app-group")
    assert _error_code(gone) == "ApplicationDoesNotExistException"
    application_arn = "arn:aws:codedeploy:us-east-1:123456789012:application:delete-app"
    assert codedeploy.list_tags_for_resource(ResourceArn=application_arn)["Tags"] == []
    assert codedeploy.list_tags_for_resource(ResourceArn=group_arn)["Tags"] == []
    # Created again under the same name, it starts without the old groups.
    codedeploy.create_application(applicationName="delete-app", computePlatform="ECS")
    assert codedeploy.list_deployment_groups(applicationName="delete-app")["deploymentGroups"] == []
    with pytest.raises(botocore.exceptions.ClientError) as missing:
        codedeploy.delete_application(applicationName="never-created")
    assert _error_code(missing) == "ApplicationDoesNotExistException"


# --- ECS -----------------------------------------------------------------------------------------


def test_a_fargate_task_whose_containers_set_no_memory_runs(client):
    """The schema migration task (lifecycle/migration.py): RunTask, then DescribeTasks reads it back."""
    ec2, ecs = client("ec2"), client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="migration", Description="migration", VpcId=vpc)["GroupId"]
    ecs.create_cluster(clusterName="fargate")
    arn = ecs.register_task_definition(
        family="migrate", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
        containerDefinitions=[{"name": "migrate", "image": "app:1", "command": ["python", "-m", "fraud_api.migrate"]}],
    )["taskDefinition"]["taskDefinitionArn"]
    answer = ecs.run_task(
        cluster="fargate", taskDefinition=arn, launchType="FARGATE", count=1, startedBy="lifecycle-migrate",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group], "assignPublicIp": "DISABLED"}},
    )
    assert answer["failures"] == []
    (task,) = answer["tasks"]
    (described,) = ecs.describe_tasks(cluster="fargate", tasks=[task["taskArn"]])["tasks"]
    assert described["taskDefinitionArn"] == arn and described["startedBy"] == "lifecycle-migrate"


# --- Application Auto Scaling -------------------------------------------------------------------


@pytest.fixture(scope="module")
def ecs_service(client) -> str:
    ecs = client("ecs")
    ecs.create_cluster(clusterName="scaling")
    ecs.register_task_definition(family="scaling", containerDefinitions=[{"name": "app", "image": "app:1", "memory": 256}])
    ecs.create_service(cluster="scaling", serviceName="api", taskDefinition="scaling", desiredCount=2)
    return "service/scaling/api"


def _register(autoscaling: Any, resource_id: str, **extra: Any) -> str:
    return autoscaling.register_scalable_target(
        ServiceNamespace="ecs", ResourceId=resource_id, ScalableDimension="ecs:service:DesiredCount", MinCapacity=2, MaxCapacity=4, **extra
    )["ScalableTargetARN"]


def test_a_scalable_target_keeps_the_tags_it_was_registered_with_and_tags_change_by_tag_and_untag(client, ecs_service):
    autoscaling = client("application-autoscaling")
    arn = _register(autoscaling, ecs_service, Tags={"Environment": "dev", "Layer": "compute"})
    assert autoscaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"Environment": "dev", "Layer": "compute"}

    # Registering again updates capacity; tags given then are ignored, as on AWS.
    assert _register(autoscaling, ecs_service, Tags={"Environment": "prod"}) == arn
    assert autoscaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"Environment": "dev", "Layer": "compute"}

    autoscaling.tag_resource(ResourceARN=arn, Tags={"Layer": "scaling", "Owner": "platform"})
    autoscaling.untag_resource(ResourceARN=arn, TagKeys=["Environment"])
    assert autoscaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"Layer": "scaling", "Owner": "platform"}

    autoscaling.deregister_scalable_target(ServiceNamespace="ecs", ResourceId=ecs_service, ScalableDimension="ecs:service:DesiredCount")
    with pytest.raises(botocore.exceptions.ClientError) as gone:
        autoscaling.list_tags_for_resource(ResourceARN=arn)
    assert _error_code(gone) == "ResourceNotFoundException"
    # A target registered again is a new one: new ARN, no old tags.
    again = _register(autoscaling, ecs_service)
    assert again != arn and autoscaling.list_tags_for_resource(ResourceARN=again)["Tags"] == {}
    autoscaling.deregister_scalable_target(ServiceNamespace="ecs", ResourceId=ecs_service, ScalableDimension="ecs:service:DesiredCount")


@pytest.mark.parametrize("call", ["tag_resource", "untag_resource"])
def test_tagging_an_unknown_scalable_target_is_refused(client, call):
    autoscaling = client("application-autoscaling")
    arn = "arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/unknown"
    with pytest.raises(botocore.exceptions.ClientError) as unknown:
        if call == "tag_resource":
            autoscaling.tag_resource(ResourceARN=arn, Tags={"a": "b"})
        else:
            autoscaling.untag_resource(ResourceARN=arn, TagKeys=["a"])
    assert _error_code(unknown) == "ResourceNotFoundException"


# --- X-Ray sampling rules -----------------------------------------------------------------------


def _rule(name: str, **changes: Any) -> dict[str, Any]:
    return {
        "RuleName": name, "ResourceARN": "*", "Priority": 100, "FixedRate": 1.0, "ReservoirSize": 5, "ServiceName": "fraud-api/dev",
        "ServiceType": "AWS::ApiGateway::Stage", "Host": "*", "HTTPMethod": "POST", "URLPath": "*/transactions", "Version": 1, **changes,
    }


def _rules(xray: Any) -> dict[str, dict[str, Any]]:
    return {record["SamplingRule"]["RuleName"]: record["SamplingRule"] for record in xray.get_sampling_rules()["SamplingRuleRecords"]}


def test_a_sampling_rule_is_created_read_updated_and_deleted_with_its_tags(client):
    xray = client("xray")
    created = xray.create_sampling_rule(SamplingRule=_rule("transactions"), Tags=[{"Key": "Environment", "Value": "dev"}])["SamplingRuleRecord"]
    arn = created["SamplingRule"]["RuleARN"]
    assert arn == "arn:aws:xray:us-east-1:123456789012:sampling-rule/transactions"
    assert _rules(xray)["transactions"] == {**_rule("transactions"), "RuleARN": arn, "Attributes": {}}
    assert xray.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "Environment", "Value": "dev"}]

    updated = xray.update_sampling_rule(SamplingRuleUpdate={"RuleARN": arn, "FixedRate": 0.1, "Attributes": {"tier": "gold"}})["SamplingRuleRecord"]
    assert updated["SamplingRule"] == {**_rule("transactions", FixedRate=0.1), "RuleARN": arn, "Attributes": {"tier": "gold"}}
    assert updated["ModifiedAt"] >= updated["CreatedAt"]

    xray.tag_resource(ResourceARN=arn, Tags=[{"Key": "Layer", "Value": "observability"}])
    xray.untag_resource(ResourceARN=arn, TagKeys=["Environment"])
    assert xray.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "Layer", "Value": "observability"}]

    deleted = xray.delete_sampling_rule(RuleName="transactions")["SamplingRuleRecord"]
    assert deleted["SamplingRule"]["FixedRate"] == 0.1
    assert "transactions" not in _rules(xray)
    with pytest.raises(botocore.exceptions.ClientError) as gone:
        xray.list_tags_for_resource(ResourceARN=arn)
    assert _error_code(gone) == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (_rule("bad-version", Version=2), "Version must be 1"),
        (_rule("bad-rate", FixedRate=1.5), "FixedRate must be between 0 and 1"),
        (_rule("bad-priority", Priority=0), "Priority must be between 1 and 9999"),
        ({key: value for key, value in _rule("no-service").items() if key != "ServiceName"}, "missing ServiceName"),
        (_rule("a-rule-name-longer-than-32-characters"), "RuleName must be 1 to 32 characters"),
    ],
)
def test_an_invalid_sampling_rule_is_refused_and_nothing_is_created(client, rule, message):
    xray = client("xray", validate=False)
    with pytest.raises(botocore.exceptions.ClientError, match=message) as refused:
        xray.create_sampling_rule(SamplingRule=rule)
    assert _error_code(refused) == "InvalidRequestException"
    assert rule["RuleName"] not in _rules(xray)


def test_a_sampling_rule_name_is_taken_once_and_unknown_rules_cannot_change(client):
    xray = client("xray")
    xray.create_sampling_rule(SamplingRule=_rule("taken"))
    with pytest.raises(botocore.exceptions.ClientError, match="already exists"):
        xray.create_sampling_rule(SamplingRule=_rule("taken", Priority=5))
    assert _rules(xray)["taken"]["Priority"] == 100
    for call in (
        lambda: xray.update_sampling_rule(SamplingRuleUpdate={"RuleName": "unknown", "FixedRate": 0.5}),
        lambda: xray.delete_sampling_rule(RuleName="unknown"),
    ):
        with pytest.raises(botocore.exceptions.ClientError, match="Sampling rule does not exist"):
            call()
    with pytest.raises(botocore.exceptions.ClientError, match="FixedRate must be between 0 and 1"):
        xray.update_sampling_rule(SamplingRuleUpdate={"RuleName": "taken", "FixedRate": 3.0})
    assert _rules(xray)["taken"]["FixedRate"] == 1.0
    xray.delete_sampling_rule(RuleName="taken")


# --- X-Ray groups -------------------------------------------------------------------------------


def test_a_group_is_created_read_updated_and_deleted_with_its_tags(client):
    xray = client("xray")
    group = xray.create_group(
        GroupName="fraud-paths", FilterExpression='service("fraud-api/dev")', InsightsConfiguration={"InsightsEnabled": True},
        Tags=[{"Key": "Environment", "Value": "dev"}],
    )["Group"]
    arn = group["GroupARN"]
    assert re.fullmatch(r"arn:aws:xray:us-east-1:123456789012:group/fraud-paths/[A-Z0-9]+", arn)
    # AWS reports both insights switches, off unless set.
    assert group["InsightsConfiguration"] == {"InsightsEnabled": True, "NotificationsEnabled": False}
    assert xray.get_group(GroupARN=arn)["Group"] == group == xray.get_group(GroupName="fraud-paths")["Group"]
    assert group in xray.get_groups()["Groups"]
    assert xray.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "Environment", "Value": "dev"}]

    updated = xray.update_group(GroupARN=arn, FilterExpression='service("fraud-api/prod")', InsightsConfiguration={"NotificationsEnabled": True})["Group"]
    assert updated["FilterExpression"] == 'service("fraud-api/prod")'
    assert updated["InsightsConfiguration"] == {"InsightsEnabled": True, "NotificationsEnabled": True}
    assert xray.get_group(GroupARN=arn)["Group"] == updated

    xray.delete_group(GroupARN=arn)
    assert all(listed["GroupName"] != "fraud-paths" for listed in xray.get_groups()["Groups"])
    # The provider recognises a deleted group by exactly this error.
    with pytest.raises(botocore.exceptions.ClientError, match="Group not found") as gone:
        xray.get_group(GroupARN=arn)
    assert _error_code(gone) == "InvalidRequestException"
    with pytest.raises(botocore.exceptions.ClientError, match="Group not found"):
        xray.delete_group(GroupARN=arn)
    with pytest.raises(botocore.exceptions.ClientError) as untagged:
        xray.list_tags_for_resource(ResourceARN=arn)
    assert _error_code(untagged) == "ResourceNotFoundException"


def test_a_group_name_is_taken_once(client):
    xray = client("xray")
    xray.create_group(GroupName="once", FilterExpression='service("a")')
    with pytest.raises(botocore.exceptions.ClientError, match="already exists"):
        xray.create_group(GroupName="once", FilterExpression='service("b")')
    assert xray.get_group(GroupName="once")["Group"]["FilterExpression"] == 'service("a")'
    xray.delete_group(GroupName="once")


# --- SQS RedriveAllowPolicy ---------------------------------------------------------------------


def _queue_policy(queue_arn: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": queue_arn}]})


def test_a_redrive_allow_policy_is_stored_returned_and_removed_and_the_queue_policy_stays(client):
    sqs = client("sqs")
    dead_letters = sqs.create_queue(QueueName="dead-letters")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=dead_letters, Attributes={"Policy": _queue_policy(arn)})
    allow = json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": ["arn:aws:sqs:us-east-1:123456789012:alerts"]})

    sqs.set_queue_attributes(QueueUrl=dead_letters, Attributes={"RedriveAllowPolicy": allow})
    named = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["RedriveAllowPolicy", "Policy"])["Attributes"]
    assert named == {"RedriveAllowPolicy": allow, "Policy": _queue_policy(arn)}
    assert sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["All"])["Attributes"]["RedriveAllowPolicy"] == allow

    sqs.set_queue_attributes(QueueUrl=dead_letters, Attributes={"RedriveAllowPolicy": ""})
    remaining = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["All"])["Attributes"]
    assert "RedriveAllowPolicy" not in remaining and remaining["Policy"] == _queue_policy(arn)


def test_a_queue_can_be_created_with_a_redrive_allow_policy(client):
    sqs = client("sqs")
    allow = json.dumps({"redrivePermission": "denyAll"})
    url = sqs.create_queue(QueueName="created-with-allow", Attributes={"RedriveAllowPolicy": allow})["QueueUrl"]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedriveAllowPolicy"])["Attributes"] == {"RedriveAllowPolicy": allow}


@pytest.mark.parametrize(
    "policy",
    [
        "not json",
        json.dumps({"redrivePermission": "everyone"}),
        json.dumps({"redrivePermission": "byQueue"}),
        json.dumps({"redrivePermission": "allowAll", "sourceQueueArns": ["arn:aws:sqs:us-east-1:123456789012:a"]}),
        json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [f"arn:aws:sqs:us-east-1:123456789012:q{i}" for i in range(11)]}),
    ],
)
def test_an_invalid_redrive_allow_policy_is_refused_and_changes_nothing(client, policy):
    sqs = client("sqs")
    url = sqs.create_queue(QueueName="refuses-bad-allow")["QueueUrl"]
    kept = json.dumps({"redrivePermission": "denyAll"})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedriveAllowPolicy": kept})
    with pytest.raises(botocore.exceptions.ClientError, match="RedriveAllowPolicy is invalid") as refused:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedriveAllowPolicy": policy, "VisibilityTimeout": "99"})
    assert _error_code(refused) == "InvalidParameterValue"
    after = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedriveAllowPolicy", "VisibilityTimeout"])["Attributes"]
    assert after == {"RedriveAllowPolicy": kept, "VisibilityTimeout": "30"}


# --- Secrets Manager: cancelling rotation Secrets Manager runs itself ---------------------------


def test_rotation_without_a_lambda_can_be_cancelled(client):
    secrets = client("secretsmanager")
    arn = secrets.create_secret(Name="rds!cluster-managed", SecretString='{"username": "fraud", "password": "x"}')["ARN"]
    secrets.rotate_secret(SecretId=arn, RotationRules={"AutomaticallyAfterDays": 30}, RotateImmediately=False)
    assert secrets.describe_secret(SecretId=arn)["RotationEnabled"] is True

    assert secrets.cancel_rotate_secret(SecretId=arn)["ARN"] == arn
    assert secrets.describe_secret(SecretId=arn)["RotationEnabled"] is False


def test_cancelling_rotation_on_a_secret_that_never_rotated_is_still_refused(client):
    secrets = client("secretsmanager")
    arn = secrets.create_secret(Name="never-rotated", SecretString="x")["ARN"]
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        secrets.cancel_rotate_secret(SecretId=arn)
    assert _error_code(refused) == "InvalidRequestException"


# --- what moto accepted but did not give back -----------------------------------------------------


def test_a_rule_referencing_another_security_group_keeps_its_description(client):
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    database = ec2.create_security_group(GroupName="database", Description="db", VpcId=vpc)["GroupId"]
    application = ec2.create_security_group(GroupName="application", Description="app", VpcId=vpc)["GroupId"]
    (rule,) = ec2.authorize_security_group_ingress(
        GroupId=database,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": application, "Description": "PostgreSQL from fraud-api"}]}],
    )["SecurityGroupRules"]
    (described,) = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule["SecurityGroupRuleId"]])["SecurityGroupRules"]
    assert described["Description"] == "PostgreSQL from fraud-api"
    assert described["ReferencedGroupInfo"]["GroupId"] == application


@pytest.fixture(scope="module")
def lambda_role(client) -> str:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    return client("iam").create_role(RoleName="function", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def _function(client: Any, role: str, name: str, **extra: Any) -> dict[str, Any]:
    import io
    import zipfile

    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return client("lambda").create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="handler.handler", Code={"ZipFile": code.getvalue()}, **extra
    )


def test_a_function_reports_its_logging_config_with_the_defaults_aws_fills_in(client, lambda_role):
    functions = client("lambda")
    created = _function(client, lambda_role, "json-logs", LoggingConfig={"LogFormat": "JSON"})
    # For JSON logs AWS applies INFO to both levels when none is given (and says so).
    expected = {"LogFormat": "JSON", "LogGroup": "/aws/lambda/json-logs", "ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO"}
    assert created["LoggingConfig"] == expected
    assert functions.get_function_configuration(FunctionName="json-logs")["LoggingConfig"] == expected

    functions.update_function_configuration(FunctionName="json-logs", LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "WARN", "LogGroup": "/fraud/json-logs"})
    assert functions.get_function(FunctionName="json-logs")["Configuration"]["LoggingConfig"] == {
        "LogFormat": "JSON", "LogGroup": "/fraud/json-logs", "ApplicationLogLevel": "WARN", "SystemLogLevel": "INFO",
    }
    _function(client, lambda_role, "text-logs")
    assert functions.get_function_configuration(FunctionName="text-logs")["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/text-logs"}


def test_a_provisioned_cluster_has_no_serverless_v1_scaling_and_its_instance_keeps_performance_insights(client):
    rds = client("rds")
    rds.create_db_cluster(
        DBClusterIdentifier="aurora", Engine="aurora-postgresql", EngineMode="provisioned", MasterUsername="fraud", MasterUserPassword="not-a-real-password",
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 4},
    )
    (cluster,) = rds.describe_db_clusters(DBClusterIdentifier="aurora")["DBClusters"]
    assert "ScalingConfigurationInfo" not in cluster
    assert cluster["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 4.0}
    rds.create_db_cluster(DBClusterIdentifier="aurora-v1", Engine="aurora-postgresql", EngineMode="serverless", MasterUsername="fraud", MasterUserPassword="not-a-real-password")
    (serverless,) = rds.describe_db_clusters(DBClusterIdentifier="aurora-v1")["DBClusters"]
    assert serverless["ScalingConfigurationInfo"]["MinCapacity"] > 0

    key = "arn:aws:kms:us-east-1:123456789012:key/performance-insights"
    rds.create_db_instance(
        DBInstanceIdentifier="writer", DBClusterIdentifier="aurora", DBInstanceClass="db.serverless", Engine="aurora-postgresql",
        EnablePerformanceInsights=True, PerformanceInsightsKMSKeyId=key,
    )
    (writer,) = rds.describe_db_instances(DBInstanceIdentifier="writer")["DBInstances"]
    # Seven days unless told otherwise, as on AWS.
    assert (writer["PerformanceInsightsEnabled"], writer["PerformanceInsightsKMSKeyId"], writer["PerformanceInsightsRetentionPeriod"]) == (True, key, 7)
    rds.modify_db_instance(DBInstanceIdentifier="writer", PerformanceInsightsRetentionPeriod=31, ApplyImmediately=True)
    assert rds.describe_db_instances(DBInstanceIdentifier="writer")["DBInstances"][0]["PerformanceInsightsRetentionPeriod"] == 31
    rds.modify_db_instance(DBInstanceIdentifier="writer", EnablePerformanceInsights=False, ApplyImmediately=True)
    assert rds.describe_db_instances(DBInstanceIdentifier="writer")["DBInstances"][0]["PerformanceInsightsEnabled"] is False


def test_a_service_keeps_the_settings_it_was_created_with(client, ecs_service):
    ecs = client("ecs")
    ecs.create_service(
        cluster="scaling", serviceName="settings", taskDefinition="scaling", desiredCount=1,
        availabilityZoneRebalancing="DISABLED", enableECSManagedTags=True, healthCheckGracePeriodSeconds=60,
    )
    (service,) = ecs.describe_services(cluster="scaling", services=["settings"])["services"]
    assert (service["availabilityZoneRebalancing"], service["enableECSManagedTags"], service["healthCheckGracePeriodSeconds"]) == ("DISABLED", True, 60)


def test_a_topic_reports_its_signature_tracing_and_delivery_feedback_settings(client):
    sns = client("sns")
    role = "arn:aws:iam::123456789012:role/delivery-logs"
    arn = sns.create_topic(Name="alerts", Attributes={"SignatureVersion": "2", "TracingConfig": "Active", "SQSSuccessFeedbackRoleArn": role, "SQSSuccessFeedbackSampleRate": "100"})["TopicArn"]
    sns.set_topic_attributes(TopicArn=arn, AttributeName="HTTPFailureFeedbackRoleArn", AttributeValue=role)
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert {name: attributes.get(name) for name in ("SignatureVersion", "TracingConfig", "SQSSuccessFeedbackRoleArn", "SQSSuccessFeedbackSampleRate", "HTTPFailureFeedbackRoleArn")} == {
        "SignatureVersion": "2", "TracingConfig": "Active", "SQSSuccessFeedbackRoleArn": role, "SQSSuccessFeedbackSampleRate": "100", "HTTPFailureFeedbackRoleArn": role,
    }
    assert "LambdaFailureFeedbackRoleArn" not in attributes


def test_a_redrive_policy_comes_back_as_compact_json(client):
    sqs = client("sqs")
    dead_letters = sqs.create_queue(QueueName="compact-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 5}, separators=(",", ":"))
    queue = sqs.create_queue(QueueName="compact", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    assert sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"] == policy


def test_a_vpc_link_integration_keeps_its_connection_id(client):
    apigateway = client("apigateway")
    api = apigateway.create_rest_api(name="fraud")["id"]
    root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
    apigateway.put_method(restApiId=api, resourceId=root, httpMethod="ANY", authorizationType="NONE")
    put = apigateway.put_integration(
        restApiId=api, resourceId=root, httpMethod="ANY", type="HTTP_PROXY", integrationHttpMethod="ANY", uri="https://api.fraud.example.com/",
        connectionType="VPC_LINK", connectionId="vpclink1",
    )
    assert put["connectionId"] == "vpclink1"
    integration = apigateway.get_integration(restApiId=api, resourceId=root, httpMethod="ANY")
    assert (integration["connectionType"], integration["connectionId"]) == ("VPC_LINK", "vpclink1")


# --- ECR pull-through cache rules -----------------------------------------------------------------


def test_a_pull_through_cache_rule_is_created_described_updated_and_deleted(client):
    ecr = client("ecr")
    created = ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="ecr-public", upstreamRegistryUrl="public.ecr.aws")
    assert (created["ecrRepositoryPrefix"], created["upstreamRegistryUrl"], created["registryId"]) == ("ecr-public", "public.ecr.aws", "123456789012")
    (rule,) = ecr.describe_pull_through_cache_rules(ecrRepositoryPrefixes=["ecr-public"])["pullThroughCacheRules"]
    assert (rule["upstreamRegistry"], rule["registryId"]) == ("ecr-public", "123456789012") and "credentialArn" not in rule
    assert [rule["ecrRepositoryPrefix"] for rule in ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"]] == ["ecr-public"]
    role = "arn:aws:iam::123456789012:role/cache"
    assert ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="ecr-public", customRoleArn=role)["customRoleArn"] == role
    assert ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="ecr-public", registryId="123456789012")["ecrRepositoryPrefix"] == "ecr-public"
    assert ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"] == []
    for call in (
        lambda: ecr.describe_pull_through_cache_rules(ecrRepositoryPrefixes=["ecr-public"]),
        lambda: ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="ecr-public"),
    ):
        with pytest.raises(botocore.exceptions.ClientError) as error:
            call()
        assert _error_code(error) == "PullThroughCacheRuleNotFoundException"


@pytest.mark.parametrize(
    "prefix, upstream, credential, code",
    [
        ("Bad Prefix", "public.ecr.aws", None, "InvalidParameterException"),
        ("ecr-public", "registry.example.com", None, "InvalidParameterException"),
        ("docker-hub", "registry-1.docker.io", None, "InvalidParameterException"),  # Docker Hub needs a credential
        ("taken", "quay.io", None, "PullThroughCacheRuleAlreadyExistsException"),
    ],
)
def test_an_invalid_or_duplicate_pull_through_cache_rule_is_refused(client, prefix, upstream, credential, code):
    ecr = client("ecr")
    if code.endswith("AlreadyExistsException"):
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix=prefix, upstreamRegistryUrl=upstream)
    before = ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"]
    with pytest.raises(botocore.exceptions.ClientError) as error:
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix=prefix, upstreamRegistryUrl=upstream, **({"credentialArn": credential} if credential else {}))
    assert _error_code(error) == code
    assert ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"] == before
    if code.endswith("AlreadyExistsException"):
        ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix=prefix)


# --- API Gateway usage plans with per-method throttles --------------------------------------------


def test_a_usage_plan_stage_with_method_throttles_is_updated_detached_and_the_plan_deleted(client):
    apigateway = client("apigateway")
    api = apigateway.create_rest_api(name="plans")["id"]
    closed = {"/transactions/POST": {"rateLimit": 0.0, "burstLimit": 0}}
    plan = apigateway.create_usage_plan(name="api-clients", apiStages=[{"apiId": api, "stage": "dev", "throttle": closed}])["id"]
    assert apigateway.get_usage_plan(usagePlanId=plan)["apiStages"] == [{"apiId": api, "stage": "dev", "throttle": closed}]

    # What the provider sends when the stages change: detach, attach again, then each method's limits.
    stage = f"{api}:dev"
    apigateway.update_usage_plan(usagePlanId=plan, patchOperations=[
        {"op": "remove", "path": "/apiStages", "value": stage},
        {"op": "add", "path": "/apiStages", "value": stage},
        {"op": "replace", "path": f"/apiStages/{stage}/throttle//api/{{proxy+}}/ANY/rateLimit", "value": "2.5"},
        {"op": "replace", "path": f"/apiStages/{stage}/throttle//api/{{proxy+}}/ANY/burstLimit", "value": "5"},
    ])
    (entry,) = apigateway.get_usage_plan(usagePlanId=plan)["apiStages"]
    assert entry["throttle"] == {"/api/{proxy+}/ANY": {"rateLimit": 2.5, "burstLimit": 5}}

    # What the provider sends before DeleteUsagePlan.
    apigateway.update_usage_plan(usagePlanId=plan, patchOperations=[{"op": "remove", "path": "/apiStages", "value": stage}])
    assert apigateway.get_usage_plan(usagePlanId=plan).get("apiStages", []) == []
    with pytest.raises(botocore.exceptions.ClientError) as error:
        apigateway.update_usage_plan(usagePlanId=plan, patchOperations=[{"op": "remove", "path": "/apiStages", "value": stage}])
    assert _error_code(error) == "BadRequestException"
    apigateway.delete_usage_plan(usagePlanId=plan)
    assert plan not in [each["id"] for each in apigateway.get_usage_plans()["items"]]


# --- ELBv2: a network load balancer's PrivateLink enforcement --------------------------------------


def test_a_network_load_balancer_with_security_groups_reports_its_private_link_enforcement(client):
    ec2, elbv2 = client("ec2"), client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="nlb", Description="nlb", VpcId=vpc)["GroupId"]
    balancer = elbv2.create_load_balancer(Name="private-link", Type="network", Scheme="internal", Subnets=[subnet], SecurityGroups=[group])
    arn = balancer["LoadBalancers"][0]["LoadBalancerArn"]

    def reported() -> str | None:
        return elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0].get("EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic")

    assert reported() == "on"
    answer = elbv2.set_security_groups(LoadBalancerArn=arn, SecurityGroups=[group], EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic="off")
    assert answer["EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"] == "off" and reported() == "off"
    without_groups = elbv2.create_load_balancer(Name="no-groups", Type="network", Scheme="internal", Subnets=[subnet])
    assert "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic" not in without_groups["LoadBalancers"][0]


# --- what moto's threaded server races on -----------------------------------------------------------


class _TagsThatLetAWriterIn(dict):
    """A resource's tags whose scan pauses after its first tag, long enough for another thread to tag it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scanning = threading.Event()

    def items(self):  # type: ignore[override]
        entries = iter(super().items())
        yield next(entries)
        self.scanning.set()
        time.sleep(0.3)
        yield from entries


def test_tagging_while_tags_are_described_waits_instead_of_breaking_the_scan():
    from moto.ec2.models.tags import TagBackend

    moto_additions.install()
    backend = TagBackend()
    backend.tags["vpc-1"] = _TagsThatLetAWriterIn(Environment="dev", Layer="network")
    writer = threading.Thread(target=lambda: (backend.tags["vpc-1"].scanning.wait(5), backend.create_tags(["vpc-1"], {"CostCenter": "fraud"})))
    writer.start()
    described = backend.describe_tags(filters={"resource-id": ["vpc-1"]})
    writer.join(5)
    assert {tag["key"] for tag in described} == {"Environment", "Layer"}
    assert backend.tags["vpc-1"]["CostCenter"] == "fraud"
