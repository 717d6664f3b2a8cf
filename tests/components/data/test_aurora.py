"""AuroraPostgres in a bare stack: the switches the environments do not all exercise."""

from __future__ import annotations

import dataclasses
import json

import cdktf
import pytest
from cdktf import App, TerraformStack

from components.data.aurora import AuroraPostgres
from components.naming import ResourceNamer
from config.settings import DataSettings

SETTINGS = DataSettings(performance_insights_enabled=True, aurora_reader_in_second_az=False)


def _synth(tmp_path, **changes) -> dict:
    stack = TerraformStack(App(outdir=str(tmp_path)), "aurora-test")
    AuroraPostgres(
        stack,
        "aurora",
        naming=ResourceNamer(prefix="fraud", suffix="test", path_root="fraud-detection"),
        settings=dataclasses.replace(SETTINGS, **changes),
        subnet_ids=["subnet-a", "subnet-b", "subnet-c"],
        security_group_ids=["sg-db"],
        storage_key_arn="arn:storage",
        logs_key_arn="arn:logs",
    )
    return json.loads(cdktf.Testing.synth(stack))


def test_reader_only_when_asked_and_created_after_the_writer(tmp_path):
    assert len(_synth(tmp_path)["resource"]["aws_rds_cluster_instance"]) == 1
    instances = _synth(tmp_path, aurora_reader_in_second_az=True)["resource"]["aws_rds_cluster_instance"]
    (writer_name,) = [name for name in instances if "writer" in name]
    (reader,) = [body for name, body in instances.items() if "reader" in name]
    assert reader["depends_on"] == [f"aws_rds_cluster_instance.{writer_name}"]
    assert reader["identifier"] == "fraud-aurora-reader-test" and reader["promotion_tier"] == 1
    assert "subnet-1" in reader["availability_zone"] and "subnet-0" in instances[writer_name]["availability_zone"]


@pytest.mark.parametrize("enabled", [True, False])
def test_performance_insights_key_only_when_enabled(tmp_path, enabled):
    (instance,) = _synth(tmp_path, performance_insights_enabled=enabled)["resource"]["aws_rds_cluster_instance"].values()
    assert instance["performance_insights_enabled"] is enabled
    assert ("performance_insights_kms_key_id" in instance) is enabled
    if enabled:
        assert instance["performance_insights_kms_key_id"] == "arn:storage"


def test_parameter_group_family_follows_the_major_version(tmp_path):
    (group,) = _synth(tmp_path, aurora_engine_version="15.7")["resource"]["aws_rds_cluster_parameter_group"].values()
    assert group["family"] == "aurora-postgresql15"
    # A prefix: the group is replaced create-before-destroy, so two exist for a moment.
    assert group["name_prefix"] == "fraud-aurora-postgresql15-test-" and "name" not in group
