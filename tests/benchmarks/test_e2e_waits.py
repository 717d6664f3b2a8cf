"""The e2e log reader finds a run's startup and the chain of operations that waited for each other."""

from __future__ import annotations

from benchmarks.e2e_waits import main, parse

LOG = """\
==> terraform apply -auto-approve at 2026-11-22T03:00:00+00:00
    +0.4s data.aws_caller_identity.caller: Reading...
    +0.5s data.aws_caller_identity.caller: Read complete after 0s [id=123]
    +9.0s aws_s3_bucket.logs: Creating...
    +9.2s aws_kms_key.key: Creating...
    +9.5s aws_s3_bucket.logs: Creation complete after 0s [id=logs]
    +9.6s aws_s3_bucket_lifecycle_configuration.logs: Creating...
   +21.0s aws_kms_key.key: Creation complete after 12s [id=k]
   +64.6s aws_s3_bucket_lifecycle_configuration.logs: Creation complete after 55s [id=logs]
   +66.0s Apply complete! Resources: 3 added, 0 changed, 0 destroyed.
==> terraform destroy -auto-approve at 2026-11-22T03:10:00+00:00
    +7.0s aws_s3_bucket.logs: Destroying... [id=logs]
    +7.5s aws_s3_bucket.logs: Destruction complete after 0s
    +8.0s Destroy complete! Resources: 1 destroyed.
"""


def test_each_section_is_one_run_with_its_startup_and_total(tmp_path):
    log = tmp_path / "network-dev.apply.log"
    log.write_text(LOG)
    apply, destroy = parse(log)
    assert (apply.command, apply.total, apply.startup) == ("apply", 66.0, 9.0)
    assert (destroy.command, destroy.total, destroy.startup) == ("destroy", 8.0, 7.0)


def test_the_chain_follows_what_each_operation_waited_for(tmp_path):
    log = tmp_path / "network-dev.apply.log"
    log.write_text(LOG)
    apply, _ = parse(log)
    assert [operation.address for operation in apply.chain()] == ["aws_s3_bucket.logs", "aws_s3_bucket_lifecycle_configuration.logs"]


def test_the_report_adds_the_runs_up(tmp_path, capsys):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "network-dev.apply.log").write_text(LOG)
    assert main([str(tmp_path)]) == 0
    assert "2 Terraform runs: 74 s in all = startup 16 s + resource chains 56 s + rest 2 s" in capsys.readouterr().out


def test_a_workdir_without_timed_logs_is_refused(tmp_path, capsys):
    assert main([str(tmp_path)]) == 2
    assert "no timed apply/destroy logs" in capsys.readouterr().err
