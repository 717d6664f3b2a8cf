"""docs/security.md lists exactly the exceptions the code makes, so the doc never goes stale.

The checkov table is generated from the synthesized JSON by scripts/checkov_exceptions.py; the
IAM and encryption tables are the exception lists the security tests enforce.
"""

from __future__ import annotations

from pathlib import Path

from components.compliance import SKIP_KEY
from scripts import checkov_exceptions
from scripts.checkov_exceptions import read_block, recorded_exceptions, render_table
from tests.security.test_encryption import SSE_S3_BUCKETS
from tests.security.test_iam import (
    MANAGED_POLICIES,
    PRINCIPAL_STAR_STATEMENTS,
    RESOURCE_STAR_ACTIONS,
    TRUST_WITHOUT_SOURCE_CONDITIONS,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def two_columns(header: tuple[str, str], rows: dict[str, str]) -> str:
    lines = [f"| {header[0]} | {header[1]} |", "| --- | --- |"]
    lines += [f"| `{key}` | {value} |" for key, value in rows.items()]
    return "\n".join(lines)


def documented(name: str) -> str | None:
    return read_block(DOC.read_text(), name)


def test_the_script_reads_the_key_skip_check_writes():
    assert checkov_exceptions.SKIP_KEY == SKIP_KEY


def test_docs_list_exactly_the_synthesized_checkov_exceptions(synthesis):
    expected = render_table(recorded_exceptions(synthesis.outdir / "stacks"))
    assert documented(checkov_exceptions.BLOCK) == expected, (
        "docs/security.md and the synthesized checkov exceptions disagree; refresh the table with\n"
        "  CDKTF_OUTDIR=/tmp/out .venv/bin/python app.py && .venv/bin/python scripts/checkov_exceptions.py /tmp/out --write docs/security.md"
    )


def test_docs_list_the_iam_resource_star_exceptions():
    expected = two_columns(("action", "why Resource \"*\""), RESOURCE_STAR_ACTIONS)
    assert documented("iam-resource-star") == expected, "paste into docs/security.md:\n" + expected


def test_docs_list_the_trust_policies_without_source_conditions():
    expected = two_columns(("service principal", "why no aws:SourceAccount / aws:SourceArn"), TRUST_WITHOUT_SOURCE_CONDITIONS)
    assert documented("iam-trust-without-source-conditions") == expected, "paste into docs/security.md:\n" + expected


def test_docs_list_the_managed_policies():
    expected = two_columns(("AWS managed policy", "why"), MANAGED_POLICIES)
    assert documented("iam-managed-policies") == expected, "paste into docs/security.md:\n" + expected


def test_docs_list_the_principal_star_statements():
    rows = {f"{sid} ({where}: {', '.join(actions)})": why for sid, (where, actions, _, why) in PRINCIPAL_STAR_STATEMENTS.items()}
    expected = two_columns(("statement", "why Principal \"*\""), rows)
    assert documented("iam-principal-star") == expected, "paste into docs/security.md:\n" + expected


def test_docs_list_the_sse_s3_buckets():
    expected = two_columns(("bucket (layer, construct path)", "why not a CMK"), {f"{layer}: {path}": why for (layer, path), why in SSE_S3_BUCKETS.items()})
    assert documented("sse-s3-buckets") == expected, "paste into docs/security.md:\n" + expected
