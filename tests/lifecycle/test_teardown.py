"""A prod teardown is deliberate and keeps what must be kept; dev and staging go in one command.

The confirmation (refused without it, refused naming another environment, accepted with it, never
asked in dev), the final backups' names, and the teardown that takes them, keeps their key and
reports everything kept, against moto's RDS, DynamoDB and KMS.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta, timezone

import boto3
import pytest
from moto import mock_aws

from config.environments import build_environments
from config.targets import DeploymentTarget
from lifecycle import cli
from lifecycle.cli import EXIT_REFUSED, EXIT_STATE_UNREADABLE, main
from lifecycle.interrupts import Interrupted
from lifecycle.operations import Lifecycle, StackFailed
from lifecycle.progress import Progress
from lifecycle.states import GuardRefusal, StateSummary, state_key
from lifecycle.teardown import FinalBackupFailed, FinalBackups, check_confirmation, final_backup_name
from stacks.layers import DEPLOY_ORDER, Layer
from tests.lifecycle.fakes import FakeStackDirectory, FakeStateReader, state_document, write_aws_synth

REGION = "us-east-1"
CLUSTER = "fraud-aurora-prod"
TABLE = "fraud-transactions-prod"
SECRET = "fraud-api-config-prod"
FLOW_LOGS = "arn:aws:s3:::fraud-detection-audit-flow-logs-123456789012-us-east-1/vpc-flow-logs/prod/"
ALB_LOGS = "fraud-detection-audit-alb-logs-123456789012-us-east-1"


# --- the confirmation -----------------------------------------------------------------------


def test_prod_is_refused_without_a_confirmation():
    prod = build_environments()["prod"]
    with pytest.raises(GuardRefusal, match=r"refusing to destroy edge-prod without a confirmation: prod asks for its name .* Add --confirm prod"):
        check_confirmation(prod, ["edge-prod"], None)


@pytest.mark.parametrize("environment, typed", [("prod", "dev"), ("prod", "Prod"), ("prod", "prod "), ("dev", "staging")])
def test_a_confirmation_naming_anything_else_is_refused_in_every_environment(environment, typed):
    with pytest.raises(GuardRefusal, match=rf"the confirmation names '{typed}', not '{environment}'"):
        check_confirmation(build_environments()[environment], [f"edge-{environment}"], typed)


def test_prod_is_accepted_with_its_name_and_dev_and_staging_never_need_one():
    environments = build_environments()
    check_confirmation(environments["prod"], ["edge-prod"], "prod")
    for name in ("dev", "staging"):
        check_confirmation(environments[name], [f"edge-{name}"], None)


class RecordingLifecycle(Lifecycle):
    calls: list[str]

    def _directory(self, path, *, quiet=False, observe=None):
        return TerraformLike(path, self.calls, self.reader, self.environment.name, observe=observe, clients=self.clients)


class TerraformLike(FakeStackDirectory):
    """The stand-in Terraform, whose destroy of the data layer also does what Terraform's does to
    its keys: schedule their deletion (the one AWS side effect the teardown's key keeping sees)."""

    def __init__(self, *args, clients=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.clients = clients

    def destroy(self):
        key_arns = [key["arn"] for key in self.reader.read(state_key("prod", Layer.DATA)).instances("aws_kms_key")] if self.name == "data-prod" else []
        run = super().destroy()
        for arn in key_arns:
            kms = self.clients.client("kms")
            kms.schedule_key_deletion(KeyId=kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyId"], PendingWindowInDays=30)
        return run


def make_lifecycle(tmp_path, environment: str, reader: FakeStateReader, clients=None) -> tuple[RecordingLifecycle, io.StringIO]:
    write_aws_synth(tmp_path / "out", environment)
    out = io.StringIO()
    lifecycle = RecordingLifecycle(
        target=DeploymentTarget(), environment=build_environments()[environment], outdir=tmp_path / "out", workdir=tmp_path / "work",
        reader=reader, progress=Progress(out=out, tick_seconds=None), clients=clients,
    )
    lifecycle.calls = []
    return lifecycle, out


class CountingReader(FakeStateReader):
    reads: int = 0

    def read(self, key):
        self.reads += 1
        return super().read(key)


@pytest.mark.parametrize("confirmation", [None, "staging"])
def test_a_refused_prod_teardown_reads_and_touches_nothing(tmp_path, confirmation):
    reader = CountingReader.with_layers("prod", network=40, data=10, compute=20, edge=5, observability=4)
    lifecycle, _ = make_lifecycle(tmp_path, "prod", reader)
    with pytest.raises(GuardRefusal):
        lifecycle.destroy([Layer.OBSERVABILITY], confirmation=confirmation)
    assert lifecycle.calls == [] and reader.reads == 0


def test_a_confirmed_prod_teardown_of_a_stateless_layer_runs(tmp_path):
    lifecycle, _ = make_lifecycle(tmp_path, "prod", FakeStateReader.with_layers("prod", network=40, data=10, compute=20, edge=5, observability=4))
    lifecycle.destroy([Layer.OBSERVABILITY], confirmation="prod")
    assert "destroy observability-prod" in lifecycle.calls


# --- the command line -------------------------------------------------------------------------


def run_cli(tmp_path, capsys, environment: str, *command: str) -> tuple[int, str, str]:
    write_aws_synth(tmp_path / "out", environment)
    code = main([*command, "--target", "aws", "--skip-synth", "--outdir", str(tmp_path / "out"), "--workdir", str(tmp_path / "work")])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def terminal(monkeypatch):
    """A terminal on stdin whose prompt answers `typed` (None: the prompt must never be shown)."""
    asked: list[str] = []

    def use(typed: str | None | type[EOFError]) -> list[str]:
        def ask(prompt: str) -> str:
            asked.append(prompt)
            if typed is None:
                raise AssertionError(f"asked for a confirmation: {prompt}")
            if typed is EOFError:
                raise EOFError
            return typed

        monkeypatch.setattr(cli, "_is_terminal", lambda: True)
        monkeypatch.setattr(cli, "_ask", ask)
        return asked

    return use


@pytest.mark.parametrize("command", [("down", "dev"), ("destroy", "dev", "all"), ("down", "staging")])
def test_dev_and_staging_go_down_in_one_command_without_a_prompt(command, tmp_path, capsys, mock_state_bucket, terminal):
    asked = terminal(None)
    code, out, err = run_cli(tmp_path, capsys, command[1], *command)
    assert code == 0, err
    assert asked == []
    assert f"==> destroy {command[1]} on AWS" in out


def test_prod_without_a_terminal_or_confirm_is_refused_before_any_read(tmp_path, capsys, monkeypatch):
    # Not even the state bucket is read: a wrong one would be exit 5, not this refusal.
    monkeypatch.setenv("FRAUD_STATE_BUCKET", "no-such-state-bucket-anywhere")
    monkeypatch.setattr(cli, "_is_terminal", lambda: False)
    code, out, err = run_cli(tmp_path, capsys, "prod", "down", "prod")
    assert code == EXIT_REFUSED
    assert err.strip().splitlines() == [
        "refused: refusing to destroy observability-prod, edge-prod, compute-prod, data-prod, network-prod without a confirmation: "
        "prod asks for its name before any of its layers is destroyed (teardown.confirm_with_name). Add --confirm prod, "
        "or run it on a terminal and type prod at the prompt"
    ]
    assert out == ""


@pytest.mark.parametrize("typed", ["dev", "", EOFError])
def test_prod_at_the_prompt_is_refused_unless_its_name_is_typed(typed, tmp_path, capsys, mock_state_bucket, terminal):
    asked = terminal(typed)
    code, out, err = run_cli(tmp_path, capsys, "prod", "destroy", "prod", "edge")
    assert code == EXIT_REFUSED and len(asked) == 1
    assert "Type the environment's name (prod) to destroy it" in asked[0]
    assert "About to destroy edge-prod on AWS. Final backups of its data are taken first." in err
    assert "==> destroy" not in out


def test_prod_at_the_prompt_goes_on_once_its_name_is_typed(tmp_path, capsys, mock_state_bucket, terminal):
    asked = terminal("prod")
    code, out, err = run_cli(tmp_path, capsys, "prod", "destroy", "prod", "edge")
    assert code == 0, err
    assert len(asked) == 1 and "==> destroy prod on AWS: edge-prod" in out


def test_prod_with_confirm_asks_nothing_and_a_wrong_confirm_is_refused(tmp_path, capsys, mock_state_bucket, terminal):
    asked = terminal(None)
    assert run_cli(tmp_path, capsys, "prod", "destroy", "prod", "edge", "--confirm", "prod")[0] == 0
    code, _, err = run_cli(tmp_path, capsys, "prod", "destroy", "prod", "edge", "--confirm", "staging")
    assert code == EXIT_REFUSED and "the confirmation names 'staging', not 'prod'" in err
    assert asked == []


def test_a_confirmed_prod_teardown_still_fails_closed_on_an_unreadable_state(tmp_path, capsys, mock_state_bucket, monkeypatch):
    monkeypatch.setenv("FRAUD_STATE_BUCKET", "no-such-state-bucket-anywhere")
    code, _, err = run_cli(tmp_path, capsys, "prod", "down", "prod", "--confirm", "prod")
    assert code == EXIT_STATE_UNREADABLE and "no-such-state-bucket-anywhere does not exist" in err


# --- final backups: names -------------------------------------------------------------------------

RDS_SNAPSHOT_IDENTIFIER = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,254}(?<!-)$")
DYNAMODB_BACKUP_NAME = re.compile(r"^[a-zA-Z0-9_.-]{3,255}$")


def test_final_backup_names_are_deterministic_per_resource_and_time_and_carry_the_environment():
    at = datetime(2026, 12, 2, 9, 30, 5, tzinfo=UTC)
    assert final_backup_name(CLUSTER, at) == "fraud-aurora-prod-final-20261202-093005"
    assert final_backup_name(TABLE, at) == "fraud-transactions-prod-final-20261202-093005"
    assert final_backup_name(CLUSTER, at) == final_backup_name(CLUSTER, at)
    # The same instant in another zone is the same name; another teardown a second later is another.
    assert final_backup_name(CLUSTER, at.astimezone(timezone(timedelta(hours=-5)))) == final_backup_name(CLUSTER, at)
    assert final_backup_name(CLUSTER, at + timedelta(seconds=1)) != final_backup_name(CLUSTER, at)
    for resource in (CLUSTER, TABLE):
        name = final_backup_name(resource, at)
        assert RDS_SNAPSHOT_IDENTIFIER.match(name) and DYNAMODB_BACKUP_NAME.match(name), name
        assert "-prod-" in name


# --- final backups: taken, waited for, kept, reported --------------------------------------------


class MotoClients:
    def client(self, service: str):
        return boto3.client(service, region_name=REGION)


@pytest.fixture
def prod_data(monkeypatch):
    """moto's RDS, DynamoDB, KMS and Secrets Manager holding what prod's data layer would, and its state."""
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        clients = MotoClients()
        key_arn = clients.client("kms").create_key(Description="storage")["KeyMetadata"]["Arn"]
        clients.client("rds").create_db_cluster(
            DBClusterIdentifier=CLUSTER, Engine="aurora-postgresql", EngineVersion="16.4", MasterUsername="fraud_admin",
            ManageMasterUserPassword=True, StorageEncrypted=True, KmsKeyId=key_arn,
            ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 4},
        )
        table_arn = clients.client("dynamodb").create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "transaction_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "transaction_id", "KeyType": "HASH"}],
            SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn},
        )["TableDescription"]["TableArn"]
        secret_arn = clients.client("secretsmanager").create_secret(Name=SECRET, KmsKeyId=key_arn, SecretString="{}")["ARN"]
        state = {
            "version": 4, "serial": 3, "lineage": "data-prod", "outputs": {},
            "resources": [
                managed("aws_kms_key", {"arn": key_arn, "key_id": key_arn.rsplit("/", 1)[1]}),
                managed("aws_rds_cluster", {
                    "cluster_identifier": CLUSTER, "kms_key_id": key_arn, "engine": "aurora-postgresql", "engine_version": "16.4",
                    "serverlessv2_scaling_configuration": [{"min_capacity": 0.5, "max_capacity": 4}],
                }),
                managed("aws_dynamodb_table", {"name": TABLE, "arn": table_arn, "server_side_encryption": [{"enabled": True, "kms_key_arn": key_arn}]}),
                managed("aws_secretsmanager_secret", {"name": SECRET, "arn": secret_arn, "recovery_window_in_days": 30}),
            ],
        }
        yield clients, state, key_arn


def managed(resource_type: str, attributes: dict) -> dict:
    return {"mode": "managed", "type": resource_type, "name": resource_type.removeprefix("aws_"), "instances": [{"attributes": attributes}]}


def prod_reader(data_state: dict, *, whole: bool = True) -> FakeStateReader:
    """Prod's states: every layer (`whole`), or only data and network, the layers above already gone."""
    reader = FakeStateReader.with_layers("prod", **({"edge": 5, "observability": 4} if whole else {}))
    reader.states[state_key("prod", Layer.DATA)] = data_state
    reader.states[state_key("prod", Layer.NETWORK)] = {**state_document(1), "resources": [managed("aws_flow_log", {"log_destination": FLOW_LOGS})]}
    if whole:
        reader.states[state_key("prod", Layer.COMPUTE)] = {
            **state_document(1), "resources": [managed("aws_lb", {"access_logs": [{"bucket": ALB_LOGS, "prefix": "alb/prod", "enabled": True}]})],
        }
    return reader


def test_final_backups_are_taken_and_available_under_their_names(prod_data):
    clients, state, key_arn = prod_data
    at = datetime(2026, 12, 2, 9, 30, 5, tzinfo=UTC)
    kept = FinalBackups(clients, build_environments()["prod"]).take(StateSummary.parse(state), at)
    snapshot, backup = kept
    assert (snapshot.what, snapshot.name) == ("Aurora snapshot", "fraud-aurora-prod-final-20261202-093005")
    assert (backup.what, backup.name) == ("DynamoDB backup", "fraud-transactions-prod-final-20261202-093005")
    (found,) = clients.client("rds").describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=snapshot.name)["DBClusterSnapshots"]
    assert found["DBClusterIdentifier"] == CLUSTER and found["Status"] == "available"
    (summary,) = clients.client("dynamodb").list_backups(TableName=TABLE)["BackupSummaries"]
    assert summary["BackupName"] == backup.name and summary["BackupStatus"] == "AVAILABLE"
    # How to restore each, with the names and the key filled in.
    assert f"aws rds restore-db-cluster-from-snapshot --snapshot-identifier {snapshot.name}" in snapshot.how
    assert f"--kms-key-id {key_arn}" in snapshot.how and "MinCapacity=0.5,MaxCapacity=4" in snapshot.how
    assert f"aws dynamodb restore-table-from-backup --backup-arn {summary['BackupArn']}" in backup.how
    assert f"KMSMasterKeyId={key_arn}" in backup.how


def test_a_backup_that_never_becomes_available_stops_the_teardown():
    class CreatingForever:
        def client(self, service):
            return self

        def create_db_cluster_snapshot(self, **_):
            return {}

        def create_backup(self, **_):
            return {"BackupDetails": {"BackupArn": "arn:backup"}}

        def describe_db_cluster_snapshots(self, **_):
            return {"DBClusterSnapshots": [{"Status": "creating"}]}

        def describe_backup(self, **_):
            return {"BackupDescription": {"BackupDetails": {"BackupStatus": "AVAILABLE"}}}

    clock = iter(range(0, 100_000, 900))
    backups = FinalBackups(CreatingForever(), build_environments()["prod"], sleep=lambda _: None, clock=lambda: next(clock))
    state = StateSummary.parse({"resources": [managed("aws_rds_cluster", {"cluster_identifier": CLUSTER}), managed("aws_dynamodb_table", {"name": TABLE})]})
    with pytest.raises(FinalBackupFailed, match=r"still not available after 60 min: fraud-aurora-prod-final-\d{8}-\d{6}; AWS goes on with them"):
        backups.take(state, datetime.now(UTC))


def test_a_prod_teardown_backs_up_before_the_data_layer_goes_keeps_the_key_and_reports_everything_kept(tmp_path, prod_data):
    clients, state, key_arn = prod_data
    lifecycle, out = make_lifecycle(tmp_path, "prod", prod_reader(state), clients=clients)
    lifecycle.destroy(list(DEPLOY_ORDER), confirmation="prod")
    lifecycle.progress.summary()
    steps = [(result.stack, result.action, result.outcome) for result in lifecycle.progress.results]
    assert steps == [
        ("observability-prod", "destroy", "done"), ("edge-prod", "destroy", "done"), ("compute-prod", "destroy", "done"),
        ("data-prod", "backup", "done"), ("data-prod", "destroy", "done"), ("network-prod", "destroy", "done"),
    ]
    # The key the backups are encrypted with survives the destroy, disabled and marked.
    kms = clients.client("kms")
    assert kms.describe_key(KeyId=key_arn)["KeyMetadata"]["KeyState"] == "Disabled"
    assert [tag["TagKey"] for tag in kms.list_resource_tags(KeyId=kms.describe_key(KeyId=key_arn)["KeyMetadata"]["KeyId"])["Tags"]] == ["KeptFor"]

    text = out.getvalue()
    report = text[text.index("==> kept after this teardown, on purpose"):]
    assert text.index("==> kept") > text.index("==> summary"), "reported at the end, after the summary"
    snapshot = re.search(r"Aurora snapshot (fraud-aurora-prod-final-(\d{8}-\d{6})): of fraud-aurora-prod", report)
    assert snapshot, report
    stamp = snapshot.group(2)
    assert f"DynamoDB backup fraud-transactions-prod-final-{stamp}: of fraud-transactions-prod" in report
    assert clients.client("rds").describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=snapshot.group(1))["DBClusterSnapshots"]
    assert f"KMS key {key_arn}: the storage key the final backups are encrypted with" in report
    assert f"before a restore: aws kms enable-key --key-id {key_arn}" in report
    assert re.search(rf"secret {SECRET}: scheduled for deletion, restorable until \d{{4}}-\d{{2}}-\d{{2}} \(30-day recovery window\)", report)
    assert "restore: aws secretsmanager restore-secret --secret-id arn:aws:secretsmanager:" in report
    assert "VPC flow logs s3://fraud-detection-audit-flow-logs-123456789012-us-east-1/vpc-flow-logs/prod/: in the account's audit-log archive" in report
    assert f"ALB access logs s3://{ALB_LOGS}/alb/prod/: in the account's audit-log archive" in report
    assert 'docs/lifecycle.md, "Restoring after a prod teardown"' in report


def test_a_failed_final_backup_destroys_nothing_of_the_data_layer(tmp_path, prod_data):
    clients, state, _ = prod_data
    clients.client("rds").delete_db_cluster(DBClusterIdentifier=CLUSTER, SkipFinalSnapshot=True)
    lifecycle, out = make_lifecycle(tmp_path, "prod", prod_reader(state, whole=False), clients=clients)
    with pytest.raises(StackFailed, match=r"the final backups of data-prod failed, so nothing of it was destroyed: .*DBClusterNotFoundFault"):
        lifecycle.destroy([Layer.DATA, Layer.NETWORK], confirmation="prod")
    assert not any(call.startswith("destroy") for call in lifecycle.calls)
    assert "not attempted (the final backups of data-prod failed): data-prod, network-prod" in out.getvalue()


def test_an_interrupt_while_waiting_for_the_backups_destroys_nothing(tmp_path, prod_data):
    clients, state, _ = prod_data
    lifecycle, out = make_lifecycle(tmp_path, "prod", prod_reader(state, whole=False), clients=clients)

    class SnapshotStillCreating:
        """moto's snapshot is available at once; here SIGINT arrives while RDS still creates it."""

        def client(self, service):
            client = clients.client(service)
            if service == "rds":
                def still_creating(**_):
                    lifecycle.processes.signal_name = "SIGINT"
                    return {"DBClusterSnapshots": [{"Status": "creating"}]}

                client.describe_db_cluster_snapshots = still_creating
            return client

    lifecycle.clients = SnapshotStillCreating()
    with pytest.raises(Interrupted, match="the final backups of data-prod interrupted by SIGINT; nothing of it was destroyed"):
        lifecycle.destroy([Layer.DATA, Layer.NETWORK], confirmation="prod")
    assert not any(call.startswith("destroy") for call in lifecycle.calls)
    assert "not attempted (interrupted): data-prod, network-prod" in out.getvalue()


def test_dev_takes_no_backups_and_keeps_nothing(tmp_path):
    lifecycle, out = make_lifecycle(tmp_path, "dev", FakeStateReader.with_layers("dev", network=40, data=10))
    lifecycle.destroy([Layer.DATA, Layer.NETWORK])
    assert [result.action for result in lifecycle.progress.results] == ["destroy", "destroy"]
    lifecycle.progress.summary()
    assert "kept" not in out.getvalue()
