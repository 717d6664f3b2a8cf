"""The WAF rate limits of every environment, judged by what they do to traffic (docs/edge.md, "WAF").

The synthesized web ACL is evaluated (tests/security/waf_evaluator.py) against traffic shaped by
the synthesized usage plans: a key holder at its plan's rate, from one address, is never blocked
by WAF, and neither is a client a little over its plan (API Gateway answers that 429); floods
without a key, floods of made-up keys and keys far over their plan are blocked. The limits table
in docs/edge.md is rendered from the same synthesis.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security import gateway
from tests.security.synthesized import ENVIRONMENTS, Platform, Stack
from tests.security.waf_evaluator import Outcome, Request, WebAclSimulation

DOC = Path(__file__).resolve().parents[2] / "docs" / "edge.md"
CLIENT_IP, NEIGHBOUR_IP = "198.51.100.7", "198.51.100.8"
# A request on each route, by how the route is written in the API.
SAMPLE_CALLS = {"/transactions/POST": ("POST", "/transactions"), "/api/{proxy+}/ANY": ("POST", "/api/v1/score")}


@pytest.fixture(params=ENVIRONMENTS)
def edge(request, platform: Platform) -> Stack:
    return platform.stack(f"edge-{request.param}")


def acl_of(edge: Stack) -> dict:
    (acl,) = edge.resources("aws_wafv2_web_acl").values()
    return acl


def longest_window(edge: Stack) -> int:
    return max(rule["statement"]["rate_based_statement"]["evaluation_window_sec"] for rule in acl_of(edge)["rule"] if "rate_based_statement" in rule["statement"])


def paths(edge: Stack, path: str) -> list[str]:
    """The path as WAF sees it under the custom domain and through the stage's execute-api URL."""
    (stage,) = edge.resources("aws_api_gateway_stage").values()
    return [path, f"/{stage['stage_name']}{path}"]


def keyed(path: str, method: str, key: str, ip: str = CLIENT_IP) -> Request:
    return Request(ip=ip, path=path, method=method, headers={"x-api-key": key})


def run(simulation: WebAclSimulation, traffic, seconds: int) -> list[Outcome]:
    """`traffic(second)` → [(request, count)]; one Outcome per second."""
    outcomes = []
    for second in range(seconds):
        total = Outcome()
        for request, count in traffic(second):
            total.add(simulation.send(second, request, count))
        outcomes.append(total)
    return outcomes


def at_rate(rate: float, burst: int, factor: float = 1.0):
    """Requests per second of a client using its plan's token bucket fully: the burst at once, then
    `factor` times the rate."""
    return lambda second: burst if second == 0 else int(rate * factor)


def routes(edge: Stack):
    for method in gateway.methods(edge):
        http_method, path = SAMPLE_CALLS[method.method_path]
        yield method, http_method, path, gateway.plan_of_method(edge, method)


# --- Within plan: never blocked by WAF ---------------------------------------------------------


def test_a_key_holder_at_its_plans_rate_from_one_address_is_never_blocked(edge):
    seconds = 3 * longest_window(edge)
    for method, http_method, path, plan in routes(edge):
        for waf_path in paths(edge, path):
            simulation = WebAclSimulation(acl_of(edge))
            shape = at_rate(plan.rate_limit, plan.burst_limit)
            outcomes = run(simulation, lambda second: [(keyed(waf_path, http_method, "key-of-" + plan.name), shape(second))], seconds)
            blocked = sum(outcome.blocked for outcome in outcomes)
            assert blocked == 0, f"{edge.name}: {plan.name} at its plan's rate on {http_method} {waf_path} is blocked by WAF"
            assert sum(outcome.allowed for outcome in outcomes) == plan.burst_limit + (seconds - 1) * int(plan.rate_limit)


def test_beyond_its_plan_a_client_meets_api_gateways_429_before_waf(edge):
    """Half again the plan's rate: API Gateway throttles the excess (429); WAF lets it all reach the gateway."""
    seconds = 3 * longest_window(edge)
    for method, http_method, path, plan in routes(edge):
        simulation = WebAclSimulation(acl_of(edge))
        shape = at_rate(plan.rate_limit, plan.burst_limit, factor=1.5)
        outcomes = run(simulation, lambda second: [(keyed(path, http_method, "eager"), shape(second))], seconds)
        assert sum(outcome.blocked for outcome in outcomes) == 0, f"{edge.name}: WAF, not API Gateway, refuses {plan.name} at 1.5x its rate"


def test_one_address_carrying_a_key_of_each_kind_at_full_rate_is_never_blocked(edge):
    """A merchant that both ingests transactions and calls fraud-api, from one egress address."""
    seconds = 3 * longest_window(edge)
    calls = [(keyed(path, http_method, f"key-{plan.name}"), at_rate(plan.rate_limit, plan.burst_limit)) for _, http_method, path, plan in routes(edge)]
    simulation = WebAclSimulation(acl_of(edge))
    outcomes = run(simulation, lambda second: [(request, shape(second)) for request, shape in calls], seconds)
    assert sum(outcome.blocked for outcome in outcomes) == 0


# --- Floods: blocked ---------------------------------------------------------------------------


def test_a_keyless_flood_is_blocked_per_address_and_spares_its_neighbours(edge):
    seconds = 3 * longest_window(edge)
    _, http_method, path, plan = next(routes(edge))
    flood = Request(ip=CLIENT_IP, path=path, method=http_method)
    neighbour = Request(ip=NEIGHBOUR_IP, path=path, method=http_method)
    # A key holder behind the flooding address (a shared NAT) keeps its access.
    customer = keyed(path, http_method, "good-key")
    simulation = WebAclSimulation(acl_of(edge))
    per_request: dict[str, Outcome] = {"flood": Outcome(), "neighbour": Outcome(), "customer": Outcome()}
    for second in range(seconds):
        for name, request, count in (("flood", flood, 50), ("neighbour", neighbour, 1), ("customer", customer, int(plan.rate_limit))):
            per_request[name].add(simulation.send(second, request, count))
    assert set(per_request["flood"].blocked_by) == {"rate-keyless-per-ip"}
    # Blocked requests still count: once over the limit, the flood stays blocked while it lasts.
    assert per_request["flood"].allowed <= 2 * limit(edge, "rate-keyless-per-ip")
    assert per_request["neighbour"].blocked == 0
    assert per_request["customer"].blocked == 0


def test_a_flood_of_made_up_keys_from_one_address_is_blocked(edge):
    """Every made-up key gets its own per-key count; the per-address count of keyed requests does not."""
    seconds = 3 * longest_window(edge)
    _, http_method, path, _ = next(routes(edge))
    guesses_per_second = 100
    # Twice the per-address limit, each made-up key sending far less than any per-key limit.
    each = 2 * limit(edge, "rate-keyed-per-ip") // longest_window(edge) // guesses_per_second + 1
    simulation = WebAclSimulation(acl_of(edge))
    outcomes = run(simulation, lambda second: [(keyed(path, http_method, f"guess-{second}-{n}"), each) for n in range(guesses_per_second)], seconds)
    total = Outcome()
    for outcome in outcomes:
        total.add(outcome)
    assert set(total.blocked_by) == {"rate-keyed-per-ip"}
    assert total.allowed <= 2 * limit(edge, "rate-keyed-per-ip")


def test_a_key_far_beyond_its_plan_is_blocked_by_waf_whatever_its_addresses(edge):
    """Three times the plan's rate, spread over many addresses so no per-address limit applies."""
    seconds = 3 * longest_window(edge)
    for method, http_method, path, plan in routes(edge):
        simulation = WebAclSimulation(acl_of(edge))
        shape = at_rate(plan.rate_limit, plan.burst_limit, factor=3)
        outcomes = run(
            simulation,
            lambda second: [(keyed(path, http_method, "leaked", ip=f"203.0.113.{second % 200}"), shape(second))],
            seconds,
        )
        total = Outcome()
        for outcome in outcomes:
            total.add(outcome)
        assert set(total.blocked_by) == {f"rate-per-key-{method.resource_path.strip('/').split('/')[0]}"}, f"{edge.name}: {plan.name}"


def limit(edge: Stack, rule_name: str) -> int:
    (rule,) = [rule for rule in acl_of(edge)["rule"] if rule["name"] == rule_name]
    return rule["statement"]["rate_based_statement"]["limit"]


# --- The limits table in docs/edge.md ------------------------------------------------------------

WHAT_EACH_RULE_COUNTS = {
    "rate-keyless-per-ip": ("any route, no `x-api-key`", "client IP"),
    "rate-keyed-per-ip": ("any route, with an `x-api-key`", "client IP"),
    "rate-per-key-transactions": ("`POST /transactions`, with a key", "`x-api-key`"),
    "rate-per-key-api": ("`/api/*`, with a key", "`x-api-key`"),
}


def render_limits_table(platform: Platform) -> str:
    edges = {environment: platform.stack(f"edge-{environment}") for environment in ENVIRONMENTS}
    window = {longest_window(edge) for edge in edges.values()}
    (seconds,) = window
    lines = [
        f"| rule | requests | counted per | {' | '.join(ENVIRONMENTS)} |",
        "| --- | --- | --- | " + " | ".join("---:" for _ in ENVIRONMENTS) + " |",
    ]
    for rule, (requests, per) in WHAT_EACH_RULE_COUNTS.items():
        lines.append(f"| `{rule}` | {requests} | {per} | " + " | ".join(f"{limit(edge, rule):,}" for edge in edges.values()) + " |")
    lines.append("")
    lines.append(f"WAF limits are requests per {seconds}-second window. API Gateway's limits per key of each plan:")
    lines.append("")
    lines.append("| plan | route its keys may call | rate (requests/s) | burst | quota | its key on another route |")
    lines.append("| --- | --- | ---: | ---: | ---: | --- |")
    first = edges[ENVIRONMENTS[0]]
    for plan in sorted(gateway.plans(first), key=lambda each: each.name):
        kind = plan.name.removesuffix(f"-{ENVIRONMENTS[0]}")
        for environment, edge in edges.items():
            (same,) = [each for each in gateway.plans(edge) if each.name == f"{kind}-{environment}"]
            assert (same.rate_limit, same.burst_limit, same.quota_per_day) == (plan.rate_limit, plan.burst_limit, plan.quota_per_day), "plans differ per environment: extend the table"
        (allowed,) = [method for method in gateway.methods(first) if plan.answer(method) == gateway.FORWARDED]
        (refused,) = {plan.answer(method) for method in gateway.methods(first) if method != allowed}
        quota = f"{plan.quota_per_day:,}/day" if plan.quota_per_day else "none"
        route = allowed.resource_path.removesuffix("{proxy+}") + ("*" if allowed.resource_path.endswith("{proxy+}") else "")
        verb = "" if allowed.http_method == "ANY" else f"{allowed.http_method} "
        lines.append(f"| `{kind}-<env>` | `{verb}{route}` | {plan.rate_limit:,.0f} | {plan.burst_limit:,} | {quota} | {refused} |")
    return "\n".join(lines)


def test_docs_list_the_limits_of_every_environment(platform):
    from scripts.checkov_exceptions import read_block

    expected = render_limits_table(platform)
    assert read_block(DOC.read_text(), "waf-rate-limits") == expected, "paste into docs/edge.md:\n" + expected
