"""What is deployed, read from the stacks' state objects in S3, and the guards built on it.

A layer counts as deployed when its state holds at least one managed resource. That is what
Terraform itself leaves behind: a destroyed stack keeps its state object, emptied.

Reads fail closed: only a missing state object means "no state". A missing bucket, missing or
expired credentials, a refusal, throttling or an unreachable endpoint raise `StateUnreadable`
naming the bucket and the key, because reading any of them as "not deployed" would let every
guard pass and every step be skipped (docs/lifecycle.md, "When the state cannot be read").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from lifecycle.locks import StateLock, lock_key
from stacks.layers import LAYER_DEPENDENCIES, Layer, dependants, stack_id, state_key


@dataclass(frozen=True)
class StateSummary:
    serial: int
    lineage: str
    managed_resources: int
    outputs: dict[str, Any] = field(default_factory=dict)
    resources: tuple[dict[str, Any], ...] = ()

    @property
    def deployed(self) -> bool:
        return self.managed_resources > 0

    @classmethod
    def parse(cls, document: dict[str, Any]) -> StateSummary:
        resources = tuple(document.get("resources", []))
        return cls(
            serial=int(document.get("serial", 0)),
            lineage=str(document.get("lineage", "")),
            managed_resources=sum(len(r.get("instances", [])) for r in resources if r.get("mode") == "managed"),
            outputs={name: body.get("value") for name, body in document.get("outputs", {}).items()},
            resources=resources,
        )

    def instances(self, resource_type: str) -> list[dict[str, Any]]:
        """The attributes of every managed instance of `resource_type`."""
        return [
            instance["attributes"]
            for resource in self.resources
            if resource.get("mode") == "managed" and resource.get("type") == resource_type
            for instance in resource.get("instances", [])
        ]


class StateReader(Protocol):
    def read(self, key: str) -> StateSummary | None:
        """The state stored under `key`, or None when there is no state object."""

    def read_lock(self, key: str) -> StateLock | None:
        """The lock held on the state stored under `key`, or None when it is not locked."""


class StateUnreadable(Exception):
    """The state bucket could not be read; the message names the bucket, the key and what to fix."""

    def __init__(self, message: str, *, bucket: str, key: str | None) -> None:
        super().__init__(message)
        self.bucket = bucket
        self.key = key


class StateBucketMissing(StateUnreadable):
    """The state bucket does not exist: nothing was ever bootstrapped there, or the name is wrong."""


# S3's answers when a request rate is too high (after botocore's own retries).
_THROTTLED = frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests", "503", "ServiceUnavailable"})
# Answers about the credentials rather than the object.
_BAD_CREDENTIALS = frozenset({"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired"})


def state_read_failure(error: Exception, *, bucket: str, key: str | None, bootstrap_command: str) -> StateUnreadable:
    """What to say when reading `key` of `bucket` (None: the bucket itself) failed with a botocore error."""
    from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError

    where = f"s3://{bucket}/{key}" if key else f"the state bucket {bucket}"
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        message = error.response.get("Error", {}).get("Message") or code
        # HeadBucket (key None) has no body to name the error: a bare 404.
        if code == "NoSuchBucket" or (key is None and code in ("404", "NotFound")):
            return StateBucketMissing(
                f"the state bucket {bucket} does not exist, so nothing can say what is deployed: bootstrap it first "
                f"(`{bootstrap_command}`), or set FRAUD_STATE_BUCKET to the bucket that holds this account's state",
                bucket=bucket, key=key,
            )
        if code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled"):
            return StateUnreadable(
                f"access denied reading {where} ({message}): the credentials need s3:ListBucket on the bucket, s3:GetObject on "
                "its objects and kms:Decrypt with the state key (without s3:ListBucket S3 answers AccessDenied for a missing "
                "object too); or the bucket belongs to another account: set FRAUD_STATE_BUCKET to your own",
                bucket=bucket, key=key,
            )
        if code in _BAD_CREDENTIALS:
            return StateUnreadable(f"the AWS credentials were refused reading {where} ({code}: {message}): renew them and run again", bucket=bucket, key=key)
        if code in _THROTTLED:
            return StateUnreadable(f"S3 throttled reading {where} ({code}) after botocore's retries: run again in a minute", bucket=bucket, key=key)
        return StateUnreadable(f"S3 answered {code} reading {where}: {message}", bucket=bucket, key=key)
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return StateUnreadable(
            f"no AWS credentials to read {where}: set a profile (AWS_PROFILE) or the AWS_* variables, or in CI assume the role first",
            bucket=bucket, key=key,
        )
    return StateUnreadable(
        f"cannot reach S3 to read {where} ({type(error).__name__}: {error}): check the network, a proxy, or that the emulator is running",
        bucket=bucket, key=key,
    )


@dataclass
class S3StateReader:
    """Reads state objects straight from the state bucket (boto3; the target's endpoint and credentials).

    Only a missing object is None; every other failure is `StateUnreadable` (fail closed)."""

    bucket: str
    client: Any
    # Said when the bucket is missing; the command line sets the exact command for its environment and target.
    bootstrap_command: str = "scripts/lifecycle.sh bootstrap <environment>"

    def read(self, key: str) -> StateSummary | None:
        body = self._object(key)
        return None if body is None else StateSummary.parse(json.loads(body))

    def read_lock(self, key: str) -> StateLock | None:
        body = self._object(lock_key(key))
        return None if body is None else StateLock.parse(json.loads(body))

    def _object(self, key: str) -> bytes | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            # The body streams: a connection dropped while reading it fails here too.
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "NoSuchKey":
                return None
            raise state_read_failure(error, bucket=self.bucket, key=key, bootstrap_command=self.bootstrap_command) from None
        except BotoCoreError as error:
            raise state_read_failure(error, bucket=self.bucket, key=key, bootstrap_command=self.bootstrap_command) from None


class GuardRefusal(Exception):
    """An operation refused because of what else is (or is not) deployed; the message says what to do."""


def required_outputs(state: StateSummary | None, stack: str, names: tuple[str, ...], *, missing: str) -> dict[str, Any]:
    """The outputs `names` of a deployed stack; refuses when it is not deployed (`missing` says what
    is therefore missing) or when its state predates one of them."""
    if state is None or not state.deployed:
        raise GuardRefusal(f"{stack} is not deployed: there is {missing}. Deploy the compute layer first.")
    absent = [name for name in names if not state.outputs.get(name)]
    if absent:
        raise GuardRefusal(f"{stack}'s state has no output {', '.join(absent)}: deploy the compute layer again with this version of the stacks.")
    return {name: state.outputs[name] for name in names}


def deployed_layers(reader: StateReader, environment: str, layers: tuple[Layer, ...]) -> dict[Layer, StateSummary]:
    found = {layer: reader.read(state_key(environment, layer)) for layer in layers}
    return {layer: summary for layer, summary in found.items() if summary is not None and summary.deployed}


def check_teardown(reader: StateReader, environment: str, layer: Layer, *, leaving: frozenset[Layer] = frozenset()) -> None:
    """Refuse to destroy `layer` while a layer reading from it is still deployed.

    `leaving` are layers the same command destroys before this one; they are checked when their
    turn comes, not here.
    """
    still = deployed_layers(reader, environment, tuple(d for d in dependants(layer) if d not in leaving))
    if still:
        names = ", ".join(f"{stack_id(other, environment)} ({summary.managed_resources} resources)" for other, summary in still.items())
        first = " ".join(other.value for other in reversed(list(still)))
        raise GuardRefusal(
            f"refusing to destroy {stack_id(layer, environment)}: layers that read from it are still deployed: {names}. "
            f"Destroy them first (destroy {environment} {first}), or tear the whole environment down with `down {environment}`."
        )


def check_deploy(reader: StateReader, environment: str, layer: Layer, *, arriving: frozenset[Layer] = frozenset()) -> None:
    """Refuse to deploy `layer` before the layers it reads from are deployed.

    `arriving` are layers the same command deploys before this one.
    """
    upstream = tuple(u for u in LAYER_DEPENDENCIES[layer] if u not in arriving)
    present = deployed_layers(reader, environment, upstream)
    missing = [u for u in upstream if u not in present]
    if missing:
        names = ", ".join(stack_id(u, environment) for u in missing)
        raise GuardRefusal(
            f"refusing to deploy {stack_id(layer, environment)}: it reads from {names}, which {'is' if len(missing) == 1 else 'are'} not deployed. "
            f"Deploy {'it' if len(missing) == 1 else 'them'} first (deploy {environment} {' '.join(u.value for u in missing)}), "
            f"or plan this layer alone with `plan {environment} {layer.value} --mock-upstream`."
        )
