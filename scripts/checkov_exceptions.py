"""List every checkov exception recorded in a synthesized app, with its reason.

Exceptions live on the resource they concern (`components.compliance.skip_check`), in its `//`
block of the synthesized JSON. This script reads them from a synth directory, without checkov or
cdktf, and renders them as the table in docs/security.md; `tests/security/test_security_doc.py`
fails when that table and the synthesized exceptions disagree.

    .venv/bin/python scripts/checkov_exceptions.py [SYNTH_DIR]                       # print the table
    .venv/bin/python scripts/checkov_exceptions.py [SYNTH_DIR] --write docs/security.md
    .venv/bin/python scripts/checkov_exceptions.py [SYNTH_DIR] --check docs/security.md

SYNTH_DIR defaults to cdktf.out (what scripts/setup.sh synthesizes: every environment).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

# components.compliance.SKIP_KEY (not imported: that module loads cdktf; a test checks they agree).
SKIP_KEY = "checkov_skip"
BLOCK = "checkov-exceptions"
ENVIRONMENT_ORDER = ("dev", "staging", "prod")


@dataclass(frozen=True)
class RecordedException:
    check_id: str
    resource_type: str
    path: str  # construct path without the stack: where the code is
    reason: str
    layer: str
    environments: tuple[str, ...]  # empty for the bootstrap stack


def recorded_exceptions(stacks_dir: Path) -> list[RecordedException]:
    stacks: dict[tuple[str, str, str, str, str], list[str]] = defaultdict(list)
    for stack_file in sorted(stacks_dir.glob("*/cdk.tf.json")):
        stack = stack_file.parent.name
        config = json.loads(stack_file.read_text())
        for block in ("resource", "data"):
            for resource_type, instances in config.get(block, {}).items():
                for body in instances.values():
                    comment = body.get("//", {})
                    path = comment.get("metadata", {}).get("path", f"{stack}/?").split("/", 1)[1]
                    for check_id, reason in comment.get(SKIP_KEY, {}).items():
                        layer, _, environment = stack.rpartition("-") if "-" in stack else (stack, "", "")
                        stacks[(check_id, resource_type, path, reason, layer)].append(environment)
    return sorted(
        (
            RecordedException(check_id, resource_type, path, reason, layer, _ordered(environments))
            for (check_id, resource_type, path, reason, layer), environments in stacks.items()
        ),
        key=lambda each: (_check_order(each.check_id), each.layer, each.path, each.environments),
    )


def render_table(exceptions: list[RecordedException]) -> str:
    lines = ["| check | resource (construct path) | stacks | reason |", "| --- | --- | --- | --- |"]
    for each in exceptions:
        stacks = f"{each.layer}: {', '.join(each.environments)}" if each.environments else each.layer
        reason = " ".join(each.reason.split()).replace("|", "\\|")
        lines.append(f"| {each.check_id} | `{each.resource_type}` {each.path} | {stacks} | {reason} |")
    return "\n".join(lines)


def read_block(text: str, name: str) -> str | None:
    match = _block(name).search(text)
    return match.group(2).strip("\n") if match else None


def replace_block(text: str, name: str, content: str) -> str:
    if not _block(name).search(text):
        raise ValueError(f"no '<!-- BEGIN {name} -->' ... '<!-- END {name} -->' block in the document")
    return _block(name).sub(lambda match: f"{match.group(1)}\n{content}\n{match.group(3)}", text)


def _block(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- BEGIN {re.escape(name)}[^>]*-->)(.*?)(<!-- END {re.escape(name)} -->)", re.DOTALL)


def _ordered(environments: list[str]) -> tuple[str, ...]:
    return tuple(sorted((each for each in environments if each), key=lambda each: (ENVIRONMENT_ORDER + (each,)).index(each)))


def _check_order(check_id: str) -> tuple[str, int]:
    prefix, _, number = check_id.rpartition("_")
    return prefix, int(number)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("synth_dir", nargs="?", default="cdktf.out", type=Path)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", type=Path, metavar="DOC", help="replace the table in DOC")
    mode.add_argument("--check", type=Path, metavar="DOC", help="exit 1 when DOC's table differs")
    args = parser.parse_args(argv)

    stacks_dir = args.synth_dir / "stacks"
    if not stacks_dir.is_dir():
        parser.error(f"{stacks_dir} does not exist: synthesize first (scripts/setup.sh, or CDKTF_OUTDIR=... app.py)")
    table = render_table(recorded_exceptions(stacks_dir))
    if args.write:
        args.write.write_text(replace_block(args.write.read_text(), BLOCK, table))
        return 0
    if args.check:
        if read_block(args.check.read_text(), BLOCK) != table:
            print(f"{args.check} lists other checkov exceptions than {args.synth_dir}; run with --write {args.check}", file=sys.stderr)
            return 1
        return 0
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
