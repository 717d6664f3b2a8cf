"""What a teardown asks first and what it keeps (docs/lifecycle.md, "Tearing prod down").

- **Confirmation.** An environment whose settings say so (`teardown.confirm_with_name`: prod)
  has none of its layers destroyed unless its name was typed back (`--confirm prod`, the prompt,
  or the teardown workflow's input). A confirmation naming another environment is refused
  everywhere; dev and staging ask nothing.
- **Final backups.** Where `data.final_backups_on_destroy` is set, right before the data layer's
  `terraform destroy`: an Aurora cluster snapshot and a DynamoDB on-demand backup, both named
  `<resource>-final-<UTC time>` (the resource names carry the environment), waited for, and the
  teardown stops before destroying anything of the layer if either fails. Terraform's own final
  snapshot is not used: its name is fixed at the last apply, so a second teardown would collide
  with the first one's snapshot.
- **Their key.** Both are encrypted with the data layer's storage key, which the destroy schedules
  for deletion; a backup whose key is gone can never be restored. So after the destroy its
  deletion is cancelled: the key stays, disabled (nothing can use it until someone enables it
  for a restore), and no longer in any Terraform state.
- **The rest kept**, read from the states: secrets deleted with a recovery window, and audit logs
  delivered into the account's archive. Everything kept is printed at the end with how to use it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from config.settings import EnvironmentConfig
from lifecycle.states import GuardRefusal, StateSummary

RESTORE_GUIDE = 'docs/lifecycle.md, "Restoring after a prod teardown"'
# A snapshot of a large cluster takes a while; RDS goes on with it if we stop waiting.
BACKUP_WAIT = timedelta(minutes=60)
POLL_SECONDS = 15.0


def check_confirmation(environment: EnvironmentConfig, stacks: list[str], confirmation: str | None, *, action: str = "destroy") -> None:
    """Refuse unless the confirmation, where given or required, names exactly this environment.

    `action` says what is refused (`destroy`; `delete the anonymous orphans of` for `recover`)."""
    name = environment.name
    if confirmation is not None and confirmation != name:
        raise GuardRefusal(f"refusing to {action} {', '.join(stacks)}: the confirmation names '{confirmation}', not '{name}'")
    if confirmation is None and environment.teardown.confirm_with_name:
        raise GuardRefusal(
            f"refusing to {action} {', '.join(stacks)} without a confirmation: {name} asks for its name before any of its layers "
            f"is destroyed (teardown.confirm_with_name). Add --confirm {name}, or run it on a terminal and type {name} at the prompt"
        )


def final_backup_name(resource_name: str, taken_at: datetime) -> str:
    """`<resource>-final-<yyyymmdd>-<hhmmss>` in UTC: the same resource and time always give the same
    name, each teardown a new one. Letters, digits and single hyphens, starting with a letter: a
    valid RDS snapshot identifier and DynamoDB backup name."""
    return f"{resource_name}-final-{taken_at.astimezone(UTC):%Y%m%d-%H%M%S}"


@dataclass(frozen=True)
class KeptResource:
    """Something a teardown left in place on purpose, and how to use it."""

    what: str
    name: str
    detail: str
    how: str

    def lines(self) -> list[str]:
        return [f"{self.what} {self.name}: {self.detail}", f"  {self.how}"]


class FinalBackupFailed(Exception):
    """A final backup could not be taken; nothing of the data layer was destroyed."""


@dataclass
class FinalBackups:
    """The final backups of one environment's data layer, through the target's AWS clients."""

    clients: Any
    environment: EnvironmentConfig
    wait: timedelta = BACKUP_WAIT
    poll_seconds: float = POLL_SECONDS
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    # Raise Interrupted while waiting once the run was interrupted (TerraformProcesses.check).
    check_interrupted: Callable[[], None] = lambda: None
    _taken_at: datetime | None = field(default=None, init=False)

    def take(self, state: StateSummary, taken_at: datetime) -> list[KeptResource]:
        """Snapshot every cluster and back up every table of the data layer's state; wait for all of them."""
        from botocore.exceptions import BotoCoreError, ClientError

        self._taken_at = taken_at
        rds, dynamodb = self.clients.client("rds"), self.clients.client("dynamodb")
        try:
            snapshots = [self._start_snapshot(rds, cluster, taken_at) for cluster in state.instances("aws_rds_cluster")]
            backups = [self._start_backup(dynamodb, table, taken_at) for table in state.instances("aws_dynamodb_table")]
            self._wait_until_available(rds, dynamodb, snapshots, backups)
        except (ClientError, BotoCoreError) as error:
            raise FinalBackupFailed(str(error)) from None
        return [*(self._kept_snapshot(cluster, name) for cluster, name in snapshots), *(self._kept_backup(table, arn, name) for table, arn, name in backups)]

    def keep_keys(self, state: StateSummary) -> list[KeptResource]:
        """After the destroy: cancel the scheduled deletion of every key a final backup is encrypted with.

        A key the destroy did not reach (it failed before) is still Terraform's and left alone."""
        from botocore.exceptions import BotoCoreError, ClientError

        kms = self.clients.client("kms")
        stamp = f"{self._taken_at:%Y-%m-%d %H:%M:%S} UTC" if self._taken_at else "this teardown"
        kept = []
        for key_arn in sorted(_backup_keys(state)):
            try:
                metadata = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
                if metadata["KeyState"] != "PendingDeletion":
                    continue
                kms.cancel_key_deletion(KeyId=metadata["KeyId"])
                kms.tag_resource(KeyId=metadata["KeyId"], Tags=[{"TagKey": "KeptFor", "TagValue": f"final backups of {self.environment.name}, {stamp}"}])
            except (ClientError, BotoCoreError) as error:
                raise FinalBackupFailed(
                    f"the data layer is destroyed, but the deletion of {key_arn} could not be cancelled ({error}); cancel it by hand "
                    f"within data.kms_deletion_window_days ({self.environment.data.kms_deletion_window_days} days), or the final backups "
                    f"can never be restored: aws kms cancel-key-deletion --key-id {key_arn}"
                ) from None
            kept.append(KeptResource(
                "KMS key", key_arn,
                "the storage key the final backups are encrypted with: its deletion cancelled, left disabled and outside Terraform",
                f"before a restore: aws kms enable-key --key-id {key_arn}",
            ))
        return kept

    # --- one snapshot, one backup ---------------------------------------------------------------

    @staticmethod
    def _start_snapshot(rds: Any, cluster: dict[str, Any], taken_at: datetime) -> tuple[dict[str, Any], str]:
        name = final_backup_name(cluster["cluster_identifier"], taken_at)
        rds.create_db_cluster_snapshot(
            DBClusterSnapshotIdentifier=name,
            DBClusterIdentifier=cluster["cluster_identifier"],
            Tags=[{"Key": "FinalBackupOf", "Value": cluster["cluster_identifier"]}],
        )
        return cluster, name

    @staticmethod
    def _start_backup(dynamodb: Any, table: dict[str, Any], taken_at: datetime) -> tuple[dict[str, Any], str, str]:
        name = final_backup_name(table["name"], taken_at)
        arn = dynamodb.create_backup(TableName=table["name"], BackupName=name)["BackupDetails"]["BackupArn"]
        return table, arn, name

    def _wait_until_available(self, rds: Any, dynamodb: Any, snapshots: list, backups: list) -> None:
        deadline = self.clock() + self.wait.total_seconds()
        pending = {name for _, name in snapshots} | {arn for _, arn, _ in backups}
        while True:
            for _, name in snapshots:
                if name in pending:
                    (snapshot,) = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=name)["DBClusterSnapshots"]
                    pending -= self._settled(f"snapshot {name}", snapshot["Status"].lower(), name, done="available")
            for _, arn, name in backups:
                if arn in pending:
                    status = dynamodb.describe_backup(BackupArn=arn)["BackupDescription"]["BackupDetails"]["BackupStatus"]
                    pending -= self._settled(f"backup {name}", status.lower(), arn, done="available")
            if not pending:
                return
            if self.clock() >= deadline:
                raise FinalBackupFailed(
                    f"still not available after {self.wait.total_seconds() / 60:.0f} min: {', '.join(sorted(pending))}; "
                    "AWS goes on with them: run the teardown again once they are (it takes new ones)"
                )
            self.check_interrupted()
            self.sleep(self.poll_seconds)

    @staticmethod
    def _settled(what: str, status: str, key: str, *, done: str) -> set[str]:
        if status == done:
            return {key}
        if status in ("failed", "deleted", "deleting", "incompatible-restore"):
            raise FinalBackupFailed(f"{what} ended {status}")
        return set()

    def _kept_snapshot(self, cluster: dict[str, Any], name: str) -> KeptResource:
        scaling = (cluster.get("serverlessv2_scaling_configuration") or [{}])[0]
        return KeptResource(
            "Aurora snapshot", name,
            f"of {cluster['cluster_identifier']} ({cluster.get('engine', 'aurora-postgresql')} {cluster.get('engine_version', '')}), "
            f"encrypted with {cluster.get('kms_key_id')}",
            f"restore ({RESTORE_GUIDE}): aws rds restore-db-cluster-from-snapshot --snapshot-identifier {name} "
            f"--db-cluster-identifier <new cluster> --engine {cluster.get('engine', 'aurora-postgresql')} "
            f"--kms-key-id {cluster.get('kms_key_id')} --db-subnet-group-name <subnet group> --vpc-security-group-ids <database group> "
            f"--serverless-v2-scaling-configuration MinCapacity={scaling.get('min_capacity')},MaxCapacity={scaling.get('max_capacity')}; "
            "then create-db-instance --db-instance-class db.serverless in it",
        )

    def _kept_backup(self, table: dict[str, Any], arn: str, name: str) -> KeptResource:
        key = _table_key(table)
        return KeptResource(
            "DynamoDB backup", name,
            f"of {table['name']}, {arn}",
            f"restore ({RESTORE_GUIDE}): aws dynamodb restore-table-from-backup --backup-arn {arn} --target-table-name <new table> "
            f"--sse-specification-override Enabled=true,SSEType=KMS,KMSMasterKeyId={key}",
        )


def kept_secrets(state: StateSummary, deleted_at: datetime) -> list[KeptResource]:
    """Secrets of the destroyed layer that Secrets Manager keeps restorable for their recovery window."""
    kept = []
    for secret in state.instances("aws_secretsmanager_secret"):
        window = int(secret.get("recovery_window_in_days") or 0)
        if window:
            kept.append(KeptResource(
                "secret", secret["name"],
                f"scheduled for deletion, restorable until {deleted_at + timedelta(days=window):%Y-%m-%d} ({window}-day recovery window); "
                "re-creating the environment before then must restore it first",
                f"restore: aws secretsmanager restore-secret --secret-id {secret['arn']}",
            ))
    return kept


def kept_audit_logs(state: StateSummary) -> list[KeptResource]:
    """Where the destroyed layer delivered its audit logs, when that is the account's archive."""
    kept = []
    for flow_log in state.instances("aws_flow_log"):
        destination = str(flow_log.get("log_destination", ""))
        location = "s3://" + destination.split(":::", 1)[-1]
        kept.append(_archived("VPC flow logs", location))
    for balancer in state.instances("aws_lb"):
        for logs in balancer.get("access_logs") or []:
            if logs.get("enabled"):
                prefix = f"{logs['prefix']}/" if logs.get("prefix") else ""
                kept.append(_archived("ALB access logs", f"s3://{logs['bucket']}/{prefix}"))
    return kept


def _archived(what: str, location: str) -> KeptResource:
    return KeptResource(
        what, location,
        "in the account's audit-log archive (bootstrap stack): kept for account.audit_log_retention_days, deletions refused",
        f"read: aws s3 ls --recursive {location}",
    )


def _table_key(table: dict[str, Any]) -> str | None:
    encryption = (table.get("server_side_encryption") or [{}])[0]
    return encryption.get("kms_key_arn")


def _backup_keys(state: StateSummary) -> set[str]:
    keys = {cluster.get("kms_key_id") for cluster in state.instances("aws_rds_cluster")}
    keys |= {_table_key(table) for table in state.instances("aws_dynamodb_table")}
    return {key for key in keys if key}


__all__ = ["FinalBackupFailed", "FinalBackups", "KeptResource", "check_confirmation", "final_backup_name", "kept_audit_logs", "kept_secrets"]
