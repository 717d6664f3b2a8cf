"""CustomerManagedKey in a bare stack: administration by the account, use only by the services it
names, and a scanner exception that claims no more narrowing than the policy has."""

from __future__ import annotations

from components.aws_context import AwsContext
from components.compliance import SKIP_KEY
from components.security.kms_key import CALLER_ACTIONS, ENVELOPE_ACTIONS, CallerAccess, CustomerManagedKey, KeyGrant

FROM_THIS_ACCOUNT = ("StringEquals", "aws:SourceAccount", ("111111111111",))
FROM_ALARMS = ("ArnLike", "aws:SourceArn", ("arn:aws:cloudwatch:us-east-1:111111111111:alarm:*",))


def _synth(bare_stack, **properties) -> dict:
    stack, synth = bare_stack
    CustomerManagedKey(
        stack,
        "key",
        alias="fraud-test-key-test",
        description="test key",
        deletion_window_days=9,
        context=AwsContext(stack, "context"),
        **properties,
    )
    return synth()


def _document(config: dict) -> dict:
    (document,) = config["data"]["aws_iam_policy_document"].values()
    return document


def _statements(config: dict) -> dict[str, dict]:
    return {statement["sid"]: statement for statement in _document(config)["statement"]}


def _skip_reasons(config: dict) -> dict[str, str]:
    return _document(config)["//"][SKIP_KEY]


def test_key_rotates_has_its_alias_and_the_configured_deletion_window(bare_stack):
    config = _synth(bare_stack)
    (key_name, key), = config["resource"]["aws_kms_key"].items()
    assert key["enable_key_rotation"] is True
    assert key["deletion_window_in_days"] == 9
    (alias,) = config["resource"]["aws_kms_alias"].values()
    assert alias == {**alias, "name": "alias/fraud-test-key-test", "target_key_id": f"${{aws_kms_key.{key_name}.key_id}}"}


def test_without_grants_only_the_account_administers_the_key(bare_stack):
    config = _synth(bare_stack)
    statements = _statements(config)
    assert list(statements) == ["AccountAdministration"]
    (principal,) = statements["AccountAdministration"]["principals"]
    assert principal["type"] == "AWS" and principal["identifiers"][0].endswith(":root")
    assert all(reason.endswith("delegates access to IAM policies") for reason in _skip_reasons(config).values())


def test_caller_access_is_limited_to_the_account_and_the_named_services(bare_stack):
    statements = _statements(_synth(bare_stack, caller_access=CallerAccess(sid="Use", via_services=("rds", "ssm"))))
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


def test_service_grants_carry_their_conditions(bare_stack):
    grant = KeyGrant(sid="Alarms", service_principal="cloudwatch.amazonaws.com", actions=("kms:Decrypt",), conditions=(FROM_THIS_ACCOUNT,))
    statements = _statements(_synth(bare_stack, service_grants=[grant]))
    assert statements["Alarms"]["principals"] == [{"type": "Service", "identifiers": ["cloudwatch.amazonaws.com"]}]
    assert statements["Alarms"]["actions"] == ["kms:Decrypt"]
    assert statements["Alarms"]["condition"] == [{"test": "StringEquals", "variable": "aws:SourceAccount", "values": ["111111111111"]}]


def test_a_grant_without_conditions_has_no_condition_block_and_envelope_actions_by_default(bare_stack):
    statements = _statements(_synth(bare_stack, service_grants=[KeyGrant(sid="Anything", service_principal="logs.amazonaws.com")]))
    assert "condition" not in statements["Anything"]
    assert tuple(statements["Anything"]["actions"]) == ENVELOPE_ACTIONS


def test_the_exception_claims_source_narrowing_only_when_every_grant_names_its_source(bare_stack):
    # A grant narrowed by account alone (like the flow-log delivery) is not narrowed to a source.
    account_only = KeyGrant(sid="Delivery", service_principal="delivery.logs.amazonaws.com", conditions=(FROM_THIS_ACCOUNT,))
    sourced = KeyGrant(sid="Alarms", service_principal="cloudwatch.amazonaws.com", conditions=(FROM_THIS_ACCOUNT, FROM_ALARMS))
    reasons = _skip_reasons(_synth(bare_stack, service_grants=[sourced, account_only]))
    assert set(reasons) == {"CKV_AWS_109", "CKV_AWS_111", "CKV_AWS_356"}
    assert all(reason.endswith("delegates access to IAM policies") for reason in reasons.values())


def test_the_exception_claims_narrowing_for_caller_access_and_sourced_grants(bare_stack):
    sourced = KeyGrant(sid="Alarms", service_principal="cloudwatch.amazonaws.com", conditions=(FROM_THIS_ACCOUNT, FROM_ALARMS))
    reasons = _skip_reasons(
        _synth(bare_stack, service_grants=[sourced], caller_access=CallerAccess(sid="Use", via_services=("sns",)))
    )
    assert all(reason.endswith("narrowed by service, account and source conditions") for reason in reasons.values())
