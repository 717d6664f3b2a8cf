"""Saved plans on AWS are sealed with the state's KMS key (moto's KMS): only the summary is readable, and only the environment's own key opens them."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from lifecycle.saved_plans import SavedPlansError
from lifecycle.sealing import SEALED_FILE, encryption_context, is_sealed, open_sealed, seal

SECRET = "api-key-value-that-must-not-travel-in-clear"


def saved_directory(root: Path) -> Path:
    directory = root / "plans"
    (directory / "edge-dev").mkdir(parents=True)
    (directory / "edge-dev" / "tfplan").write_bytes(b"PK\x03\x04 binary plan holding " + SECRET.encode())
    (directory / "edge-dev" / "tfplan.json").write_text(json.dumps({"prior_state": {"value": SECRET}}))
    (directory / "manifest.json").write_text(json.dumps({"environment": "dev"}))
    (directory / "summary.md").write_text("## Saved plans: dev\n| edge-dev | serial 3 |\n")
    return directory


def contents(directory: Path) -> dict[str, bytes]:
    return {str(path.relative_to(directory)): path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file()}


def test_sealed_plans_keep_only_the_summary_readable_and_open_to_exactly_what_was_saved(state_key_kms, tmp_path):
    client, alias = state_key_kms
    directory = saved_directory(tmp_path)
    before = contents(directory)
    seal(directory, kms=client, key_id=alias, environment="dev")

    assert sorted(path.name for path in directory.iterdir()) == [SEALED_FILE, "summary.md"] and is_sealed(directory)
    assert SECRET not in (directory / SEALED_FILE).read_text()
    assert (directory / "summary.md").read_bytes() == before["summary.md"]
    opened = open_sealed(directory, kms=client, environment="dev", into=tmp_path / "opened")
    assert contents(opened) == {name: body for name, body in before.items() if name != "summary.md"}


def test_a_sealed_set_that_was_altered_does_not_open(state_key_kms, tmp_path):
    client, alias = state_key_kms
    directory = saved_directory(tmp_path)
    seal(directory, kms=client, key_id=alias, environment="dev")
    sealed = json.loads((directory / SEALED_FILE).read_text())
    ciphertext = bytearray(base64.b64decode(sealed["ciphertext"]))
    ciphertext[40] ^= 1
    (directory / SEALED_FILE).write_text(json.dumps({**sealed, "ciphertext": base64.b64encode(bytes(ciphertext)).decode()}))
    with pytest.raises(SavedPlansError, match="were altered after they were saved"):
        open_sealed(directory, kms=client, environment="dev", into=tmp_path / "opened")
    assert not (tmp_path / "opened").exists()


def test_plans_sealed_for_one_environment_do_not_open_for_another(state_key_kms, tmp_path):
    client, alias = state_key_kms
    directory = saved_directory(tmp_path)
    seal(directory, kms=client, key_id=alias, environment="dev")
    with pytest.raises(SavedPlansError, match="sealed for dev, not prod"):
        open_sealed(directory, kms=client, environment="prod", into=tmp_path / "opened")
    # Relabelled by hand, KMS itself refuses: the data key is bound to the environment by the encryption context.
    sealed = json.loads((directory / SEALED_FILE).read_text())
    (directory / SEALED_FILE).write_text(json.dumps({**sealed, "environment": "prod"}))
    with pytest.raises(SavedPlansError, match="KMS would not open the plans"):
        open_sealed(directory, kms=client, environment="prod", into=tmp_path / "opened")
    assert encryption_context("prod") != encryption_context("dev")
