"""Terraform's -json stream read into one command's progress: counts, timings, errors, the interrupt, the lock."""

from __future__ import annotations

from lifecycle.terraform_ui import TerraformRun, UiEvent, parse_event
from tests.lifecycle.fakes import recorded_events, replay


def test_lines_that_are_not_terraform_events_are_left_to_the_log():
    assert parse_event("There are some problems with the CLI configuration:\n") is None
    assert parse_event("│ Warning: Unable to open CLI configuration file\n") is None
    assert parse_event('{"not": "an event"}') is None
    assert parse_event("{broken") is None
    (version,) = [event for event in recorded_events("apply.jsonl") if event.type == "version"]
    assert version.message == "Terraform 1.11.4" and version.at > 0


def test_an_apply_counts_what_it_planned_and_what_it_did():
    run = replay("apply.jsonl", "apply")
    assert (run.planned, run.done, run.changes, run.errors) == (5, 5, {"added": 5, "changed": 0, "destroyed": 0}, [])
    assert run.slowest.address == "aws_kms_key.key"  # KMS keys: the provider waits for them to settle
    assert run.phase == "writing the state" and run.in_progress == {}


def test_a_plan_says_its_summary_as_terraform_does():
    assert replay("plan.jsonl", "plan").plan_line == "Plan: 5 to add, 0 to change, 0 to destroy."
    nothing = TerraformRun("plan", started_at=0.0)
    nothing.feed(UiEvent("change_summary", 1.0, "Plan: 0 to add, 0 to change, 0 to destroy.", changes={"add": 0, "change": 0, "remove": 0, "operation": "plan"}))
    assert nothing.plan_line == "No changes."


def test_a_destroy_counts_deletions_and_refreshes_are_not_operations():
    run = replay("destroy.jsonl", "destroy")
    assert (run.planned, run.done, run.changes["destroyed"]) == (5, 5, 5)
    assert {timing.action for timing in run.finished} == {"delete"}


def test_a_failed_apply_counts_what_finished_and_names_the_failing_resource():
    run = replay("failed.apply.jsonl", "apply")
    assert run.applied is None  # Terraform printed no final summary...
    assert run.changes == {"added": 2, "changed": 0, "destroyed": 0}  # ...so what completed is counted
    assert run.failing_resources() == ["aws_iam_role_policy_attachment.missing"]
    assert [timing.outcome for timing in run.finished if timing.address == "aws_iam_role_policy_attachment.missing"] == ["failed"]


def test_an_interrupt_marks_what_was_stopped_mid_operation_and_repeated_errors_count_once():
    run = replay("interrupted.apply.jsonl", "apply")
    assert run.interrupted_at is not None and run.phase == "stopping (interrupted)"
    assert [timing.address for timing in run.stopped_mid_operation] == ["aws_s3_bucket_lifecycle_configuration.logs", "aws_sqs_queue.alerts"]
    assert len(run.diagnostics) == 6
    assert [error.summary for error in run.errors].count("execution halted") == 1
    assert not run.hit_lock()


def test_a_held_lock_is_recognised():
    run = replay("locked.apply.jsonl", "apply")
    assert run.hit_lock() and run.planned is None and run.finished == []
