"""The entry point refuses bad input early: non-zero exit, one line, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from scripts.paths import REPO_ROOT



@pytest.mark.parametrize(
    "env, message",
    [
        ({"FRAUD_ENVIRONMENTS": "qa"}, "error: unknown environment(s) qa; choose from dev, staging, prod"),
        ({"FRAUD_TARGET": "localstack"}, "error: FRAUD_TARGET is 'localstack'; use 'aws' or 'emulator'"),
        ({"FRAUD_HOSTED_ZONE": "not a zone"}, "edge.api_domain_name"),
        ({"FRAUD_STATE_BUCKET": "Bad_Bucket"}, "state.bucket 'Bad_Bucket' is not a valid S3 bucket name"),
        ({"FRAUD_AWS_ACCOUNT_ID": "12345"}, "FRAUD_AWS_ACCOUNT_ID is '12345'; an AWS account id is 12 digits"),
        ({"FRAUD_API_IMAGE": "fraud api:1"}, "compute.fraud_api_image"),
    ],
)
def test_bad_input_stops_synth_with_one_line_and_writes_nothing(tmp_path, env, message):
    outdir = tmp_path / "cdktf.out"
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=REPO_ROOT,
        env={**os.environ, **env, "CDKTF_OUTDIR": str(outdir)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert not outdir.exists()
