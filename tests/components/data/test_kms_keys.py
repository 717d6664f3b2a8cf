"""ServiceKey in a bare stack: administration by the account, use only by the services it names."""

from __future__ import annotations

import json

import cdktf
from cdktf import App, TerraformStack

from components.aws_context import AwsContext
from components.data.kms_keys import CALLER_ACTIONS, CallerAccess, ServiceKey
from components.security.kms_key import KeyGrant


def _synth(tmp_path, **properties) -> dict:
    stack = TerraformStack(App(outdir=str(tmp_path)), "key-test")
    ServiceKey(
        stack,
        "key",
        alias="fraud-test-key-test",
        description="test key",
        deletion_window_days=9,
        context=AwsContext(stack, "context"),
        **properties,
    )
    return json.loads(cdktf.Testing.synth(stack))


def _statements(config: dict) -> dict[str, dict]:
    (document,) = config["data"]["aws_iam_policy_document"].values()
    return {statement["sid"]: statement for statement in document["statement"]}


def test_key_rotates_has_its_alias_and_the_configured_deletion_window(tmp_path):
    config = _synth(tmp_path, service_grants=[])
    (key_name, key), = config["resource"]["aws_kms_key"].items()
    assert key["enable_key_rotation"] is True
    assert key["deletion_window_in_days"] == 9
    (alias,) = config["resource"]["aws_kms_alias"].values()
    assert alias == {**alias, "name": "alias/fraud-test-key-test", "target_key_id": f"${{aws_kms_key.{key_name}.key_id}}"}


def test_without_grants_only_the_account_administers_the_key(tmp_path):
    statements = _statements(_synth(tmp_path, service_grants=[]))
    assert list(statements) == ["AccountAdministration"]
    (principal,) = statements["AccountAdministration"]["principals"]
    assert principal["type"] == "AWS" and principal["identifiers"][0].endswith(":root")


def test_caller_access_is_limited_to_the_account_and_the_named_services(tmp_path):
    statements = _statements(_synth(tmp_path, service_grants=[], caller_access=CallerAccess(sid="Use", via_services=("rds", "ssm"))))
    assert set(statements) == {"AccountAdministration", "Use", "UseGrants"}
    use, grants = statements["Use"], statements["UseGrants"]
    assert set(use["actions"]) == set(CALLER_ACTIONS)
    assert set(grants["actions"]) == {"kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"}
    for statement in (use, grants):
        conditions = {c["variable"]: c for c in statement["condition"]}
        assert [v.split(".")[0] for v in conditions["kms:ViaService"]["values"]] == ["rds", "ssm"]
        assert all(v.endswith(".amazonaws.com") for v in conditions["kms:ViaService"]["values"])
        assert conditions["kms:CallerAccount"]["values"][0].endswith(".account_id}")
    assert {c["variable"]: c["values"] for c in grants["condition"]}["kms:GrantIsForAWSResource"] == ["true"]


def test_service_grants_carry_their_conditions(tmp_path):
    grant = KeyGrant(
        sid="Alarms",
        service_principal="cloudwatch.amazonaws.com",
        actions=("kms:Decrypt",),
        conditions=(("StringEquals", "aws:SourceAccount", ("111111111111",)),),
    )
    statements = _statements(_synth(tmp_path, service_grants=[grant]))
    assert statements["Alarms"]["principals"] == [{"type": "Service", "identifiers": ["cloudwatch.amazonaws.com"]}]
    assert statements["Alarms"]["actions"] == ["kms:Decrypt"]
    assert statements["Alarms"]["condition"] == [{"test": "StringEquals", "variable": "aws:SourceAccount", "values": ["111111111111"]}]
