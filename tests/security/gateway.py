"""The synthesized REST API as API Gateway would apply it to a keyed request: which methods exist,
which usage plan a key belongs to, and what that plan lets the key do on each method.

Read from the edge stack's JSON (resources chained to their paths, plans with their throttles and
per-method throttles), so the tests judge the deployed behaviour, not the construct's arguments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.security.synthesized import Stack

_RESOURCE = re.compile(r"^\$\{aws_api_gateway_resource\.([^.]+)\.id\}$")
_ROOT = re.compile(r"^\$\{aws_api_gateway_rest_api\.[^.]+\.root_resource_id\}$")
_PLAN = re.compile(r"^\$\{aws_api_gateway_usage_plan\.([^.]+)\.id\}$")
_KEY = re.compile(r"^\$\{aws_api_gateway_api_key\.([^.]+)\.id\}$")

# What API Gateway answers a keyed request, before any integration runs.
FORWARDED, THROTTLED, FORBIDDEN = "forwarded to the integration", "429 Too Many Requests", "403 Forbidden"


@dataclass(frozen=True)
class Method:
    resource_path: str  # "/transactions", "/api/{proxy+}"
    http_method: str  # "POST", "ANY"

    @property
    def method_path(self) -> str:
        return f"{self.resource_path}/{self.http_method}"

    def serves(self, http_method: str, path: str) -> bool:
        """Whether a request `http_method path` (path relative to the stage) lands on this method."""
        if self.http_method not in ("ANY", http_method):
            return False
        if self.resource_path.endswith("/{proxy+}"):
            return path.startswith(self.resource_path.removesuffix("{proxy+}")) and len(path) > len(self.resource_path) - len("{proxy+}")
        return path == self.resource_path


@dataclass(frozen=True)
class Plan:
    logical_id: str
    name: str
    rate_limit: float
    burst_limit: int
    quota_per_day: int | None
    # method path -> (rate, burst) of the plan's per-method throttles.
    method_throttles: dict[str, tuple[float, int]]
    key_ids: tuple[str, ...]

    def answer(self, method: Method | None) -> str:
        """API Gateway's answer to a key of this plan calling `method` within the plan's rate."""
        if method is None:
            return FORBIDDEN  # no such method: "Missing Authentication Token", a 403
        throttle = self.method_throttles.get(method.method_path)
        if throttle is not None and throttle[0] <= 0 and throttle[1] <= 0:
            # A token bucket with no rate and no burst lets nothing through.
            return THROTTLED
        return FORWARDED


def methods(edge: Stack) -> list[Method]:
    resources = edge.resources("aws_api_gateway_resource")

    def path_of(logical_id: str) -> str:
        body = resources[logical_id]
        parent = body["parent_id"]
        prefix = "" if _ROOT.match(parent) else path_of(_RESOURCE.match(parent).group(1))
        return f"{prefix}/{body['path_part']}"

    found = []
    for body in edge.resources("aws_api_gateway_method").values():
        found.append(Method(path_of(_RESOURCE.match(body["resource_id"]).group(1)), body["http_method"]))
    return found


def method_for(edge: Stack, http_method: str, path: str) -> Method | None:
    (found,) = [method for method in methods(edge) if method.serves(http_method, path)] or [None]
    return found


def plans(edge: Stack) -> list[Plan]:
    stage_ids = set(edge.resources("aws_api_gateway_stage"))
    keys_by_plan: dict[str, list[str]] = {}
    for link in edge.resources("aws_api_gateway_usage_plan_key").values():
        keys_by_plan.setdefault(_PLAN.match(link["usage_plan_id"]).group(1), []).append(_KEY.match(link["key_id"]).group(1))
    found = []
    for logical_id, body in edge.resources("aws_api_gateway_usage_plan").items():
        ((stage,),) = [body["api_stages"]]
        assert any(f"aws_api_gateway_stage.{stage_id}." in stage["stage"] for stage_id in stage_ids), f"{logical_id} covers another stage"
        throttle = body["throttle_settings"]
        found.append(
            Plan(
                logical_id=logical_id,
                name=body["name"],
                rate_limit=throttle["rate_limit"],
                burst_limit=throttle["burst_limit"],
                quota_per_day=body.get("quota_settings", {}).get("limit"),
                method_throttles={each["path"]: (each.get("rate_limit", 0), each.get("burst_limit", 0)) for each in stage.get("throttle", [])},
                key_ids=tuple(keys_by_plan.get(logical_id, ())),
            )
        )
    return found


def plan_of_method(edge: Stack, method: Method) -> Plan:
    """The one plan whose keys API Gateway forwards on `method`."""
    (plan,) = [plan for plan in plans(edge) if plan.answer(method) == FORWARDED]
    return plan
