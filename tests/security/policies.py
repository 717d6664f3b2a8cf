"""Every IAM policy of a synthesized stack, wherever AWS reads one, as normalized statements.

A policy reaches AWS through a resource attribute (`aws_iam_role.assume_role_policy`,
`aws_kms_key.policy`, `aws_s3_bucket_policy.policy`...). The attribute holds either a reference
to an `aws_iam_policy_document` data source or literal JSON; both are normalized into the same
`Statement`, so a test judges the policy AWS will evaluate, whichever way it was written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tests.security.synthesized import Stack, references_in

# Where AWS reads a policy, and what kind of policy it is there.
TRUST, IDENTITY, KEY, RESOURCE = "trust", "identity", "key", "resource"
POLICY_ATTRIBUTES: dict[tuple[str, str], str] = {
    ("aws_iam_role", "assume_role_policy"): TRUST,
    ("aws_iam_role", "inline_policy"): IDENTITY,
    ("aws_iam_role_policy", "policy"): IDENTITY,
    ("aws_iam_policy", "policy"): IDENTITY,
    ("aws_iam_user_policy", "policy"): IDENTITY,
    ("aws_iam_group_policy", "policy"): IDENTITY,
    ("aws_kms_key", "policy"): KEY,
    ("aws_kms_key_policy", "policy"): KEY,
    ("aws_s3_bucket", "policy"): RESOURCE,
    ("aws_s3_bucket_policy", "policy"): RESOURCE,
    ("aws_sqs_queue", "policy"): RESOURCE,
    ("aws_sqs_queue_policy", "policy"): RESOURCE,
    ("aws_sns_topic", "policy"): RESOURCE,
    ("aws_sns_topic_policy", "policy"): RESOURCE,
    ("aws_cloudwatch_log_resource_policy", "policy_document"): RESOURCE,
    ("aws_secretsmanager_secret", "policy"): RESOURCE,
    ("aws_secretsmanager_secret_policy", "policy"): RESOURCE,
    ("aws_api_gateway_rest_api", "policy"): RESOURCE,
    ("aws_api_gateway_rest_api_policy", "policy"): RESOURCE,
    ("aws_vpc_endpoint", "policy"): RESOURCE,
    ("aws_vpc_endpoint_policy", "policy"): RESOURCE,
    ("aws_ecr_repository_policy", "policy"): RESOURCE,
}
_DOCUMENT = re.compile(r"^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.(?:json|minified_json)\}$")
_ACTION_WILDCARD = re.compile(r"^[A-Za-z0-9-]+:\*$")
# Literal policy JSON, also when it sits JSON-encoded inside another string.
_POLICY_JSON = re.compile(r'\\*"Statement\\*"\s*:')


@dataclass(frozen=True)
class Statement:
    sid: str | None
    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    # (type, identifiers) pairs, e.g. ("Service", ("lambda.amazonaws.com",)); type "*" is Principal "*".
    principals: tuple[tuple[str, tuple[str, ...]], ...] = ()
    not_principals: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # (test, variable, values) triples, e.g. ("StringEquals", "aws:SourceAccount", ("${...}",)).
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    def grants_every_action(self) -> bool:
        """`*` or `service:*`, or NotAction (with Allow, everything but a list)."""
        return bool(self.not_actions) or any(action == "*" or _ACTION_WILDCARD.match(action) for action in self.actions)

    def principal_identifiers(self) -> list[tuple[str, str]]:
        return [(kind, identifier) for kind, identifiers in self.principals for identifier in identifiers]

    def names_everyone(self) -> bool:
        return any(kind == "*" or identifier == "*" for kind, identifier in self.principal_identifiers())

    def condition_values(self, variable: str) -> list[str]:
        return [value for _, name, values in self.conditions if name.lower() == variable.lower() for value in values]


@dataclass(frozen=True)
class PolicyUse:
    """One policy where AWS reads it: which resource, which attribute, what kind."""

    stack: Stack
    resource_type: str
    logical_id: str
    attribute: str
    kind: str
    source: str  # the attribute's value: a data-source reference or literal JSON
    document: str | None  # the aws_iam_policy_document's logical id, when it is one
    statements: tuple[Statement, ...] | None  # None: the test cannot read what AWS will get
    problem: str | None = None

    @property
    def where(self) -> str:
        return f"{self.stack.name}: {self.resource_type}.{self.logical_id}.{self.attribute}"

    @property
    def body(self) -> dict[str, Any]:
        return self.stack.resources(self.resource_type)[self.logical_id]


def policy_uses(stack: Stack) -> list[PolicyUse]:
    uses = []
    for (resource_type, attribute), kind in POLICY_ATTRIBUTES.items():
        for logical_id, body in stack.resources(resource_type).items():
            for source in _values(body, attribute):
                uses.append(_use(stack, resource_type, logical_id, attribute, kind, source))
    return uses


def managed_policy_arns(stack: Stack) -> Iterator[tuple[str, str]]:
    """(role attachment logical id, managed policy ARN) for every attachment of a managed policy."""
    for resource_type in ("aws_iam_role_policy_attachment", "aws_iam_policy_attachment"):
        for logical_id, body in stack.resources(resource_type).items():
            yield logical_id, body["policy_arn"]
    for logical_id, body in stack.resources("aws_iam_role").items():
        for arn in body.get("managed_policy_arns", []):
            yield logical_id, arn


def policy_like_values_outside_known_attributes(stack: Stack) -> list[str]:
    """Places a policy document is used, or policy JSON written, that POLICY_ATTRIBUTES does not know."""
    known = {(resource_type, attribute) for resource_type, attribute in POLICY_ATTRIBUTES}
    found = []
    for resource_type, logical_id, body in stack.all_resources():
        for attribute, value in body.items():
            if attribute == "//" or (resource_type, attribute) in known:
                continue
            uses_document = any("data.aws_iam_policy_document." in expression for expression in references_in(value))
            if uses_document or _POLICY_JSON.search(json.dumps(value)):
                found.append(f"{resource_type}.{logical_id}.{attribute}")
    return found


def statements_of_document(body: dict[str, Any]) -> tuple[Statement, ...]:
    return tuple(
        Statement(
            sid=statement.get("sid"),
            effect=statement.get("effect", "Allow"),
            actions=tuple(statement.get("actions", ())),
            not_actions=tuple(statement.get("not_actions", ())),
            resources=tuple(statement.get("resources", ())),
            not_resources=tuple(statement.get("not_resources", ())),
            principals=_document_principals(statement.get("principals")),
            not_principals=_document_principals(statement.get("not_principals")),
            conditions=tuple(
                (condition["test"], condition["variable"], tuple(condition["values"])) for condition in statement.get("condition", ())
            ),
        )
        for statement in body.get("statement", ())
    )


def statements_of_json(text: str) -> tuple[Statement, ...]:
    document = json.loads(text)
    statements = document["Statement"]
    return tuple(
        Statement(
            sid=statement.get("Sid"),
            effect=statement["Effect"],
            actions=_strings(statement.get("Action")),
            not_actions=_strings(statement.get("NotAction")),
            resources=_strings(statement.get("Resource")),
            not_resources=_strings(statement.get("NotResource")),
            principals=_json_principals(statement.get("Principal")),
            not_principals=_json_principals(statement.get("NotPrincipal")),
            conditions=tuple(
                (test, variable, _strings(values))
                for test, variables in statement.get("Condition", {}).items()
                for variable, values in variables.items()
            ),
        )
        for statement in (statements if isinstance(statements, list) else [statements])
    )


def _use(stack: Stack, resource_type: str, logical_id: str, attribute: str, kind: str, source: str) -> PolicyUse:
    def use(statements=None, document=None, problem=None) -> PolicyUse:
        return PolicyUse(stack, resource_type, logical_id, attribute, kind, source, document, statements, problem)

    reference = _DOCUMENT.match(source)
    if reference:
        document = stack.data_sources("aws_iam_policy_document").get(reference.group(1))
        if document is None:
            return use(problem=f"{source} names no policy document of the stack")
        merged = {"source_policy_documents", "override_policy_documents", "source_json", "override_json"} & set(document)
        if merged:
            return use(document=reference.group(1), problem=f"document merges others ({', '.join(sorted(merged))}); the test cannot see through that")
        return use(statements_of_document(document), reference.group(1))
    try:
        return use(statements_of_json(source))
    except (ValueError, KeyError, TypeError, AttributeError):
        return use(problem="neither a policy document reference nor literal policy JSON")


def _values(body: dict[str, Any], attribute: str) -> list[str]:
    if attribute == "inline_policy":
        blocks = body.get("inline_policy", [])
        return [block["policy"] for block in (blocks if isinstance(blocks, list) else [blocks]) if block.get("policy")]
    return [body[attribute]] if body.get(attribute) else []


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _document_principals(blocks: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((block["type"], tuple(block["identifiers"])) for block in blocks or ())


def _json_principals(principal: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if principal is None:
        return ()
    if principal == "*":
        return (("*", ("*",)),)
    return tuple((kind, _strings(identifiers)) for kind, identifiers in principal.items())
