"""Benchmarks of the Lambda functions in services/. Prints numbers; stops itself.

    .venv/bin/python benchmarks/bench_lambdas.py            # full run, about a minute
    .venv/bin/python benchmarks/bench_lambdas.py --quick    # smaller sizes, a few seconds

1. Cold import of each handler from its unzipped deployment package (fresh interpreter each
   time, median of 5), the way Lambda's init phase imports it: no bytecode for our code or the
   vendored packages, the runtime's boto3. Also what Powertools Tracer would add.
2. Warm invocations of the transaction processor against moto (in-process AWS fakes), and how
   often the SSM parameter was fetched; then how long it takes to refuse hostile amounts
   (exponents of every size, thousands of digits), which must not grow with the input.
3. The pattern analyzer: (a) against moto, with 100x more items outside the window than inside:
   what DynamoDB reports it read; (b) a 100k-transaction window, too big for moto, against a
   fake DynamoDB endpoint that answers each Query with prebuilt JSON pages after a simulated
   round trip (botocore still parses every page, as it would a real response).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "services")]

for _name, _value in {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "benchmark",
    "AWS_SECRET_ACCESS_KEY": "benchmark",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}.items():
    os.environ[_name] = _value

import moto  # noqa: E402,F401  (before any client exists, so clients can be routed to moto)

TIME_LIMIT_SECONDS = 300
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "dateutil", "urllib3", "six")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--query-latency-ms", type=float, default=15.0, help="simulated DynamoDB round trip in 3b")
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.alarm(TIME_LIMIT_SECONDS)

    with tempfile.TemporaryDirectory(prefix="bench-lambdas-") as scratch:
        cold_imports(Path(scratch), runs=3 if args.quick else 5)
    warm_processor(invocations=50 if args.quick else 300)
    analyzer_reads_only_the_window(in_window=20 if args.quick else 100, outside_factor=100)
    analyzer_large_window(transactions=10_000 if args.quick else 100_000, latency_ms=args.query_latency_ms)


def _out_of_time(*_: Any) -> None:
    print(f"\nbenchmark stopped: over its {TIME_LIMIT_SECONDS} s limit", file=sys.stderr)
    os._exit(2)


def _section(title: str) -> None:
    print(f"\n== {title}")


# -- 1. cold imports --------------------------------------------------------------------------


def cold_imports(scratch: Path, runs: int) -> None:
    from services.lambda_packaging import LAMBDA_FUNCTIONS, PackagingError, build_lambda_zip

    _section(f"1. cold import of each handler from its unzipped package (median of {runs} fresh interpreters)")
    runtime = _linked_site(scratch / "runtime", RUNTIME_PROVIDED)
    try:
        zips = {name: build_lambda_zip(name, scratch / "dist") for name in LAMBDA_FUNCTIONS}
        source = "vendored arm64 dependencies from services/lambda_requirements.txt"
    except PackagingError as error:  # no PyPI access: fall back to this venv's copies, stripped of bytecode
        print(f"   (could not install the pinned dependencies: {str(error).splitlines()[0]})")
        deps = _copied_site(scratch / "deps", ("aws_lambda_powertools", "jmespath", "typing_extensions"))
        zips = {name: build_lambda_zip(name, scratch / "dist", dependencies_dir=deps) for name in LAMBDA_FUNCTIONS}
        source = "this venv's copies of the dependencies (bytecode removed)"
    print(f"   packages built with {source}")

    for name, package in zips.items():
        task_root = scratch / "task" / name
        with zipfile.ZipFile(package) as archive:
            archive.extractall(task_root)
        module = LAMBDA_FUNCTIONS[name].rsplit(".", 1)[0]
        median = _median_import_ms(f"import {module}", [task_root, runtime], runs)
        print(f"   {name:<22} {median:6.0f} ms   ({package.stat().st_size / 1e6:.2f} MB zip)")

    # The decision against Powertools Tracer, measured the same way: aws-xray-sdk and wrapt
    # without bytecode, as they would be vendored; Tracer only initialises inside Lambda.
    xray = _copied_site(scratch / "xray", ("aws_xray_sdk", "wrapt"))
    task_root = scratch / "task" / "transaction_processor"
    with_tracer = _median_import_ms(
        "import transaction_processor.handler; from aws_lambda_powertools import Tracer; Tracer(service='bench')",
        [task_root, xray, runtime],
        runs,
        extra_env={"AWS_LAMBDA_FUNCTION_NAME": "bench"},
    )
    print(f"   transaction_processor + Powertools Tracer {with_tracer:6.0f} ms   (not used: see services/README.md)")


def _median_import_ms(statement: str, path: list[Path], runs: int, extra_env: dict[str, str] | None = None) -> float:
    program = (
        "import sys, time;"
        f"sys.path[:0] = {[str(p) for p in path]!r};"
        "started = time.perf_counter();"
        f"{statement};"
        "print((time.perf_counter() - started) * 1000)"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "benchmark",
        "AWS_SECRET_ACCESS_KEY": "benchmark",
        "PYTHONDONTWRITEBYTECODE": "1",
        **(extra_env or {}),
    }
    timings = []
    for _ in range(runs):
        completed = subprocess.run(
            [sys.executable, "-I", "-S", "-c", program],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"import failed: {completed.stderr.strip().splitlines()[-1]}")
        timings.append(float(completed.stdout.strip().splitlines()[-1]))
    return statistics.median(timings)


def _location(name: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin is not None, name
    origin = Path(spec.origin)
    return origin.parent if origin.name == "__init__.py" else origin


def _linked_site(root: Path, names: tuple[str, ...]) -> Path:
    root.mkdir(parents=True)
    for name in names:
        location = _location(name)
        (root / location.name).symlink_to(location)
    return root


def _copied_site(root: Path, names: tuple[str, ...]) -> Path:
    root.mkdir(parents=True)
    for name in names:
        location = _location(name)
        if location.is_dir():
            shutil.copytree(location, root / location.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(location, root / location.name)
    return root


# -- 2. warm processor ------------------------------------------------------------------------


def warm_processor(invocations: int) -> None:
    from moto import mock_aws

    from tests.services.aws_fixtures import (
        USER_INDEX_NAME,
        FakeLambdaContext,
        api_gateway_event,
        create_alerts_topic,
        create_transactions_table,
        put_scoring_parameter,
    )

    _section(f"2. warm transaction processor, {invocations} invocations against moto")
    with mock_aws():
        from fraud_scoring import ScoringConfig
        from transaction_processor import handler as processor

        table = create_transactions_table()
        topic = create_alerts_topic()
        parameter = put_scoring_parameter(ScoringConfig.default())
        os.environ.update(
            TRANSACTIONS_TABLE_NAME=table,
            USER_INDEX_NAME=USER_INDEX_NAME,
            ALERTS_TOPIC_ARN=topic.topic_arn,
            SCORING_CONFIG_PARAMETER=parameter,
        )
        ssm_calls = _count_calls(processor.ssm, "GetParameter")
        dynamodb_calls = _count_calls(processor.dynamodb, "*")
        processor.scoring_config.invalidate()
        context = FakeLambdaContext()
        now_ms = int(time.time() * 1000)
        # Inside the 5-minute timestamp window (fraud_scoring.timestamps), oldest first.
        spacing_ms = min(1_000, 250_000 // invocations)

        timings, statuses = [], []
        for i in range(invocations):
            body = {
                "transaction_id": f"bench-{i}",
                "user_id": f"user-{i % 25}",  # repeat users, so histories grow
                "amount": 20 + (i * 37) % 4_000,
                "currency": "EUR",
                "merchant_id": f"merchant-{i % 40}",
                "country": "DE" if i % 7 else "FR",
                "timestamp": now_ms - (invocations - i) * spacing_ms,
            }
            event = api_gateway_event(body)
            started = time.perf_counter()
            response = processor.handler(event, context)
            timings.append((time.perf_counter() - started) * 1000)
            statuses.append(response["statusCode"])

    first, warm = timings[0], sorted(timings[1:])
    print(f"   first invocation (loads config) {first:6.1f} ms")
    print(f"   warm median {statistics.median(warm):6.1f} ms, p99 {statistics.quantiles(warm, n=100)[98]:6.1f} ms")
    print(f"   statuses {dict(sorted((s, statuses.count(s)) for s in set(statuses)))}")
    print(f"   SSM GetParameter calls: {ssm_calls[0]} for {invocations} invocations")
    print(f"   DynamoDB calls per invocation: {dynamodb_calls[0] / invocations:.1f} (lookup, history, conditional put)")
    print("   (moto answers in-process: this is the function's own overhead plus moto, not network time)")
    hostile_refusals(processor, context, repeats=20 if invocations < 100 else 200)


HOSTILE_AMOUNTS = {
    **{f"1e-{10**power}": f"1e-{10**power}" for power in (1, 3, 9, 18)},
    **{f"1e{10**power}": f"1e{10**power}" for power in (1, 3, 9, 18)},
    "1e99999999999999999999999999": "1e99999999999999999999999999",
    "4000 nines": "9" * 4_000,
    "0. + 10000 zeros + 1": "0." + "0" * 10_000 + "1",
}


def hostile_refusals(processor: Any, context: Any, repeats: int) -> None:
    """Median time to refuse each hostile amount (a 400 before any AWS call)."""
    from tests.services.aws_fixtures import api_gateway_event

    print(f"   refusing hostile amounts, median of {repeats}:")
    template = json.dumps(
        {"transaction_id": "hostile", "user_id": "u", "amount": "@", "currency": "EUR", "merchant_id": "m", "country": "DE"}
    )
    for name, literal in HOSTILE_AMOUNTS.items():
        event = api_gateway_event(template.replace('"@"', literal), raw=True)
        timings, statuses = [], set()
        for _ in range(repeats):
            started = time.perf_counter()
            statuses.add(processor.handler(event, context)["statusCode"])
            timings.append((time.perf_counter() - started) * 1_000_000)
        print(f"     {name[:32]:<32} {statistics.median(timings):8.0f} us   status {sorted(statuses)}")


def _count_calls(client: Any, operation: str) -> list[int]:
    counter = [0]
    event = f"before-call.{client.meta.service_model.service_name}" + ("" if operation == "*" else f".{operation}")
    client.meta.events.register(event, lambda **_: counter.__setitem__(0, counter[0] + 1))
    return counter


# -- 3a. analyzer reads only the window ---------------------------------------------------------


def analyzer_reads_only_the_window(in_window: int, outside_factor: int) -> None:
    from moto import mock_aws

    from fraud_scoring import ScoreResult, ScoringConfig, Transaction
    from tests.services.aws_fixtures import (
        TIME_WINDOW_INDEX_NAME,
        FakeLambdaContext,
        create_alerts_topic,
        create_transactions_table,
        put_scoring_parameter,
        scheduled_event,
        write_items,
    )
    from transaction_processor.store import transaction_item

    outside = in_window * outside_factor
    _section(f"3a. pattern analyzer against moto: {in_window} items in the window, {outside} outside")
    run_at = datetime(2024, 5, 1, 12, 0, 30, tzinfo=UTC)
    run_at_ms = int(run_at.timestamp() * 1000)
    window_ms = 10 * 60_000

    def item(n: int, at_ms: int) -> dict[str, Any]:
        txn = Transaction(f"t-{n}", f"user-{n % 997}", Decimal(20), "EUR", "m-1", "DE", None, at_ms)
        return transaction_item(txn, ScoreResult(0.0, "approve", ()), shards=4, ttl_days=90)

    inside_items = [item(n, run_at_ms - window_ms + n * window_ms // in_window) for n in range(in_window)]
    # Outside: the 4 days before the window, spread evenly.
    span = 4 * 86_400_000
    outside_items = [item(in_window + n, run_at_ms - window_ms - 1 - n * span // outside) for n in range(outside)]

    with mock_aws():
        from pattern_analyzer import handler as analyzer

        table = create_transactions_table()
        os.environ.update(
            TRANSACTIONS_TABLE_NAME=table,
            TIME_WINDOW_INDEX_NAME=TIME_WINDOW_INDEX_NAME,
            ALERTS_TOPIC_ARN=create_alerts_topic().topic_arn,
            SCORING_CONFIG_PARAMETER=put_scoring_parameter(ScoringConfig.default()),
        )
        analyzer.scoring_config.invalidate()
        started = time.perf_counter()
        write_items(inside_items + outside_items)
        seeded = time.perf_counter() - started
        summary = analyzer.handler(scheduled_event(run_at), FakeLambdaContext())

    total = in_window + outside
    print(f"   table: {total} items (seeded in {seeded:.1f} s); window: {in_window}")
    print(
        f"   DynamoDB reported Count {summary['items_read']}, ScannedCount {summary['scanned_count']}"
        f" over {summary['queries']} queries / {summary['pages']} pages"
    )
    print(
        f"   read / in window = {summary['scanned_count'] / in_window:.2f};"
        f" read / table = {summary['scanned_count'] / total:.4f}"
    )


# -- 3b. analyzer on a 100k window ------------------------------------------------------------


@dataclass
class _RawBody:
    """The raw HTTP body botocore reads a response from."""

    body: bytes

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


class FakeQueryEndpoint:
    """Answers the analyzer's Query calls with prebuilt DynamoDB JSON pages, after a simulated
    round trip; conditional puts of finding markers succeed. Installed on one client only."""

    def __init__(self, pages: dict[str, list[bytes]], latency_ms: float) -> None:
        self.pages = pages
        self.latency = latency_ms / 1000
        self.requests = 0

    def __call__(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        self.requests += 1
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        time.sleep(self.latency)
        if target.endswith(".Query"):
            query = json.loads(request.body)
            bucket = query["ExpressionAttributeValues"][":bucket"]["S"]
            index = int(query.get("ExclusiveStartKey", {}).get("page", {}).get("N", "0"))
            pages = self.pages.get(bucket) or [_page([], None)]
            body = pages[index]
        else:  # PutItem of a finding marker
            body = b"{}"
        headers = {"content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "bench"}
        return AWSResponse(request.url, 200, headers, _RawBody(body))


def _page(items: list[dict[str, Any]], next_page: int | None) -> bytes:
    page: dict[str, Any] = {"Items": items, "Count": len(items), "ScannedCount": len(items)}
    if next_page is not None:
        page["LastEvaluatedKey"] = {"page": {"N": str(next_page)}}
    return json.dumps(page).encode()


def analyzer_large_window(transactions: int, latency_ms: float) -> None:
    from fraud_scoring import ScoringConfig
    from fraud_scoring.buckets import time_bucket
    from fraud_scoring.cache import TtlCache
    from tests.services.aws_fixtures import TIME_WINDOW_INDEX_NAME, FakeLambdaContext, scheduled_event

    _section(f"3b. pattern analyzer on a {transactions:,}-transaction window (fake DynamoDB endpoint)")
    run_at = datetime(2024, 5, 1, 12, 0, 30, tzinfo=UTC)
    end_ms = int(run_at.timestamp() * 1000)
    start_ms = end_ms - 10 * 60_000

    # ~25 transactions per user; every 500th user bursts, so the alert path runs too.
    by_bucket: dict[str, list[dict[str, Any]]] = {}
    for n in range(transactions):
        user = n % (transactions // 25)
        bursting = user % 500 == 0
        at = end_ms - 30_000 - (n % 25) * 1_000 if bursting else start_ms + (n * 7_919) % (end_ms - start_ms)
        txn_id = f"t-{n:07d}"
        by_bucket.setdefault(time_bucket(at, txn_id, 4), []).append(
            {
                "transaction_id": {"S": txn_id},
                "timestamp": {"N": str(at)},
                "user_id": {"S": f"user-{user}"},
                "merchant_id": {"S": f"merchant-{n % 3_000}"},
                "amount": {"N": str(10 + n % 200)},
                "decision": {"S": "approve"},
            }
        )
    # Pages the size DynamoDB would return: its 1 MB limit on these ~150-byte items (~6,500 per
    # page); 1,000 per page is used, which is more round trips than DynamoDB would need.
    per_page = 1_000
    pages = {
        bucket: [
            _page(items[i : i + per_page], i // per_page + 1 if i + per_page < len(items) else None)
            for i in range(0, len(items), per_page)
        ]
        for bucket, items in by_bucket.items()
    }

    from pattern_analyzer import handler as analyzer

    os.environ.update(
        TRANSACTIONS_TABLE_NAME="bench-table",
        TIME_WINDOW_INDEX_NAME=TIME_WINDOW_INDEX_NAME,
        ALERTS_TOPIC_ARN="arn:aws:sns:us-east-1:123456789012:bench",
        SCORING_CONFIG_PARAMETER="/bench/scoring",
    )
    endpoint = FakeQueryEndpoint(pages, latency_ms)
    published = []
    stub_publish = lambda **kwargs: published.append(kwargs) or {"MessageId": "bench"}  # noqa: E731
    with (
        _patched(analyzer, "scoring_config", TtlCache(ScoringConfig.default, 300)),
        _patched(analyzer.sns, "publish", stub_publish),
    ):
        analyzer.dynamodb.meta.events.register_first("before-send.dynamodb", endpoint)
        try:
            started = time.perf_counter()
            summary = analyzer.handler(scheduled_event(run_at), FakeLambdaContext())
            elapsed = time.perf_counter() - started
        finally:
            analyzer.dynamodb.meta.events.unregister("before-send.dynamodb", endpoint)

    print(
        f"   read {summary['items_read']:,} items in {summary['queries']} queries / {summary['pages']} pages;"
        f" simulated round trip {latency_ms:.0f} ms per request"
    )
    print(
        f"   findings {summary['findings']}, alerts published {summary['alerts_published']}"
        f" (SNS stubbed: {len(published)} publish calls)"
    )
    print(f"   run time {elapsed:.2f} s (reading {summary['read_seconds']:.2f} s) -- budget 30 s")
    print("   (DynamoDB faked at the HTTP layer: botocore parses every page; moto is too slow for 100k)")


@contextmanager
def _patched(owner: Any, name: str, value: Any) -> Iterator[None]:
    original = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, original)


if __name__ == "__main__":
    main()
