"""Saved plans on AWS travel sealed with the state's own KMS key: no easier to read than the state they were made from.

A plan file carries the prior state and the configuration, and its JSON rendering shows every
value in clear: whatever the state holds (the API keys' values among it) is in there. A GitHub
artifact is readable by anyone who can read the repository's runs, so on AWS `plan --save` seals
everything but the summary into one file, AES-256-GCM under a fresh data key from KMS
`GenerateDataKey` on the state key (`alias/<state bucket>-state`), bound to the environment by
the encryption context and the associated data. `apply --plans` opens it with KMS `Decrypt`:
whoever may decrypt the environment's state may open its plans, and a sealed set altered or made
for another environment does not open. The summary (addresses and counts, no values) stays readable.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import tarfile
from pathlib import Path
from typing import Any

from lifecycle.saved_plans import SUMMARY_FILE, SavedPlansError

SEALED_FILE = "plans.sealed"
PURPOSE = "fraud-detection saved plans"
NONCE_BYTES = 12


def encryption_context(environment: str) -> dict[str, str]:
    return {"purpose": PURPOSE, "environment": environment}


def is_sealed(directory: Path) -> bool:
    return (directory / SEALED_FILE).exists()


def seal(directory: Path, *, kms: Any, key_id: str, environment: str) -> None:
    """Replace everything in `directory` but the summary by one sealed file."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    contents = sorted(path for path in directory.iterdir() if path.name not in (SUMMARY_FILE, SEALED_FILE))
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for path in contents:
            tar.add(path, arcname=path.name)
    data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext=encryption_context(environment))
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(data_key["Plaintext"]).encrypt(nonce, archive.getvalue(), _associated_data(environment))
    sealed = {
        "environment": environment,
        "key_id": data_key["KeyId"],
        "encrypted_data_key": base64.b64encode(data_key["CiphertextBlob"]).decode(),
        "nonce": base64.b64encode(nonce).decode(),
        "ciphertext": base64.b64encode(ciphertext).decode(),
    }
    (directory / SEALED_FILE).write_text(json.dumps(sealed))
    for path in contents:
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def open_sealed(directory: Path, *, kms: Any, environment: str, into: Path) -> Path:
    """The saved plans sealed in `directory`, opened into `into` (emptied first)."""
    from botocore.exceptions import ClientError
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    sealed = json.loads((directory / SEALED_FILE).read_text())
    if sealed.get("environment") != environment:
        raise SavedPlansError(f"{directory} holds plans sealed for {sealed.get('environment')}, not {environment}")
    try:
        data_key = kms.decrypt(CiphertextBlob=base64.b64decode(sealed["encrypted_data_key"]), EncryptionContext=encryption_context(environment))
    except ClientError as error:
        raise SavedPlansError(f"KMS would not open the plans sealed in {directory} ({error.response['Error'].get('Code')}): "
                              f"the credentials need kms:Decrypt on {sealed.get('key_id')}") from None
    try:
        archive = AESGCM(data_key["Plaintext"]).decrypt(
            base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["ciphertext"]), _associated_data(environment)
        )
    except InvalidTag:
        raise SavedPlansError(f"the plans sealed in {directory} were altered after they were saved; plan again") from None
    if into.exists():
        shutil.rmtree(into)
    into.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        tar.extractall(into, filter="data")
    return into


def _associated_data(environment: str) -> bytes:
    return f"{PURPOSE}:{environment}".encode()
