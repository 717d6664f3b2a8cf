"""Security-scanner exceptions, recorded on the resource they concern.

checkov reads the synthesized JSON but has no inline suppression for it, so each exception is
written into the resource's `//` comment block, with its reason; the checkov test treats exactly
those as skipped and fails on everything else (and on exceptions nobody needs any more).
"""

from __future__ import annotations

import re

from cdktf import TerraformDataSource, TerraformElement, TerraformStack

SKIP_KEY = "checkov_skip"
_CHECK_ID = re.compile(r"^CKV2?_[A-Z]+_\d+$")


def skip_check(element: TerraformElement, check_id: str, reason: str) -> None:
    """Record that `check_id` does not apply to `element`, and why."""
    if not _CHECK_ID.match(check_id):
        raise ValueError(f"'{check_id}' is not a checkov check id like CKV_AWS_18")
    if len(reason.strip()) < 15:
        raise ValueError(f"skipping {check_id} needs a reason a reviewer can judge, got '{reason}'")
    if isinstance(element, TerraformDataSource):
        # cdktf writes a data source's `//` metadata after its own overrides, replacing them;
        # a stack-level override is applied last, so it survives.
        stack = TerraformStack.of(element)
        address = f"data.{element.terraform_resource_type}.{stack.get_logical_id(element)}"
        stack.add_override(f"{address}.//.{SKIP_KEY}.{check_id}", reason)
    else:
        element.add_override(f"//.{SKIP_KEY}.{check_id}", reason)
