"""A saved plan read into what changes: resources, attribute paths, sensitive values masked, representation left out."""

from __future__ import annotations

import json

from lifecycle.changes import SENSITIVE, changed_outputs, drifted_resources, planned_changes
from tests.lifecycle.fakes import STREAMS


def recorded(name: str) -> dict:
    return json.loads((STREAMS / name).read_text())


def drift_entry(address: str, before: dict, after: dict, *, action: str = "update", **marks: dict) -> dict:
    resource_type, name = address.split(".")
    return {
        "address": address, "mode": "managed", "type": resource_type, "name": name,
        "change": {"actions": [action], "before": before, "after": after, **marks},
    }


def test_a_recorded_drift_names_the_changed_attributes_and_masks_the_sensitive_one():
    drifted = {change.address: change for change in drifted_resources(recorded("drift.show.json"))}
    assert set(drifted) == {"aws_kms_key.key", "aws_ssm_parameter.setting"}
    (description,) = drifted["aws_kms_key.key"].attributes
    assert (description.path, description.before, description.after) == ("description", "recording", "changed outside Terraform")
    value = next(attribute for attribute in drifted["aws_ssm_parameter.setting"].attributes if attribute.path == "value")
    assert value.describe() == f"value: {SENSITIVE} -> {SENSITIVE}"
    assert value.as_report() == {"path": "value", "before": SENSITIVE, "after": SENSITIVE}


def test_a_recorded_plan_lists_updates_with_what_becomes_known_only_after_apply():
    changes = {change.address: change for change in planned_changes(recorded("update.show.json"))}
    assert {address: change.action for address, change in changes.items()} == {"aws_kms_key.key": "update", "aws_ssm_parameter.setting": "update"}
    assert changes["aws_kms_key.key"].describe() == ["aws_kms_key.key: update", '  description: "changed outside Terraform" -> "recording"']
    version = next(attribute for attribute in changes["aws_ssm_parameter.setting"].attributes if attribute.path == "version")
    assert version.describe() == "version: 2 -> (known after apply)"
    assert changed_outputs(recorded("update.show.json")) == []


def test_unset_values_read_back_empty_and_the_same_json_reformatted_are_no_drift():
    # What an apply leaves behind with the AWS provider's SDK: null at create, empty when read.
    entry = drift_entry(
        "aws_cloudwatch_metric_alarm.latency",
        {"tags": None, "dimensions": None, "insufficient_data_actions": None, "period": None, "enabled": None,
         "schema": '{"type":"object","required":["a"]}', "threshold": 5},
        {"tags": {}, "dimensions": {}, "insufficient_data_actions": [], "period": 0, "enabled": False,
         "schema": '{\n  "required": ["a"],\n  "type": "object"\n}', "threshold": 5},
    )
    assert drifted_resources({"resource_drift": [entry]}) == []


def test_real_differences_are_kept_with_paths_into_lists_and_maps():
    entry = drift_entry(
        "aws_security_group.app",
        {"ingress": [{"description": "from the ALB", "from_port": 8080}], "tags": {"Environment": "dev"}, "name": "app"},
        {"ingress": [{"description": "from anywhere", "from_port": 8080}], "tags": {"Environment": "prod"}, "name": "app"},
    )
    (change,) = drifted_resources({"resource_drift": [entry]})
    assert [attribute.describe() for attribute in change.attributes] == [
        'ingress[0].description: "from the ALB" -> "from anywhere"',
        'tags.Environment: "dev" -> "prod"',
    ]
    # A list that grew (a rule added outside Terraform) is shown whole.
    grown = drift_entry("aws_security_group.app", {"ingress": []}, {"ingress": [{"from_port": 22}]})
    (change,) = drifted_resources({"resource_drift": [grown]})
    assert [attribute.path for attribute in change.attributes] == ["ingress"]
    # A value set on one side and emptied on the other is a change, not representation.
    emptied = drift_entry("aws_sqs_queue.alerts", {"policy": '{"Statement":[]}'}, {"policy": ""})
    assert [attribute.path for attribute in drifted_resources({"resource_drift": [emptied]})[0].attributes] == ["policy"]


def test_a_nested_sensitive_value_is_masked_on_both_sides():
    entry = drift_entry(
        "aws_db_instance.db", {"settings": [{"password": "old-secret", "port": 5432}]}, {"settings": [{"password": "new-secret", "port": 5433}]},
        before_sensitive={"settings": [{"password": True}]}, after_sensitive={"settings": [{"password": True}]},
    )
    (change,) = drifted_resources({"resource_drift": [entry]})
    lines = change.describe()
    assert lines == ["aws_db_instance.db: update", f"  settings[0].password: {SENSITIVE} -> {SENSITIVE}", "  settings[0].port: 5432 -> 5433"]
    assert "secret" not in json.dumps(change.as_report())


def test_a_resource_deleted_outside_terraform_is_drift_without_attributes():
    entry = drift_entry("aws_sqs_queue.alerts", {"name": "alerts"}, None, action="delete")
    (change,) = drifted_resources({"resource_drift": [entry]})
    assert change.describe() == ["aws_sqs_queue.alerts: delete"]


def test_a_replacement_says_what_forces_it_and_reads_and_no_ops_are_not_changes():
    replaced = {
        "address": "aws_api_gateway_deployment.stage", "mode": "managed",
        "change": {"actions": ["create", "delete"], "before": {"triggers": {"redeployment": "a"}, "id": "d1"},
                   "after": {"triggers": {"redeployment": "b"}}, "after_unknown": {"id": True}, "replace_paths": [["triggers"]]},
    }
    read = {"address": "data.aws_iam_policy_document.queue", "mode": "data", "change": {"actions": ["read"], "before": None, "after": {}}}
    unchanged = {"address": "aws_sqs_queue.alerts", "mode": "managed", "change": {"actions": ["no-op"], "before": {}, "after": {}}}
    (change,) = planned_changes({"resource_changes": [replaced, read, unchanged]})
    assert change.describe() == [
        "aws_api_gateway_deployment.stage: replace (forced by triggers)",
        '  id: "d1" -> (known after apply)',
        '  triggers.redeployment: "a" -> "b"',
    ]
    created = {"address": "aws_sqs_queue.new", "mode": "managed", "change": {"actions": ["create"], "before": None, "after": {"name": "new"}}}
    assert planned_changes({"resource_changes": [created]})[0].describe() == ["aws_sqs_queue.new: create"]
    assert changed_outputs({"output_changes": {"url": {"actions": ["update"]}, "id": {"actions": ["no-op"]}}}) == ["url"]
