"""Plan, review, apply that plan: what `plan --save` keeps and summarizes, and what `apply --plans` applies or refuses.

The plans are `terraform show -json` of real saved plans (tests/lifecycle/streams/saved.*.json,
recorded against the emulator by record.py); Terraform itself is FakeStackDirectory.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from config.environments import build_environments
from config.targets import DeploymentTarget
from lifecycle.operations import Lifecycle, StackFailed
from lifecycle.progress import Progress
from lifecycle.saved_plans import (
    LayerPlan,
    SavedPlansError,
    StateVersion,
    changed_reads,
    outputs_changed_upstream,
    read_directory,
    render_summary,
    staleness,
    value_hash,
)
from lifecycle.states import GuardRefusal, StateSummary
from lifecycle.synth import SynthMismatch
from stacks.layers import DEPLOY_ORDER, Layer, stack_id, state_key
from tests.lifecycle.fakes import (
    RECORDED_NEW_VALUE,
    RECORDED_PRODUCER_KEY,
    RECORDED_READ_OUTPUT,
    RECORDED_READ_VALUE,
    FakeStackDirectory,
    FakeStateReader,
    recorded_plan,
    replay,
    state_document,
    without_changes,
    write_aws_synth,
)

ENVIRONMENT = "dev"
NETWORK_KEY = state_key(ENVIRONMENT, Layer.NETWORK)
# What the recorded plan holds besides addresses: none of it may reach the summary.
RECORDED_VALUES = ("before", "after", "gone soon", '"r"', "new", RECORDED_READ_VALUE, RECORDED_NEW_VALUE)


def consumer_plan(**overrides) -> LayerPlan:
    settings = {"layer": "data", "stack": "data-dev", "state_key": state_key(ENVIRONMENT, Layer.DATA),
                "state": StateVersion(4, "lineage-1"), "config_sha256": "0" * 64} | overrides
    return LayerPlan.from_plan_json(recorded_plan(), **settings)


# --- what a saved plan amounts to -----------------------------------------------------------------


def test_each_change_of_the_recorded_plan_is_named_with_what_changes_and_counted_as_terraform_does():
    plan = consumer_plan()
    assert {change.kind: [change.address] for change in plan.changes} == {
        "created": ["aws_ssm_parameter.added"],
        "updated": ["aws_ssm_parameter.updated"],
        "replaced": ["aws_ssm_parameter.replaced"],
        "destroyed": ["aws_ssm_parameter.removed"],
    }
    # Unchanged resources and data reads are no changes.
    assert not {"aws_ssm_parameter.kept", "aws_ssm_parameter.from_producer"} & {change.address for change in plan.changes}
    assert plan.addresses("replaced")[0].attributes == ("name",)  # what forces the replacement
    assert "value" in plan.addresses("updated")[0].attributes
    assert plan.outputs_changed == ("replaced_name",)
    # The same counts as Terraform's own summary of that plan (a replacement is one add and one destroy).
    terraform = replay("saved.plan.jsonl", "plan")
    assert plan.plan_line == terraform.plan_line == "Plan: 2 to add, 1 to change, 2 to destroy."


def test_the_summary_lists_counts_and_addresses_per_layer_and_never_a_value():
    network = LayerPlan.from_plan_json(without_changes(recorded_plan(reading=None)), layer="network", stack="network-dev",
                                       state_key=NETWORK_KEY, state=StateVersion(12, "lineage-1"), config_sha256="0" * 64)
    summary = render_summary(environment=ENVIRONMENT, where="AWS", planned_at="2026-12-02T08:00:00+00:00",
                             plans=[network, consumer_plan()], failed=["compute-dev"], directory="plans")
    assert "| network-dev | serial 12 | 0 | 0 | 0 |  |" in summary
    assert "| data-dev | serial 4 | 2 | 1 | 2 |  |" in summary
    assert "| compute-dev | | | | | **plan failed**: see the job's log |" in summary
    assert "### network-dev: No changes." in summary
    data = summary[summary.index("### data-dev"):]
    assert data.startswith("### data-dev: Plan: 2 to add, 1 to change, 2 to destroy.")
    for kind, line in (("replaced", "- `aws_ssm_parameter.replaced` (forced by name)"), ("destroyed", "- `aws_ssm_parameter.removed`"),
                       ("created", "- `aws_ssm_parameter.added`")):
        assert re.search(rf"\*\*{kind}\*\* \(1\)\n\n{re.escape(line)}$", data, re.M), data
    assert re.search(r"^- `aws_ssm_parameter\.updated` \(changing [a-z_, ]*value", data, re.M), data
    assert "**outputs changed** (1): `replaced_name`" in data
    # Addresses and attribute names only: the values a plan holds (cross-stack outputs are sensitive) stay out.
    for value in RECORDED_VALUES:
        assert value not in summary.replace("`aws_ssm_parameter.", ""), value


def test_long_lists_fold_but_replacements_and_destructions_never_do():
    document = recorded_plan()
    template = {kind: next(c for c in document["resource_changes"] if c["change"]["actions"] == actions)
                for kind, actions in (("create", ["create"]), ("replace", ["delete", "create"]), ("delete", ["delete"]))}
    document["resource_changes"] = [
        {**template[kind], "address": f"aws_ssm_parameter.{kind}{index}"} for kind in template for index in range(12)
    ]
    summary = render_summary(environment=ENVIRONMENT, where="AWS", planned_at="now", plans=[LayerPlan.from_plan_json(
        document, layer="data", stack="data-dev", state_key="k", state=StateVersion(1, "l"), config_sha256="0")], failed=[], directory="plans")
    assert "<details><summary><b>created</b> (12)</summary>" in summary
    assert "**replaced** (12)" in summary and "**destroyed** (12)" in summary
    assert summary.count("<details>") == 1


# --- what the apply checks --------------------------------------------------------------------------


def test_a_plan_remembers_the_upstream_outputs_it_read_by_hash_and_sees_when_they_change():
    plan = consumer_plan()
    assert plan.reads == {RECORDED_PRODUCER_KEY: {RECORDED_READ_OUTPUT: value_hash(RECORDED_READ_VALUE)}}
    assert RECORDED_READ_VALUE not in json.dumps(plan.to_json())

    def producer_state(value: str):
        return lambda key: StateSummary.parse(state_document(3, outputs={RECORDED_READ_OUTPUT: value})) if key == RECORDED_PRODUCER_KEY else None

    assert changed_reads(plan, producer_state(RECORDED_READ_VALUE)) == {}
    assert changed_reads(plan, producer_state(RECORDED_NEW_VALUE)) == {RECORDED_PRODUCER_KEY: [RECORDED_READ_OUTPUT]}
    assert changed_reads(plan, lambda key: None) == {RECORDED_PRODUCER_KEY: [RECORDED_READ_OUTPUT]}  # producer gone


def test_a_consumer_reading_an_output_its_producers_plan_changes_is_marked_in_the_summary():
    producer = LayerPlan.from_plan_json(recorded_plan("saved.producer.plan.json"), layer="network", stack="network-dev",
                                        state_key=RECORDED_PRODUCER_KEY, state=StateVersion(3, "l"), config_sha256="0")
    assert producer.outputs_changed == (RECORDED_READ_OUTPUT,)
    consumer = consumer_plan()
    assert outputs_changed_upstream(consumer, [producer]) == {"network-dev": [RECORDED_READ_OUTPUT]}
    assert outputs_changed_upstream(consumer, [LayerPlan.from_plan_json(
        without_changes(recorded_plan("saved.producer.plan.json")), layer="network", stack="network-dev",
        state_key=RECORDED_PRODUCER_KEY, state=StateVersion(3, "l"), config_sha256="0")]) == {}
    summary = render_summary(environment=ENVIRONMENT, where="AWS", planned_at="now", plans=[producer, consumer], failed=[], directory="plans")
    assert f"**needs a new plan** once network-dev applied: it read outputs that plan changes (network-dev: {RECORDED_READ_OUTPUT})" in summary


@pytest.mark.parametrize(("planned", "now", "why"), [
    (StateVersion(2, "a"), StateVersion(2, "a"), None),
    (StateVersion(2, "a"), StateVersion(3, "a"), "planned against serial 2, now serial 3"),
    (StateVersion(2, "a"), StateVersion(2, "b"), "planned against serial 2 of lineage a, now serial 2 of lineage b"),
    (StateVersion(0, ""), StateVersion(1, "a"), "planned against no state, now serial 1"),
    (StateVersion(5, "a"), StateVersion(0, ""), "planned against serial 5, now no state"),
])
def test_staleness_names_both_versions(planned, now, why):
    assert staleness(planned, now) == why


def test_a_file_that_is_not_a_plan_is_refused(tmp_path):
    (tmp_path / "tfplan").write_text("not a zip")
    with pytest.raises(SavedPlansError, match="is not a Terraform plan file"):
        StateVersion.in_plan_file(tmp_path / "tfplan")


# --- plan --save and apply --plans, with the fake Terraform ----------------------------------------------


class SavedPlanLifecycle(Lifecycle):
    """A Lifecycle whose Terraform is FakeStackDirectory, showing the plans each test sets."""

    calls: list[str]
    shown: dict[str, dict]
    outputs_after_apply: dict[str, dict]
    fail: str | None = None

    def _directory(self, path, *, quiet=False, observe=None):
        return FakeStackDirectory(path, self.calls, self.reader, self.environment.name, observe=observe, fail=self.fail,
                                  shown=self.shown, outputs_after_apply=self.outputs_after_apply)


def deployed_reader(serials: dict[Layer, int] | None = None) -> FakeStateReader:
    """Every layer deployed; the network's state holds the output the recorded consumer plan reads."""
    serials = serials or {}
    reader = FakeStateReader()
    for layer in Layer:
        outputs = {RECORDED_READ_OUTPUT: RECORDED_READ_VALUE} if layer is Layer.NETWORK else None
        reader.states[state_key(ENVIRONMENT, layer)] = state_document(10, serial=serials.get(layer, 4), outputs=outputs)
    return reader


def write_reading_synth(outdir: Path) -> None:
    """Each consumer's synthesized stack reads the network's output, as cdktf writes a cross-stack reference."""
    write_aws_synth(outdir, ENVIRONMENT)
    for layer in Layer:
        config_file = outdir / "stacks" / stack_id(layer, ENVIRONMENT) / "cdk.tf.json"
        config = json.loads(config_file.read_text())
        if layer is Layer.NETWORK:
            config["output"] = {RECORDED_READ_OUTPUT: {"value": "${aws_ssm_parameter.shared.value}", "sensitive": True}}
        else:
            config["data"] = {"terraform_remote_state": {"network": {"backend": "s3", "config": {"key": NETWORK_KEY}}}}
            config["resource"] = {"aws_ssm_parameter": {"copy": {"value": f"${{data.terraform_remote_state.network.outputs.{RECORDED_READ_OUTPUT}}}"}}}
        config_file.write_text(json.dumps(config))


@pytest.fixture
def make(tmp_path):
    def make(reader: FakeStateReader, *, network_changes_its_output: bool = False) -> tuple[SavedPlanLifecycle, io.StringIO]:
        write_reading_synth(tmp_path / "out")
        out = io.StringIO()
        lifecycle = SavedPlanLifecycle(target=DeploymentTarget(), environment=build_environments()[ENVIRONMENT], outdir=tmp_path / "out",
                                       workdir=tmp_path / "work", reader=reader, progress=Progress(out=out))
        lifecycle.calls = []
        producer = recorded_plan("saved.producer.plan.json", reading=None)
        lifecycle.shown = {
            "network-dev": producer if network_changes_its_output else without_changes(producer),
            **{stack_id(layer, ENVIRONMENT): recorded_plan(reading=NETWORK_KEY) for layer in Layer if layer is not Layer.NETWORK},
        }
        lifecycle.outputs_after_apply = {"network-dev": {RECORDED_READ_OUTPUT: RECORDED_NEW_VALUE if network_changes_its_output else RECORDED_READ_VALUE}}
        return lifecycle, out

    return make


def applied(calls: list[str]) -> list[str]:
    return [call.split()[1] for call in calls if call.startswith("apply-plan")]


def test_plan_save_keeps_each_plan_its_json_the_state_it_read_and_a_summary(make, tmp_path):
    lifecycle, out = make(deployed_reader({Layer.COMPUTE: 9}))
    saved = tmp_path / "plans"
    lifecycle.plan(list(Layer), mock_upstream=False, save=saved)

    # Saved plans take no lock (the plan job's role cannot write one): staleness is checked at apply instead.
    assert sorted(call for call in lifecycle.calls if call.startswith("plan")) == sorted(f"plan {layer.value}-dev -lock=false" for layer in Layer)
    for layer in Layer:
        name = stack_id(layer, ENVIRONMENT)
        assert (saved / name / "tfplan").exists()
        assert json.loads((saved / name / "tfplan.json").read_text()) == lifecycle.shown[name]
        record = json.loads((saved / name / "planned.json").read_text())
        assert record["state"] == {"serial": 9 if layer is Layer.COMPUTE else 4, "lineage": "lineage-1"}
    manifest = json.loads((saved / "manifest.json").read_text())
    assert (manifest["environment"], manifest["target"], manifest["stacks"]) == (ENVIRONMENT, "aws", [stack_id(layer, ENVIRONMENT) for layer in DEPLOY_ORDER])
    summary = (saved / "summary.md").read_text()
    rows = [line.split(" | ")[0].lstrip("| ") for line in summary.splitlines() if line.startswith("| ") and "-dev" in line]
    assert rows == [stack_id(layer, ENVIRONMENT) for layer in DEPLOY_ORDER]
    assert "| compute-dev | serial 9 | 2 | 1 | 2 |  |" in summary
    assert f"apply with `apply dev --plans {saved}`" in out.getvalue()


def test_apply_applies_exactly_the_saved_plans_in_dag_order_and_skips_a_plan_without_changes(make, tmp_path):
    lifecycle, out = make(deployed_reader())
    lifecycle.plan(list(Layer), mock_upstream=False, save=tmp_path / "plans")
    lifecycle.calls.clear()
    lifecycle.apply_saved(tmp_path / "plans")

    consumers = [stack_id(layer, ENVIRONMENT) for layer in DEPLOY_ORDER if layer is not Layer.NETWORK]
    assert applied(lifecycle.calls) == consumers  # the network's plan changes nothing
    assert "network-dev: no changes in its plan, skipped" in out.getvalue()
    for call in lifecycle.calls:
        if call.startswith("apply-plan"):
            name = call.split()[1]
            assert call.split()[2] == str((tmp_path / "plans" / name / "tfplan").resolve())
            assert lifecycle.calls.index(f"init {name}") < lifecycle.calls.index(call)
    assert not any(call.startswith(("plan", "apply ")) for call in lifecycle.calls)  # nothing planned anew
    assert re.search(r"\[5/5\] observability-dev\s+applied in \d+\.\d s \(5 resources\)", out.getvalue()), out.getvalue()


def test_a_stale_plan_is_refused_before_anything_is_applied_naming_the_layer_and_both_serials(make, tmp_path):
    reader = deployed_reader()
    lifecycle, _ = make(reader, network_changes_its_output=True)
    lifecycle.plan(list(Layer), mock_upstream=False, save=tmp_path / "plans")
    reader.states[state_key(ENVIRONMENT, Layer.EDGE)]["serial"] = 5  # another run applied edge meanwhile
    lifecycle.calls.clear()
    with pytest.raises(GuardRefusal) as refusal:
        lifecycle.apply_saved(tmp_path / "plans")
    message = str(refusal.value)
    assert message.startswith("refusing to apply the saved plan of edge-dev: its state moved since the plan (planned against serial 4, now serial 5)")
    assert f"plan dev --save {tmp_path / 'plans'}" in message and "\n" not in message
    assert lifecycle.calls == []  # not even an init


def test_a_consumer_is_refused_once_its_producer_changed_an_output_it_read(make, tmp_path):
    lifecycle, out = make(deployed_reader(), network_changes_its_output=True)
    lifecycle.plan(list(Layer), mock_upstream=False, save=tmp_path / "plans")
    summary = (tmp_path / "plans" / "summary.md").read_text()
    assert "| data-dev | serial 4 | 2 | 1 | 2 | **needs a new plan** once network-dev applied" in summary
    lifecycle.calls.clear()
    with pytest.raises(GuardRefusal, match=rf"saved plan of data-dev: the upstream outputs it was planned with have changed since \(network-dev: {RECORDED_READ_OUTPUT}\)"):
        lifecycle.apply_saved(tmp_path / "plans")
    assert applied(lifecycle.calls) == ["network-dev"]  # the producer's own plan is sound
    assert "not attempted (data-dev needs a new plan): data-dev, compute-dev, edge-dev, observability-dev" in out.getvalue()
    assert "data-dev: its plan read 1 output(s) that network-dev's plan changes: refused after network-dev" in out.getvalue()


def test_a_layer_whose_producer_has_no_state_is_planned_for_review_only_never_kept_and_refused(make, tmp_path):
    reader = deployed_reader()
    for layer in Layer:
        del reader.states[state_key(ENVIRONMENT, layer)]  # a new environment
    lifecycle, out = make(reader)
    lifecycle.shown["network-dev"] = recorded_plan("saved.producer.plan.json", reading=None)
    lifecycle.plan(list(Layer), mock_upstream=False, save=tmp_path / "plans")
    assert "data-dev: planned for review only, with placeholders for the outputs of network-dev (no state)" in out.getvalue()
    # The placeholders were planned on a copy; the plan file made from them is gone.
    assert (tmp_path / "work" / "mock-plan" / "data-dev" / "MOCK_UPSTREAM").exists()
    assert not (tmp_path / "plans" / "data-dev" / "tfplan").exists() and (tmp_path / "plans" / "data-dev" / "tfplan.json").exists()
    assert (tmp_path / "plans" / "network-dev" / "tfplan").exists()
    assert "| data-dev | no state | 2 | 1 | 2 | **review only**, not applied" in (tmp_path / "plans" / "summary.md").read_text()

    lifecycle.calls.clear()
    with pytest.raises(GuardRefusal, match="saved plan of data-dev: it was planned for review only"):
        lifecycle.apply_saved(tmp_path / "plans")
    assert applied(lifecycle.calls) == ["network-dev"]


def test_plans_are_applied_only_with_the_synth_output_they_were_made_from(make, tmp_path):
    lifecycle, _ = make(deployed_reader())
    lifecycle.plan(list(Layer), mock_upstream=False, save=tmp_path / "plans")
    config_file = tmp_path / "out" / "stacks" / "compute-dev" / "cdk.tf.json"
    config_file.write_text(config_file.read_text().replace("copy", "copy2"))
    lifecycle.calls.clear()
    with pytest.raises(SynthMismatch, match="is not the synthesized stack compute-dev was planned from"):
        lifecycle.apply_saved(tmp_path / "plans")
    assert lifecycle.calls == []


def test_plans_of_another_environment_or_an_incomplete_set_are_refused(make, tmp_path):
    lifecycle, _ = make(deployed_reader())
    lifecycle.plan(list(Layer), mock_upstream=False, save=tmp_path / "plans")
    with pytest.raises(SavedPlansError, match="holds plans for dev, not staging"):
        read_directory(tmp_path / "plans", environment="staging")
    (tmp_path / "plans" / "edge-dev" / "tfplan").unlink()
    with pytest.raises(SavedPlansError, match="edge-dev/tfplan is missing"):
        lifecycle.apply_saved(tmp_path / "plans")
    with pytest.raises(SavedPlansError, match="holds no saved plans"):
        lifecycle.apply_saved(tmp_path / "elsewhere")
    assert not applied(lifecycle.calls)


def test_a_relative_directory_works_although_terraform_runs_in_each_stacks_directory(make, tmp_path, monkeypatch):
    lifecycle, _ = make(deployed_reader())
    monkeypatch.chdir(tmp_path)
    lifecycle.plan(list(Layer), mock_upstream=False, save=Path("plans"))
    lifecycle.apply_saved(Path("plans"))
    assert applied(lifecycle.calls) == [stack_id(layer, ENVIRONMENT) for layer in DEPLOY_ORDER if layer is not Layer.NETWORK]


def test_an_incomplete_set_is_never_applied_and_is_replaced_by_the_next_plan(make, tmp_path):
    lifecycle, _ = make(deployed_reader())
    lifecycle.plan(list(Layer), mock_upstream=False, save=tmp_path / "plans")
    # A plan that failed: the others are kept and summarized, the set is marked incomplete.
    lifecycle.fail = "edge-dev"
    with pytest.raises(StackFailed):
        lifecycle.plan(list(Layer), mock_upstream=False, save=tmp_path / "plans")
    assert "| edge-dev | | | | | **plan failed**" in (tmp_path / "plans" / "summary.md").read_text()
    lifecycle.fail = None
    lifecycle.calls.clear()
    with pytest.raises(SavedPlansError, match="is incomplete: the plan of edge-dev failed; plan again"):
        lifecycle.apply_saved(tmp_path / "plans")
    assert not applied(lifecycle.calls)
    # Interrupted before the end: only the first manifest, which no apply takes, and the next plan replaces it.
    (tmp_path / "plans" / "manifest.json").write_text(json.dumps({"format": 1, "environment": "dev", "complete": False}))
    with pytest.raises(SavedPlansError, match="the planning did not finish"):
        lifecycle.apply_saved(tmp_path / "plans")
    lifecycle.plan([Layer.NETWORK], mock_upstream=False, save=tmp_path / "plans")
    assert json.loads((tmp_path / "plans" / "manifest.json").read_text())["complete"] is True


def test_saving_over_other_files_is_refused_and_earlier_plans_are_replaced(make, tmp_path):
    lifecycle, _ = make(deployed_reader())
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(SavedPlansError, match="holds files that are not saved plans"):
        lifecycle.plan([Layer.NETWORK], mock_upstream=False, save=tmp_path / "busy")
    assert lifecycle.calls == []
    lifecycle.plan(list(Layer), mock_upstream=False, save=tmp_path / "plans")
    lifecycle.plan([Layer.NETWORK], mock_upstream=False, save=tmp_path / "plans")
    assert sorted(path.name for path in (tmp_path / "plans").iterdir()) == ["manifest.json", "network-dev", "summary.md"]


def test_on_aws_the_plans_travel_sealed_and_apply_only_with_the_key(make, tmp_path, state_key_kms):
    client, _ = state_key_kms
    lifecycle, out = make(deployed_reader())
    lifecycle.plan(list(Layer), mock_upstream=False, save=tmp_path / "plans", kms=client)
    assert sorted(path.name for path in (tmp_path / "plans").iterdir()) == ["plans.sealed", "summary.md"]
    assert "| compute-dev | serial 4 | 2 | 1 | 2 |  |" in (tmp_path / "plans" / "summary.md").read_text()

    with pytest.raises(SavedPlansError, match="sealed with KMS"):
        lifecycle.apply_saved(tmp_path / "plans")
    lifecycle.calls.clear()
    lifecycle.apply_saved(tmp_path / "plans", kms=client)
    assert applied(lifecycle.calls) == [stack_id(layer, ENVIRONMENT) for layer in DEPLOY_ORDER if layer is not Layer.NETWORK]
    # Opened into the workdir; what a refusal tells to do names the directory the user gave.
    assert all(f"{tmp_path / 'work' / 'saved-plans' / 'dev'}/" in call for call in lifecycle.calls if call.startswith("apply-plan"))
    with pytest.raises(GuardRefusal, match=rf"plan again \(scripts/lifecycle.sh plan dev --save {tmp_path / 'plans'}\)"):
        lifecycle.apply_saved(tmp_path / "plans", kms=client)
