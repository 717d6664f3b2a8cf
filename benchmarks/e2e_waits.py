"""Where the end-to-end run's time goes: each Terraform step taken apart from its timed log.

    .venv/bin/python benchmarks/e2e_waits.py <workdir>     # e.g. the e2e's <tmp>/lifecycle-e2e0

Reads `<workdir>/logs/<stack>.<action>.log` (lifecycle/terraform.py appends one section per
Terraform run, every line stamped with the seconds since that run started) and prints, per run:

- **startup**: from the start to the first resource operation: Terraform starting the 700 MB AWS
  provider several times (schemas, validate, refresh, plan), reading state, locking;
- **chain**: the longest chain of resource operations that waited for one another (an operation
  that starts within a second of another one's end is taken to have waited for it), and its
  slowest links, which are the provider's waiters;
- **rest**: the time not on that chain (writing state, outputs, releasing the lock).

Nothing here runs Terraform; it only reads logs, so it stops by itself in well under a second.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TIMED = re.compile(r"^\s*\+(?P<seconds>\d+\.\d)s (?P<text>.*)$")
STARTED = re.compile(r"^(?P<address>[\w.\-\[\]\"]+): (?P<verb>Creating|Destroying|Modifying|Reading)\.\.\.")
FINISHED = re.compile(r"^(?P<address>[\w.\-\[\]\"]+): (?:Creation|Destruction|Modifications|Read) complete after")
# An operation that starts this soon after another ends is taken to have waited for it.
CHAIN_GAP_SECONDS = 1.0
SHOWN_LINKS = 3


@dataclass
class Operation:
    address: str
    verb: str
    start: float
    end: float | None = None

    @property
    def seconds(self) -> float:
        return (self.end or self.start) - self.start


@dataclass
class Run:
    log: str
    command: str
    at: str
    total: float = 0.0
    operations: list[Operation] = field(default_factory=list)

    @property
    def startup(self) -> float:
        changes = [operation.start for operation in self.operations if operation.verb != "Reading"]
        return min(changes, default=self.total)

    def chain(self) -> list[Operation]:
        """The operations that ended last, walked back through what each one waited for."""
        finished = [operation for operation in self.operations if operation.end is not None and operation.verb != "Reading"]
        if not finished:
            return []
        link = max(finished, key=lambda operation: operation.end or 0.0)
        chain = [link]
        while True:
            # Only operations that started earlier, so the walk always ends.
            waited_for = [
                operation for operation in finished
                if operation.start < link.start and 0 <= link.start - (operation.end or 0.0) <= CHAIN_GAP_SECONDS
            ]
            if not waited_for:
                return list(reversed(chain))
            link = max(waited_for, key=lambda operation: operation.seconds)
            chain.append(link)


def parse(log_file: Path) -> list[Run]:
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from lifecycle.terraform import LOG_SECTION  # what opens each run's section

    section_start = re.compile(rf"^{re.escape(LOG_SECTION)} terraform (?P<command>\w+) .* at (?P<at>\S+)$")
    runs: list[Run] = []
    open_operations: dict[str, Operation] = {}
    for line in log_file.read_text().splitlines():
        if section := section_start.match(line):
            runs.append(Run(log_file.name, section["command"], section["at"]))
            open_operations = {}
            continue
        timed = TIMED.match(line)
        if not timed or not runs:
            continue
        seconds, text, run = float(timed["seconds"]), timed["text"], runs[-1]
        run.total = seconds
        if started := STARTED.match(text):
            operation = Operation(started["address"], started["verb"], seconds)
            open_operations[operation.address] = operation
            run.operations.append(operation)
        elif (finished := FINISHED.match(text)) and finished["address"] in open_operations:
            open_operations.pop(finished["address"]).end = seconds
    return [run for run in runs if run.command in ("apply", "destroy")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path, help="a lifecycle workdir (the e2e's <tmp>/lifecycle-e2e0, or .cache/emulator)")
    args = parser.parse_args(argv)
    logs = sorted((args.workdir / "logs").glob("*.log"))
    runs = sorted((run for log in logs for run in parse(log)), key=lambda run: run.at)
    if not runs:
        print(f"no timed apply/destroy logs under {args.workdir / 'logs'}", file=sys.stderr)
        return 2

    totals = {"total": 0.0, "startup": 0.0, "chain": 0.0}
    print(f"{'started':<20} {'step':<34} {'total':>7} {'startup':>8} {'chain':>7}  slowest links of the chain")
    for run in runs:
        chain = run.chain()
        chain_seconds = (chain[-1].end or 0.0) - chain[0].start if chain else 0.0
        slowest = sorted(chain, key=lambda operation: operation.seconds, reverse=True)[:SHOWN_LINKS]
        links = ", ".join(f"{operation.address.split('.')[0]} {operation.seconds:.0f}s" for operation in slowest)
        step = run.log.removesuffix(".log")
        print(f"{run.at:<20} {step:<34} {run.total:7.1f} {run.startup:8.1f} {chain_seconds:7.1f}  {links}")
        totals["total"] += run.total
        totals["startup"] += run.startup
        totals["chain"] += chain_seconds
    rest = totals["total"] - totals["startup"] - totals["chain"]
    print(f"\n{len(runs)} Terraform runs: {totals['total']:.0f} s in all = startup {totals['startup']:.0f} s"
          f" + resource chains {totals['chain']:.0f} s + rest {rest:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
