"""State locks: shown by `status`, named with the exact unlock command by a run that hit one, removed only when stale or forced."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from config.environments import build_environments
from config.targets import DeploymentTarget
from lifecycle.cli import EXIT_FAILED, EXIT_REFUSED, main
from lifecycle.locks import STALE_AFTER, StateLock, lock_key
from lifecycle.operations import Lifecycle
from lifecycle.progress import Progress
from lifecycle.states import GuardRefusal, state_key
from stacks.layers import Layer
from tests.lifecycle.fakes import STREAMS, FakeStackDirectory, FakeStateReader, FakeTerraform, recorded_lock, write_aws_synth

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
NETWORK_KEY = state_key("dev", Layer.NETWORK)


def lock_document(age: timedelta, now: datetime = NOW) -> dict:
    """The lock object a real apply wrote (recorded), taken `age` before `now`."""
    document = json.loads((STREAMS / "lock.tflock.json").read_text())
    document["Created"] = (now - age).isoformat().replace("+00:00", "Z")
    return document


def test_the_lock_object_terraform_writes_is_read_as_who_what_since_when():
    lock = StateLock.parse(lock_document(timedelta(minutes=12)))
    assert (lock.who, lock.operation, lock.id) == ("root@vm", "apply", recorded_lock().id)
    assert lock.describe(NOW) == f"held by root@vm for apply since 2026-12-02 08:48:00 UTC (12 min ago), lock id {lock.id}"
    assert not lock.is_stale(NOW) and lock.is_stale(NOW + STALE_AFTER)
    assert lock_key(NETWORK_KEY) == "dev/network.tfstate.tflock"


class LockingLifecycle(Lifecycle):
    calls: list[str]

    def _directory(self, path, *, quiet=False, observe=None):
        return FakeStackDirectory(path, self.calls, self.reader, self.environment.name, observe=observe)


@pytest.fixture
def locked(tmp_path):
    def make(age: timedelta) -> tuple[LockingLifecycle, FakeStateReader, io.StringIO]:
        write_aws_synth(tmp_path / "out", "dev")
        reader = FakeStateReader(locks={NETWORK_KEY: StateLock.parse(lock_document(age))})
        out = io.StringIO()
        lifecycle = LockingLifecycle(target=DeploymentTarget(), environment=build_environments()["dev"], outdir=tmp_path / "out",
                                     workdir=tmp_path / "work", reader=reader, progress=Progress(out=out, tick_seconds=None),
                                     cli_options=("--target", "aws"))
        lifecycle.calls = []
        return lifecycle, reader, out

    return make


def test_a_stale_lock_is_removed_by_its_id(locked):
    lifecycle, reader, out = locked(timedelta(hours=3))
    removed = lifecycle.unlock(Layer.NETWORK, lock_id=recorded_lock().id, now=NOW)
    assert removed.id == recorded_lock().id
    assert lifecycle.calls == ["init network-dev", f"force-unlock network-dev {removed.id}"]
    assert reader.read_lock(NETWORK_KEY) is None
    assert re.search(rf"network-dev\s+unlocked in \d+\.\d s \(lock {removed.id} removed\)", out.getvalue())


def test_a_young_lock_is_refused_unless_forced(locked):
    lifecycle, reader, _ = locked(timedelta(minutes=5))
    with pytest.raises(GuardRefusal, match=r"the lock is held by root@vm for apply since .* \(5 min ago\).*add --force"):
        lifecycle.unlock(Layer.NETWORK, now=NOW)
    assert lifecycle.calls == [] and reader.read_lock(NETWORK_KEY) is not None
    lifecycle.unlock(Layer.NETWORK, force=True, now=NOW)
    assert reader.read_lock(NETWORK_KEY) is None


def test_another_lock_than_the_one_looked_at_is_refused(locked):
    lifecycle, reader, _ = locked(timedelta(hours=3))
    with pytest.raises(GuardRefusal, match=f"the lock held now is not 1234 but {recorded_lock().id}"):
        lifecycle.unlock(Layer.NETWORK, lock_id="1234", force=True, now=NOW)
    assert lifecycle.calls == []


def test_no_lock_no_terraform(locked):
    lifecycle, _, out = locked(timedelta(hours=3))
    assert lifecycle.unlock(Layer.DATA, now=NOW) is None
    assert lifecycle.calls == []
    assert "data-dev: not locked, nothing to do" in out.getvalue()


def test_lock_advice_prints_the_exact_command(locked):
    lifecycle, reader, _ = locked(timedelta(hours=3))
    lock = reader.read_lock(NETWORK_KEY)
    stale = lifecycle.lock_advice(Layer.NETWORK, lock, NOW)
    assert stale[-1] == f"if the run that took it is dead (killed, its runner gone): scripts/lifecycle.sh unlock dev network --lock-id {lock.id} --target aws"
    young = lifecycle.lock_advice(Layer.NETWORK, lock, lock.created + timedelta(minutes=5))
    assert young[-1].endswith(f"scripts/lifecycle.sh unlock dev network --lock-id {lock.id} --target aws --force")
    assert young[-1].startswith("younger than 1 hour, so that run may still be going: wait for it;")


# --- through the command line, with the lock object in (mocked) S3 ---------------------------


def put_lock(bucket, age: timedelta) -> str:
    document = lock_document(age, now=datetime.now(UTC))
    bucket.client.put_object(Bucket=bucket.name, Key=lock_key(NETWORK_KEY), Body=json.dumps(document).encode())
    return document["ID"]


def test_status_shows_a_held_lock_with_the_command_that_removes_it(tmp_path, mock_state_bucket, capsys):
    lock_id = put_lock(mock_state_bucket, timedelta(hours=2))
    assert main(["status", "dev", "--target", "aws", "--workdir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    network = lines.index(next(line for line in lines if line.startswith("network-dev")))
    assert re.fullmatch(r"network-dev\s+not deployed\s+no state", lines[network])
    assert re.fullmatch(rf"\s+locked: held by root@vm for apply since .* \(2 h 0 min ago\), lock id {lock_id}", lines[network + 1])
    assert lines[network + 2].strip() == (
        f"if the run that took it is dead (killed, its runner gone): scripts/lifecycle.sh unlock dev network --lock-id {lock_id} --target aws --workdir {tmp_path}"
    )
    assert lines[network + 3].startswith("data-dev")  # the other layers hold no lock


def test_a_deploy_that_hits_a_lock_prints_who_holds_it_and_the_exact_unlock_command(tmp_path, mock_state_bucket, monkeypatch, capsys):
    lock_id = put_lock(mock_state_bucket, timedelta(minutes=3))
    fake = FakeTerraform(tmp_path / "fake", speed=50)
    fake.replays("apply", "locked.apply.jsonl", exit_code=1)
    fake.install_for_the_lifecycle(monkeypatch)
    write_aws_synth(tmp_path / "out", "dev")
    options = ["--target", "aws", "--skip-synth", "--outdir", str(tmp_path / "out"), "--workdir", str(tmp_path / "work")]

    assert main(["deploy", "dev", "network", *options]) == EXIT_FAILED
    out = capsys.readouterr().out
    failure = out[out.index("network-dev            deploy FAILED"):]
    assert "      Error acquiring the state lock" in failure
    assert f"    locked: held by root@vm for apply since" in failure and f"lock id {lock_id}" in failure
    same_target = f"--target aws --workdir {tmp_path / 'work'} --outdir {tmp_path / 'out'} --skip-synth"
    assert f"scripts/lifecycle.sh unlock dev network --lock-id {lock_id} {same_target} --force\n" in failure
    assert failure.index("lock id") < failure.index("full log:")

    # The command it printed, as printed but without --force: refused, the lock is three minutes old.
    assert main(["unlock", "dev", "network", "--lock-id", lock_id, *options]) == EXIT_REFUSED
    assert "younger than 1 hour it most likely belongs to a run that is still going" in capsys.readouterr().err


def test_a_step_says_up_front_that_its_state_is_locked(locked):
    # Terraform would wait for the lock in silence for up to two minutes.
    lifecycle, _, out = locked(timedelta(minutes=5))
    lifecycle.deploy([Layer.NETWORK])
    text = out.getvalue()
    assert re.search(r"network-dev: the state is locked, held by root@vm for apply since .*; Terraform waits up to 120s for it", text)
    assert text.index("the state is locked") < text.index("deployed in")
