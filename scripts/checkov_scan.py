"""Scan synthesized stacks with checkov, one stack at a time, in one process.

Runs under checkov's own virtualenv (its pinned dependencies clash with the project's), so it
imports nothing from the project. Each stack gets its own runner: checkov's graph would otherwise
link same-named resources of different stacks. Prints {stack: {"passed": [...], "failed": [...]}}.

    .cache/checkov-venv/bin/python scripts/checkov_scan.py cdktf.out/stacks/*/cdk.tf.json
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("BC_SKIP_MAPPING", "TRUE")
os.environ.setdefault("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false")
logging.disable(logging.WARNING)

from checkov.runner_filter import RunnerFilter  # noqa: E402
from checkov.terraform_json.runner import TerraformJsonRunner  # noqa: E402


def _record(check) -> dict[str, str]:
    return {"check_id": check.check_id, "resource": check.resource, "check_name": check.check_name, "guideline": check.guideline or ""}


def scan(stack_file: Path) -> dict[str, list[dict[str, str]]]:
    report = TerraformJsonRunner().run(
        root_folder=None, files=[str(stack_file)], runner_filter=RunnerFilter(framework=["terraform_json"], download_external_modules=False)
    )
    reports = report if isinstance(report, list) else [report]
    return {
        "passed": [_record(check) for each in reports for check in each.passed_checks],
        "failed": [_record(check) for each in reports for check in each.failed_checks],
    }


if __name__ == "__main__":
    results = {Path(path).parent.name: scan(Path(path)) for path in sys.argv[1:]}
    json.dump(results, sys.stdout)
