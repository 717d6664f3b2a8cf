"""The e2e report reader finds a run's startup and the chain of operations that waited for each other."""

from __future__ import annotations

import io
import json

from benchmarks.e2e_waits import main, report_files, runs_in
from lifecycle.progress import Progress
from tests.lifecycle.fakes import replay


def resource(address: str, started: float, seconds: float, action: str = "create") -> dict:
    return {"address": address, "action": action, "outcome": "done", "started": started, "seconds": seconds}


APPLY = {
    "stack": "network-dev", "action": "deploy", "outcome": "done", "seconds": 70.0,
    "terraform": {"command": "apply", "started_at": "2026-11-22T03:00:00+00:00", "seconds": 66.0, "resources": [
        resource("data.aws_caller_identity.caller", 0.4, 0.1, action="read"),
        resource("aws_s3_bucket.logs", 9.0, 0.5),
        resource("aws_kms_key.key", 9.2, 11.8),
        resource("aws_s3_bucket_lifecycle_configuration.logs", 9.6, 55.0),
    ]},
}
DESTROY = {
    "stack": "network-dev", "action": "destroy", "outcome": "done", "seconds": 9.0,
    "terraform": {"command": "destroy", "started_at": "2026-11-22T03:10:00+00:00", "seconds": 8.0, "resources": [
        resource("aws_s3_bucket.logs", 7.0, 0.5, action="delete"),
    ]},
}
PLAN = {"stack": "data-dev", "action": "plan", "outcome": "done", "seconds": 9.0,
        "terraform": {"command": "plan", "started_at": "2026-11-22T02:59:00+00:00", "seconds": 8.0, "resources": []}}
SKIPPED = {"stack": "edge-dev", "action": "deploy", "outcome": "skipped", "seconds": 0.0, "terraform": None}


def test_each_apply_and_destroy_step_is_one_run_with_its_startup_and_total():
    apply, destroy = runs_in([PLAN, APPLY, DESTROY, SKIPPED])
    assert (apply.step, apply.total, apply.startup) == ("network-dev.apply", 66.0, 9.0)
    assert (destroy.step, destroy.total, destroy.startup) == ("network-dev.destroy", 8.0, 7.0)


def test_the_chain_follows_what_each_operation_waited_for():
    (apply,) = runs_in([APPLY])
    assert [operation.address for operation in apply.chain()] == ["aws_s3_bucket.logs", "aws_s3_bucket_lifecycle_configuration.logs"]


def test_the_report_adds_the_runs_up_in_the_order_the_e2e_wrote_them(tmp_path, capsys):
    (tmp_path / "report-10.json").write_text(json.dumps([DESTROY]))
    (tmp_path / "report-2.json").write_text(json.dumps([PLAN, APPLY]))
    assert [file.name for file in report_files([tmp_path])] == ["report-2.json", "report-10.json"]
    assert main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2 Terraform runs: 74 s in all = startup 16 s + resource chains 56 s + rest 2 s" in out
    assert out.index("network-dev.apply") < out.index("network-dev.destroy")


def test_it_reads_what_the_lifecycle_writes(tmp_path, capsys):
    # A report written by Progress from a recorded Terraform stream, as `lifecycle --report` writes it.
    progress = Progress(out=io.StringIO(), tick_seconds=None)
    progress.start("network-dev", "deploy")
    replay("long_wait.apply.jsonl", "apply", progress.watch("network-dev"))
    progress.done("network-dev", "deploy")
    progress.write_report(tmp_path / "report.json")

    (run,) = runs_in(json.loads((tmp_path / "report.json").read_text()))
    assert run.startup == 12.7  # Terraform planned before it created anything
    assert [operation.address for operation in run.chain()] == ["aws_s3_bucket.logs", "aws_s3_bucket_lifecycle_configuration.logs"]
    assert main([str(tmp_path / "report.json")]) == 0
    assert "aws_s3_bucket_lifecycle_configuration 55s" in capsys.readouterr().out


def test_a_workdir_without_reports_is_refused(tmp_path, capsys):
    assert main([str(tmp_path)]) == 2
    assert "no apply/destroy steps with resource timings" in capsys.readouterr().err
