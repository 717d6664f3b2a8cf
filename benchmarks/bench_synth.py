"""Synth wall time: all 15 platform stacks in one process against a single-stack baseline.

Runs each in fresh processes, alternating, so both see the same machine load; prints the median
of each, their ratio, and where the platform's time goes (loading the provider bindings,
building the constructs, writing the JSON), with the provider imported lazily (as app.py does)
and eagerly, and checks both ways write byte-identical stacks. Bounded: `--runs` (default 3) of
each, 120 s cap per run.

    .venv/bin/python benchmarks/bench_synth.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

PHASES = """
import json, sys, time
start = time.perf_counter()
if sys.argv[2] == "eager":
    import cdktf_cdktf_provider_aws  # what a plain `import` does: every resource module
from cdktf import App
from stacks.platform import add_account_bootstrap, add_environment
from config.environments import build_account, build_environments
from config.targets import DeploymentTarget
imported = time.perf_counter()
environments = list(build_environments().values())
app = App(outdir=sys.argv[1])
add_account_bootstrap(app, build_account(), DeploymentTarget())
for environment in environments:
    add_environment(app, environment, DeploymentTarget())
built = time.perf_counter()
app.synth()
done = time.perf_counter()
print(json.dumps({"import": imported - start, "build": built - imported, "synth": done - built}))
"""


def _timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO_ROOT, env=env, check=True, capture_output=True, timeout=120)
    return time.perf_counter() - start


def _same_tree(first: Path, second: Path) -> bool:
    files = sorted(path.relative_to(first) for path in first.rglob("*") if path.is_file())
    return files == sorted(path.relative_to(second) for path in second.rglob("*") if path.is_file()) and all(
        (first / name).read_bytes() == (second / name).read_bytes() for name in files
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}

    platform, baseline = [], []
    phases: dict[str, list[dict[str, float]]] = {"lazy": [], "eager": []}
    with tempfile.TemporaryDirectory() as scratch:
        for run in range(args.runs):
            baseline.append(_timed([PYTHON, "benchmarks/reference/single_stack_ecs.py", f"{scratch}/ref{run}"], env))
            platform.append(_timed([PYTHON, "app.py"], {**env, "CDKTF_OUTDIR": f"{scratch}/app{run}"}))
            for mode in phases:
                result = subprocess.run(
                    [PYTHON, "-c", PHASES, f"{scratch}/{mode}{run}", mode], cwd=REPO_ROOT, env=env, check=True, capture_output=True, text=True, timeout=120
                )
                phases[mode].append(json.loads(result.stdout.strip().splitlines()[-1]))
        identical = _same_tree(Path(f"{scratch}/lazy0/stacks"), Path(f"{scratch}/eager0/stacks"))
        stacks = len(list(Path(f"{scratch}/app0/stacks").iterdir()))
        resources = sum(
            len(instances)
            for stack in Path(f"{scratch}/app0/stacks").iterdir()
            for instances in json.loads((stack / "cdk.tf.json").read_text()).get("resource", {}).values()
        )

    median_platform, median_baseline = statistics.median(platform), statistics.median(baseline)
    print(f"runs: {args.runs} of each, fresh processes, alternating; cores: {os.cpu_count()}")
    print(f"single-stack baseline (1 stack)        : {median_baseline:6.1f} s  (runs {', '.join(f'{t:.1f}' for t in baseline)})")
    print(f"platform, all environments ({stacks} stacks, {resources} resources): {median_platform:6.1f} s  (runs {', '.join(f'{t:.1f}' for t in platform)})")
    print(f"ratio platform / baseline              : {median_platform / median_baseline:6.2f}")
    for mode, runs in phases.items():
        parts = ", ".join(f"{phase} {statistics.median(r[phase] for r in runs):4.1f} s" for phase in ("import", "build", "synth"))
        print(f"  in-process phases, provider imported {mode:<5}: {parts}")
    print(f"  lazy and eager imports write identical stacks: {identical}")


if __name__ == "__main__":
    main()
