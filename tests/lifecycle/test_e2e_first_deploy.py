"""End to end on the local emulator: the first steps of a new environment, and a first deploy that dies.

On an emulator of its own (the `run` fixture of tests/lifecycle/conftest.py), beside test_e2e.py's whole
lifecycle: the consumers are planned before any producer exists, then the network's first apply
is killed hard half-way, as a vanished CI runner would leave it, and recovered (lock, orphans,
adoption) by the documented commands (docs/lifecycle.md, "When a run dies"). The next deploy
adopts the very resources the killed run made, converges to an empty plan, and after the
teardown `orphans` finds nothing.

    .venv/bin/pytest -m e2e tests/lifecycle/test_e2e_first_deploy.py     # about 6 minutes
"""

from __future__ import annotations

import json
import re

import pytest

from lifecycle.orphans import RULE_TYPES
from lifecycle.resource_kinds import kind_of
from lifecycle.states import StateSummary
from stacks.layers import DEPLOY_ORDER, LAYER_DEPENDENCIES, Layer, stack_id
from tests.lifecycle.emulator_run import ENVIRONMENT, Run, print_timings, tagged_for_the_environment

pytestmark = pytest.mark.e2e

# The layer killed half-way: the cheapest to redeploy. Killed once its KMS alias exists, which the
# provider creates only after the key (13 s on the emulator), by when the VPC, its subnets, the NAT
# gateway and its Elastic IP, and the flow-log bucket exist too.
KILLED = Layer.NETWORK
KILLED_AFTER = "aws_kms_alias."
# Terraform writes the state it has so far at most every 20 s of an apply. On a loaded machine the
# alias can come after that first write, which would leave the key, alias and bucket in the state
# instead of orphaned; the killed run writes none before it dies, as a run killed early does.
KILLED_BEFORE_ANY_STATE_WRITE = {"TF_STATE_PERSIST_INTERVAL": "3600"}


def test_consumers_plan_before_any_producer_and_a_killed_first_deploy_is_recovered(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    run.lifecycle("emulator", "start")
    run.lifecycle("bootstrap", ENVIRONMENT)
    run.lifecycle("prerequisites", ENVIRONMENT, "--skip-synth")

    # Consumers plan before any producer exists, with placeholder upstream outputs.
    consumers = [layer for layer in DEPLOY_ORDER if LAYER_DEPENDENCIES[layer]]
    output = run.lifecycle("plan", ENVIRONMENT, *(layer.value for layer in consumers), "--mock-upstream", "--skip-synth")
    for layer in consumers:
        assert re.search(rf"{stack_id(layer, ENVIRONMENT)}\s+planned in [\d.]+ s \(Plan: [1-9]\d* to add", output), output
    assert all(run.state(layer) is None for layer in DEPLOY_ORDER), "a mocked plan must never write state"
    # ...but deploying a consumer before its producers is refused, naming them.
    refused = run.lifecycle("deploy", ENVIRONMENT, "compute", "--skip-synth", expect=3)
    assert "network-dev, data-dev" in refused

    # A run killed hard in the middle of the network's apply leaves a lock and orphans; both are recovered.
    leaked = _kill_and_recover(run)

    # The next deploy adopts the named orphans, creates no second VPC, and converges.
    output = run.lifecycle("deploy", ENVIRONMENT, KILLED.value, "--skip-synth")
    _assert_the_orphans_were_adopted(run, output, leaked, run.state(KILLED))
    code, output = run.lifecycle_exit("plan", ENVIRONMENT, KILLED.value, "--detailed-exitcode", "--skip-synth")
    assert code == 0, f"after the recovered deploy, the plan is not empty (exit {code}):\n{output}"
    assert "no orphans: everything of dev in the account is in its layers' states" in run.lifecycle("orphans", ENVIRONMENT, "--skip-synth")

    # Torn down, nothing of dev is left: not in a kind `orphans` looks for, nor tagged in another.
    run.lifecycle("destroy", ENVIRONMENT, KILLED.value, "--skip-synth")
    assert run.state(KILLED).managed_resources == 0
    assert "no orphans: everything of dev in the account is in its layers' states" in run.lifecycle("orphans", ENVIRONMENT, "--skip-synth")
    leftovers = tagged_for_the_environment(run)
    assert not leftovers, json.dumps(leftovers, indent=2, default=str)

    with capsys.disabled():
        print_timings(run)


def _kill_and_recover(run: Run) -> dict[str, str]:
    """Kill the network's first apply hard; then status shows the lock, unlock removes it, orphans lists what
    leaked and recover adopts or deletes it. Returns what the killed apply had created (address -> id)."""
    stack = stack_id(KILLED, ENVIRONMENT)
    created = run.killed_during(
        "deploy", ENVIRONMENT, KILLED.value, "--skip-synth", stack=stack, after=KILLED_AFTER, env=KILLED_BEFORE_ANY_STATE_WRITE
    )
    assert any(address.startswith("aws_vpc.") for address in created) and any(address.startswith("aws_s3_bucket.") for address in created), created

    status = run.lifecycle("status", ENVIRONMENT, "--skip-synth")
    lock_id = re.search(rf"^{stack} .*\n +locked: held by \S+ for apply since .*, lock id ([0-9a-f-]+)$", status, re.M).group(1)
    assert f"unlock {ENVIRONMENT} {KILLED.value} --lock-id {lock_id}" in status
    run.lifecycle("unlock", ENVIRONMENT, KILLED.value, "--lock-id", lock_id, "--force", "--skip-synth")
    assert "locked:" not in run.lifecycle("status", ENVIRONMENT, "--skip-synth")

    # Everything the killed apply created that its state does not hold is listed under the network layer,
    # but a rule of an orphaned security group, which goes with its group.
    state = run.state(KILLED)
    held = {f"{r['type']}.{r['name']}" for r in (state.resources if state else ()) if r.get("mode") == "managed" and r.get("instances")}
    leaked = {
        address: identity for address, identity in created.items()
        if kind_of(address.split(".")[0]) and address not in held and address.split(".")[0] not in RULE_TYPES
    }
    orphans = run.lifecycle("orphans", ENVIRONMENT, "--skip-synth", expect=6)
    listed = orphans[orphans.index(f"{stack}:"):orphans.index(f"{stack_id(Layer.DATA, ENVIRONMENT)}:")]
    for address, identity in leaked.items():
        assert re.search(rf"^ +(adopt |delete) {re.escape(address)} +{re.escape(identity)}\b", listed, re.M), f"{address} {identity}:\n{listed}"
    adoptable = set(re.findall(r"^ +adopt +(\S+) ", listed, re.M))
    assert {address.split(".")[0] for address in adoptable} >= {"aws_s3_bucket", "aws_kms_alias", "aws_kms_key"}, listed
    anonymous = re.findall(r"^ +delete (\S+) ", listed, re.M)
    assert {address.split(".")[0] for address in anonymous} >= {"aws_vpc", "aws_subnet", "aws_nat_gateway", "aws_eip"}, listed

    recovered = run.lifecycle("recover", ENVIRONMENT, KILLED.value, "--delete-anonymous", "--skip-synth")
    imports = json.loads((run.workdir / "cdktf.out" / "stacks" / stack / "imports.tf.json").read_text())["import"]
    assert {block["to"] for block in imports} == adoptable
    assert recovered.count("      deleted ") == len(anonymous), recovered
    return {address: created[address] for address in adoptable if address in created}


def _assert_the_orphans_were_adopted(run: Run, output: str, adopted: dict[str, str], state: StateSummary) -> None:
    """The next apply imported what the killed one left (the very resources), and created no second VPC."""
    stack = stack_id(KILLED, ENVIRONMENT)
    assert re.search(rf"^    {stack}: this apply adopts {len(adopted)} orphans", output, re.M), output
    assert re.search(rf"^    {stack}: adopted {len(adopted)} orphans, imports.tf.json removed$", output, re.M), output
    held = {f"{r['type']}.{r['name']}": r["instances"][0]["attributes"]["id"] for r in state.resources if r.get("mode") == "managed"}
    assert {address: held.get(address) for address in adopted} == adopted
    vpcs = run.client("ec2").describe_vpcs(Filters=[{"Name": "tag:Environment", "Values": [ENVIRONMENT]}])["Vpcs"]
    assert [vpc["VpcId"] for vpc in vpcs] == [vpc["id"] for vpc in state.instances("aws_vpc")], "the killed apply's VPC is gone"
