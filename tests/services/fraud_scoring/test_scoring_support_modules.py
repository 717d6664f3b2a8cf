"""Time buckets, the config cache, settings helpers, and the core's independence from AWS."""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import fraud_scoring
from fraud_scoring.buckets import shard_of, time_bucket, window_buckets
from fraud_scoring.cache import TtlCache
from fraud_scoring.environment import PipelineEnvironment, SettingsError, positive_int, required, variable

AT = 1_714_564_830_123  # 2024-05-01T12:00:30.123Z


def test_time_bucket_is_the_utc_minute_and_a_stable_shard() -> None:
    assert time_bucket(AT, "txn-1", 4) == f"2024-05-01T12:00#{shard_of('txn-1', 4)}"
    # crc32("txn-1") is fixed across processes and Python versions, unlike hash().
    assert shard_of("txn-1", 4) == 2
    assert {shard_of(f"txn-{i}", 4) for i in range(100)} == {0, 1, 2, 3}


def test_window_buckets_cover_every_minute_and_shard_of_the_window() -> None:
    buckets = window_buckets(AT - 600_000, AT, 2)
    assert buckets[:2] == ["2024-05-01T11:50#0", "2024-05-01T11:50#1"]
    assert buckets[-2:] == ["2024-05-01T12:00#0", "2024-05-01T12:00#1"]
    assert len(buckets) == 11 * 2
    assert time_bucket(AT, "txn-1", 2) in buckets


def test_window_buckets_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        window_buckets(AT, AT - 1, 4)
    with pytest.raises(ValueError, match="at least 1"):
        window_buckets(AT, AT, 0)


def test_the_cache_loads_once_per_ttl() -> None:
    now = [0.0]
    values = iter(["first", "second"])
    cache = TtlCache(lambda: next(values), ttl_seconds=300, clock=lambda: now[0])

    assert [cache.get() for _ in range(3)] == ["first"] * 3
    now[0] = 299.9
    assert cache.get() == "first"
    now[0] = 300.0
    assert cache.get() == "second"
    assert cache.loads == 2


def test_a_failed_load_is_retried_on_the_next_call() -> None:
    attempts = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("ssm unavailable")
        return "loaded"

    cache = TtlCache(flaky, ttl_seconds=60)
    with pytest.raises(ConnectionError):
        cache.get()
    assert cache.get() == "loaded"


def test_settings_helpers_name_the_variable() -> None:
    with pytest.raises(SettingsError, match="TABLE must be set"):
        required({"TABLE": " "}, "TABLE")
    assert positive_int({}, "SHARDS", 4) == 4
    assert positive_int({"SHARDS": "8"}, "SHARDS", 4) == 8
    for bad in ("0", "-1", "four"):
        with pytest.raises(SettingsError, match="SHARDS must be a positive integer"):
            positive_int({"SHARDS": bad}, "SHARDS", 4)


@dataclass(frozen=True)
class _FunctionSettings(PipelineEnvironment):
    index_name: str = variable("INDEX_NAME")
    window_minutes: int = variable("WINDOW_MINUTES", default=10)


PIPELINE_VARIABLES = {
    "TRANSACTIONS_TABLE_NAME": "transactions",
    "ALERTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:alerts",
    "SCORING_CONFIG_PARAMETER": "/fraud/scoring",
}


def test_a_function_s_settings_read_the_pipeline_s_variables_and_its_own() -> None:
    settings = _FunctionSettings.from_env({**PIPELINE_VARIABLES, "INDEX_NAME": "by-time", "TIME_BUCKET_SHARDS": "8"})
    assert settings == _FunctionSettings(
        table_name="transactions",
        alerts_topic_arn="arn:aws:sns:us-east-1:123456789012:alerts",
        scoring_config_parameter="/fraud/scoring",
        time_bucket_shards=8,
        index_name="by-time",
        window_minutes=10,
    )
    with pytest.raises(SettingsError, match="INDEX_NAME must be set"):
        _FunctionSettings.from_env(PIPELINE_VARIABLES)
    with pytest.raises(SettingsError, match="WINDOW_MINUTES must be a positive integer"):
        _FunctionSettings.from_env({**PIPELINE_VARIABLES, "INDEX_NAME": "by-time", "WINDOW_MINUTES": "0"})
    with pytest.raises(SettingsError, match="ALERTS_TOPIC_ARN must be set"):
        PipelineEnvironment.from_env({**PIPELINE_VARIABLES, "ALERTS_TOPIC_ARN": ""})


def test_the_core_imports_only_the_standard_library() -> None:
    package = Path(fraud_scoring.__file__).parent
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top in {"fraud_scoring", "__future__"}, (
                    f"{module.name} imports {name}"
                )
