"""A small evaluator of the WAF web ACL statements the platform writes, to judge the rules by what
they do to requests rather than by how they are spelled.

It knows the statement shapes `components/edge/web_acl.py` uses (and, not, size constraint, byte
match, regex match, geo match, rate-based per IP or per header, AWS managed groups) and refuses any
other, so a new shape cannot pass unjudged. Time runs in whole seconds; `send` delivers a batch of
identical requests in one second.

Rate-based rules are evaluated more strictly than WAF does: a request is blocked as soon as its
aggregation instance has more than `limit` counted requests in the trailing window, where WAF
notices only after a short delay and its counts are estimates. So "never blocked" here means never
blocked by WAF; "blocked" here means WAF blocks that traffic within about its detection delay.
AWS's managed rule groups are not in the synthesized stacks: the evaluator treats them as matching
none of the requests it is given, which the callers keep ordinary (no attack payloads).
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class UnknownStatement(ValueError):
    """A statement shape this evaluator does not model."""


@dataclass(frozen=True)
class Request:
    ip: str
    path: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    country: str = "US"

    def header(self, name: str) -> str | None:
        """WAF matches header names case-insensitively; None when the header is absent."""
        found = [value for key, value in self.headers.items() if key.lower() == name.lower()]
        return found[0] if found else None


@dataclass
class Outcome:
    allowed: int = 0
    blocked_by: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def blocked(self) -> int:
        return sum(self.blocked_by.values())

    def add(self, other: "Outcome") -> None:
        self.allowed += other.allowed
        for rule, count in other.blocked_by.items():
            self.blocked_by[rule] += count


def _field(field_to_match: dict[str, Any], request: Request) -> str | None:
    ((kind, body),) = field_to_match.items()
    if kind == "single_header":
        return request.header(body["name"])
    if kind == "uri_path":
        return request.path
    if kind == "method":
        return request.method
    raise UnknownStatement(f"field_to_match {kind}")


def _transformed(statement: dict[str, Any], value: str) -> str:
    transformations = statement.get("text_transformation", [])
    if any(each["type"] != "NONE" for each in transformations):
        raise UnknownStatement(f"text transformations {transformations}")
    return value


_COMPARE = {
    "EQ": lambda a, b: a == b, "NE": lambda a, b: a != b, "LE": lambda a, b: a <= b,
    "LT": lambda a, b: a < b, "GE": lambda a, b: a >= b, "GT": lambda a, b: a > b,
}
_POSITIONAL = {
    "EXACTLY": lambda value, search: value == search,
    "STARTS_WITH": lambda value, search: value.startswith(search),
    "ENDS_WITH": lambda value, search: value.endswith(search),
    "CONTAINS": lambda value, search: search in value,
}


def matches(statement: dict[str, Any], request: Request) -> bool:
    """Whether a (non rate-based) statement matches `request`."""
    ((kind, body),) = statement.items()
    if kind == "and_statement":
        return all(matches(each, request) for each in body["statement"])
    if kind == "or_statement":
        return any(matches(each, request) for each in body["statement"])
    if kind == "not_statement":
        return not matches(body["statement"], request)
    if kind == "geo_match_statement":
        return request.country in body["country_codes"]
    if kind == "managed_rule_group_statement":
        return False  # see the module docstring: the callers send ordinary requests
    value = _field(body["field_to_match"], request)
    if value is None:
        # WAF does not match a statement on a header the request lacks.
        return False
    value = _transformed(body, value)
    if kind == "size_constraint_statement":
        return _COMPARE[body["comparison_operator"]](len(value.encode()), body["size"])
    if kind == "byte_match_statement":
        return _POSITIONAL[body["positional_constraint"]](value, body["search_string"])
    if kind == "regex_match_statement":
        return re.search(body["regex_string"], value) is not None
    raise UnknownStatement(kind)


class RateRule:
    """One rate-based rule: its aggregation instances and their requests in the trailing window."""

    def __init__(self, name: str, statement: dict[str, Any]) -> None:
        self.name = name
        self.limit = statement["limit"]
        self.window = statement["evaluation_window_sec"]
        self.scope_down = statement.get("scope_down_statement")
        self.key_type = statement["aggregate_key_type"]
        self.custom_keys = statement.get("custom_key", [])
        if self.key_type not in ("IP", "CUSTOM_KEYS") or statement.get("forwarded_ip_config"):
            raise UnknownStatement(f"aggregation {self.key_type}")
        self._seen: dict[tuple, deque[tuple[int, int]]] = defaultdict(deque)

    def instance(self, request: Request) -> tuple | None:
        """The aggregation instance of `request`; None when a key component is missing (not counted)."""
        if self.key_type == "IP":
            return (request.ip,)
        parts = []
        for key in self.custom_keys:
            ((kind, body),) = key.items()
            if kind == "header":
                value = request.header(body["name"])
                parts.append(None if value is None else _transformed(body, value))
            elif kind == "ip":
                parts.append(request.ip)
            else:
                raise UnknownStatement(f"custom key {kind}")
        return None if None in parts else tuple(parts)

    def applies_to(self, request: Request) -> bool:
        return self.scope_down is None or matches(self.scope_down, request)

    def evaluate(self, second: int, request: Request, count: int) -> int:
        """Count `count` identical requests at `second`; return how many of them are over the limit."""
        instance = self.instance(request)
        if instance is None or not self.applies_to(request):
            return 0
        history = self._seen[instance]
        while history and history[0][0] <= second - self.window:
            history.popleft()
        before = sum(n for _, n in history)
        history.append((second, count))
        # The k-th request of the batch sees `before + k` requests in the window.
        return max(0, min(count, before + count - self.limit))


class WebAclSimulation:
    """The synthesized `aws_wafv2_web_acl` body, evaluated rule by rule in priority order."""

    def __init__(self, acl: dict[str, Any]) -> None:
        if acl["default_action"] != {"allow": {}}:
            raise UnknownStatement(f"default action {acl['default_action']}")
        self.rules = []
        for rule in sorted(acl["rule"], key=lambda each: each["priority"]):
            statement = rule["statement"]
            if "rate_based_statement" in statement:
                self.rules.append((rule, RateRule(rule["name"], statement["rate_based_statement"])))
            else:
                self.rules.append((rule, None))

    def send(self, second: int, request: Request, count: int = 1) -> Outcome:
        outcome = Outcome()
        remaining = count
        for rule, rate in self.rules:
            if remaining == 0:
                break
            if rate is not None:
                blocked = rate.evaluate(second, request, remaining)
            else:
                blocked = remaining if matches(rule["statement"], request) else 0
            if blocked:
                if rule.get("action") != {"block": {}} and rule.get("override_action") != {"none": {}}:
                    raise UnknownStatement(f"rule {rule['name']} acts {rule.get('action') or rule.get('override_action')}")
                outcome.blocked_by[rule["name"]] += blocked
                remaining -= blocked
        outcome.allowed = remaining
        return outcome
