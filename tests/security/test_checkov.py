"""checkov over every synthesized stack: no failed check, and every exception recorded in code.

An exception is a `skip_check(...)` on the resource it concerns (components/compliance.py); it
lands in the resource's `//` block, which is where this test looks. A recorded exception for a
check that passes, or that checkov never evaluated there, is stale and fails too.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from components.compliance import SKIP_KEY

STACKS = [f"{layer}-{env}" for env in ("dev", "staging", "prod") for layer in ("network", "data", "compute", "edge", "observability")] + ["bootstrap"]
_CHECK_ID = re.compile(r"^CKV2?_[A-Z]+_\d+$")


def _recorded_skips(stack_config: dict) -> dict[str, dict[str, str]]:
    """Logical id → {check id: reason} over every resource and data source of a stack."""
    skips: dict[str, dict[str, str]] = defaultdict(dict)
    for block in ("resource", "data"):
        for instances in stack_config.get(block, {}).values():
            for logical_id, body in instances.items():
                skips[logical_id].update(body.get("//", {}).get(SKIP_KEY, {}))
    return skips


def _logical_id(checkov_resource: str) -> str:
    # checkov names resources `resource.<id>`, `data.<id>` or `<type>.<id>`.
    return checkov_resource.split(".", 1)[1]


@pytest.mark.background_scan
@pytest.mark.parametrize("stack_name", STACKS)
def test_stack_has_no_failed_checkov_check(synthesis, stack_name):
    results = synthesis.security_scan()[stack_name]
    config = synthesis.stack_by_name(stack_name).config
    skips = _recorded_skips(config)

    unexplained = [
        f"{failure['check_id']} on {failure['resource']}: {failure['check_name']}"
        for failure in results["failed"]
        if failure["check_id"] not in skips.get(_logical_id(failure["resource"]), {})
    ]
    assert not unexplained, "fix these or skip_check() them with a reason:\n" + "\n".join(sorted(set(unexplained)))

    failed = {(failure["check_id"], _logical_id(failure["resource"])) for failure in results["failed"]}
    stale = [
        f"{check_id} on {logical_id}"
        for logical_id, checks in skips.items()
        for check_id in checks
        if (check_id, logical_id) not in failed
    ]
    assert not stale, "these recorded exceptions no longer match a failing check; remove them:\n" + "\n".join(sorted(stale))
    assert results["passed"], f"checkov evaluated nothing in {stack_name}"


def test_every_synthesized_stack_is_in_the_scan_list(synthesis):
    """A new stack (or a renamed one) must not escape the gate."""
    synthesized = sorted(directory.name for directory in (synthesis.outdir / "stacks").iterdir())
    assert synthesized == sorted(STACKS)


@pytest.mark.parametrize("stack_name", STACKS)
def test_every_recorded_exception_names_a_check_and_a_reason(synthesis, stack_name):
    """skip_check() refuses a vague reason; this catches a `//` override written by hand."""
    for logical_id, checks in _recorded_skips(synthesis.stack_by_name(stack_name).config).items():
        for check_id, reason in checks.items():
            assert _CHECK_ID.match(check_id), f"{logical_id}: {check_id!r}"
            assert isinstance(reason, str) and len(reason.split()) >= 4, f"{logical_id}: {check_id} needs a reason, got {reason!r}"


@pytest.mark.background_scan
def test_checkov_scanned_every_stack(synthesis):
    assert sorted(synthesis.security_scan()) == sorted(STACKS)
