"""Where the end-to-end run's time goes: each Terraform step taken apart from the resource timings of its report.

    .venv/bin/python benchmarks/e2e_waits.py <workdir>            # the e2e's workdir, .cache/e2e/lifecycle/test_e2e0 under scripts/test.sh (its report-<n>.json)
    .venv/bin/python benchmarks/e2e_waits.py report.json ...      # any `lifecycle ... --report` files

Every `--report` of the lifecycle records, per apply or destroy step, how long its Terraform
command ran and when each resource operation started (seconds after Terraform started) and how
long it took, from the timestamps of Terraform's own events (`-json`, lifecycle/terraform_ui.py).
This prints, per step:

- **startup**: from the start to the first resource operation: Terraform starting the 700 MB AWS
  provider several times (schemas, validate, refresh, plan), reading state, locking;
- **chain**: the longest chain of resource operations that waited for one another (an operation
  that starts within a second of another one's end is taken to have waited for it), and its
  slowest links, which are the provider's waiters;
- **rest**: the time not on that chain (writing state, outputs, releasing the lock).

Nothing here runs Terraform; it only reads reports, so it stops by itself in well under a second.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# An operation that starts this soon after another ends is taken to have waited for it.
CHAIN_GAP_SECONDS = 1.0
SHOWN_LINKS = 3
TIMED_COMMANDS = ("apply", "destroy")


@dataclass
class Operation:
    address: str
    action: str
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass
class Run:
    step: str  # "<stack>.<command>"
    at: str
    total: float = 0.0
    operations: list[Operation] = field(default_factory=list)

    @property
    def startup(self) -> float:
        return min((operation.start for operation in self.operations), default=self.total)

    def chain(self) -> list[Operation]:
        """The operations that ended last, walked back through what each one waited for."""
        if not self.operations:
            return []
        link = max(self.operations, key=lambda operation: operation.end)
        chain = [link]
        while True:
            # Only operations that started earlier, so the walk always ends.
            waited_for = [
                operation for operation in self.operations
                if operation.start < link.start and 0 <= link.start - operation.end <= CHAIN_GAP_SECONDS
            ]
            if not waited_for:
                return list(reversed(chain))
            link = max(waited_for, key=lambda operation: operation.seconds)
            chain.append(link)


def runs_in(report: list[dict[str, Any]]) -> list[Run]:
    """The apply and destroy runs of one lifecycle report; reads of data sources are not changes and are left out."""
    runs = []
    for step in report:
        terraform = step.get("terraform")
        if not terraform or terraform.get("command") not in TIMED_COMMANDS:
            continue
        operations = [
            Operation(resource["address"], resource["action"], resource["started"], resource["started"] + resource["seconds"])
            for resource in terraform.get("resources", []) if resource.get("action") != "read"
        ]
        runs.append(Run(f"{step['stack']}.{terraform['command']}", terraform.get("started_at", ""), terraform.get("seconds", 0.0), operations))
    return runs


def report_files(paths: list[Path]) -> list[Path]:
    """The files named, and in a directory its report-<n>.json in the order the e2e wrote them."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(path.glob("report-*.json"), key=lambda file: int(re.sub(r"\D", "", file.stem) or 0))
        elif path.exists():
            found.append(path)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", type=Path, nargs="+", help="a lifecycle workdir holding report-<n>.json (the e2e's workdir, .cache/e2e/lifecycle/test_e2e0 under scripts/test.sh), or report files")
    args = parser.parse_args(argv)
    runs = [run for file in report_files(args.paths) for run in runs_in(json.loads(file.read_text()))]
    if not runs:
        print(f"no apply/destroy steps with resource timings in the reports under {', '.join(map(str, args.paths))}", file=sys.stderr)
        return 2

    totals = {"total": 0.0, "startup": 0.0, "chain": 0.0}
    print(f"{'started':<26} {'step':<34} {'total':>7} {'startup':>8} {'chain':>7}  slowest links of the chain")
    for run in runs:
        chain = run.chain()
        chain_seconds = chain[-1].end - chain[0].start if chain else 0.0
        slowest = sorted(chain, key=lambda operation: operation.seconds, reverse=True)[:SHOWN_LINKS]
        links = ", ".join(f"{operation.address.split('.')[0]} {operation.seconds:.0f}s" for operation in slowest)
        print(f"{run.at:<26} {run.step:<34} {run.total:7.1f} {run.startup:8.1f} {chain_seconds:7.1f}  {links}")
        totals["total"] += run.total
        totals["startup"] += run.startup
        totals["chain"] += chain_seconds
    rest = totals["total"] - totals["startup"] - totals["chain"]
    print(f"\n{len(runs)} Terraform runs: {totals['total']:.0f} s in all = startup {totals['startup']:.0f} s"
          f" + resource chains {totals['chain']:.0f} s + rest {rest:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
