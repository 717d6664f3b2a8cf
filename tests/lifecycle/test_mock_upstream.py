"""Plan before the producer exists: typed placeholders, only in a marked copy, only for outputs read."""

from __future__ import annotations

import copy
import json
import re

import pytest

from lifecycle.mock_upstream import (
    MARKER_FILE,
    is_mocked,
    mock_upstream_defaults,
    placeholder,
    prepare_mock_plan_directory,
    mock_data_sources_reading,
    read_absent_states_as_empty,
    schema_lookup,
)
from stacks.layers import LAYER_DEPENDENCIES, Layer

SCHEMA = {
    "provider_schemas": {
        "registry.terraform.io/hashicorp/aws": {
            "resource_schemas": {
                "aws_subnet": {"block": {"attributes": {"id": {"type": "string"}}}},
                "aws_lb": {"block": {"attributes": {"arn": {"type": "string"}, "subnets": {"type": ["set", "string"]}}}},
                "aws_rds_cluster": {"block": {"attributes": {"port": {"type": "number"}}}},
            },
            "data_source_schemas": {"aws_region": {"block": {"attributes": {"name": {"type": "string"}}}}},
        }
    }
}


def consumer_reading(*outputs: str) -> dict:
    references = {f"r{index}": f"${{data.terraform_remote_state.net.outputs.{output}}}" for index, output in enumerate(outputs)}
    return {
        "data": {"terraform_remote_state": {"net": {"backend": "s3", "config": {"bucket": "b", "key": "dev/network.tfstate"}}}},
        "resource": {"aws_thing": {"thing": references}},
    }


PRODUCER = {
    "output": {
        "cross-stack-output-aws_subnetaid": {"value": "${aws_subnet.a.id}", "sensitive": True},
        "cross-stack-output-aws_lbalbarn": {"value": "${aws_lb.alb.arn}"},
        "cross-stack-output-aws_lbalbsubnets": {"value": "${aws_lb.alb.subnets}"},
        "cross-stack-output-aws_rds_clusterdbport": {"value": "${aws_rds_cluster.db.port}"},
        "cross-stack-output-data_aws_regionregionname": {"value": "${data.aws_region.region.name}"},
        "cross-stack-output-unused": {"value": "${aws_subnet.b.id}"},
    }
}


def test_each_output_read_gets_a_placeholder_of_its_schema_type():
    consumer = consumer_reading(
        "cross-stack-output-aws_subnetaid", "cross-stack-output-aws_lbalbarn", "cross-stack-output-aws_lbalbsubnets",
        "cross-stack-output-aws_rds_clusterdbport", "cross-stack-output-data_aws_regionregionname",
    )
    (read,) = mock_upstream_defaults(consumer, {"dev/network.tfstate": PRODUCER}, attribute_type=schema_lookup(SCHEMA), region="us-east-1")
    defaults = consumer["data"]["terraform_remote_state"]["net"]["defaults"]
    assert defaults == read.outputs
    assert defaults["cross-stack-output-aws_subnetaid"] == "mock-aws-subnetaid"
    assert defaults["cross-stack-output-aws_lbalbarn"].startswith("arn:aws:elasticloadbalancing:us-east-1:000000000000:")
    assert defaults["cross-stack-output-aws_lbalbsubnets"] == ["mock-aws-lbalbsubnets"]
    assert defaults["cross-stack-output-aws_rds_clusterdbport"] == 0
    assert isinstance(defaults["cross-stack-output-data_aws_regionregionname"], str)
    # Only what the consumer reads: an unread output gets no placeholder.
    assert "cross-stack-output-unused" not in defaults


def test_reading_an_output_the_producer_does_not_declare_is_an_error():
    consumer = consumer_reading("cross-stack-output-gone")
    with pytest.raises(KeyError, match="cross-stack-output-gone"):
        mock_upstream_defaults(consumer, {"dev/network.tfstate": PRODUCER}, attribute_type=schema_lookup(SCHEMA), region="us-east-1")


@pytest.mark.parametrize(
    "value_type, output, expected",
    [
        (["list", "string"], "ids", ["mock-ids"]),
        (["map", "string"], "tags", {}),
        ("bool", "flag", False),
        ("string", "cross-stack-output-aws_vpcvpccidr_block", "10.255.0.0/16"),
        (None, "cross-stack-output-aws_kms_keykeyarn", "arn:aws:kms:eu-west-1:000000000000:mock/aws-kms-keykeyarn"),
    ],
)
def test_placeholders_look_like_the_real_values(value_type, output, expected):
    assert placeholder(value_type, output, region="eu-west-1") == expected


def test_long_output_names_give_short_distinct_placeholders_two_of_which_fit_one_64_character_field():
    # The observability layer's X-Ray sampling rules join the edge's API and stage names as "<api>/<stage>".
    api, stage = "cross-stack-output-aws_api_gateway_rest_apirest-api_1547DDCAname", "cross-stack-output-aws_api_gateway_stagestage_59CE5186stage_name"
    api_value, stage_value = placeholder("string", api, region="us-east-1"), placeholder("string", stage, region="us-east-1")
    assert len(f"{api_value}/{stage_value}") <= 64
    assert api_value.startswith("mock-aws-api-gateway-") and api_value != stage_value
    assert placeholder("string", api + "2", region="us-east-1") != api_value


def test_only_producers_without_a_state_are_read_from_an_empty_local_state(tmp_path):
    consumer = consumer_reading("cross-stack-output-aws_subnetaid")
    consumer["data"]["terraform_remote_state"]["db"] = {"backend": "s3", "config": {"bucket": "b", "key": "dev/data.tfstate"}}
    redirected = read_absent_states_as_empty(consumer, {"dev/network.tfstate"}, tmp_path / "empty.tfstate")
    assert redirected == ["dev/network.tfstate"]
    reads = consumer["data"]["terraform_remote_state"]
    assert reads["net"]["backend"] == "local" and reads["net"]["config"] == {"path": str(tmp_path / "empty.tfstate")}
    # A producer that has a state keeps reading it: its real outputs win over the placeholders.
    assert reads["db"] == {"backend": "s3", "config": {"bucket": "b", "key": "dev/data.tfstate"}}
    assert json.loads((tmp_path / "empty.tfstate").read_text())["outputs"] == {}


def test_lookups_of_mocked_values_become_typed_placeholder_objects():
    consumer = consumer_reading("cross-stack-output-aws_subnetaid")
    consumer["data"]["aws_subnet"] = {"a": {"id": "${data.terraform_remote_state.net.outputs.cross-stack-output-aws_subnetaid}"}}
    consumer["data"]["aws_route_table"] = {"rt": {"subnet_id": "${data.aws_subnet.a.id}"}}
    consumer["data"]["aws_region"] = {"here": {}}
    consumer["resource"]["aws_db_cluster"] = {"db": {"zones": ["${data.aws_subnet.a.availability_zone}"], "depends_on": ["data.aws_subnet.a"]}}
    attributes = {"aws_subnet": {"id": "string", "availability_zone": "string", "tags": ["map", "string"]}, "aws_route_table": {"id": "string"}}
    replaced = mock_data_sources_reading(consumer, {"net"}, attributes=lambda data_type: attributes[data_type], region="us-east-1")
    # Transitively: the route table looks up the mocked subnet; the region lookup reads nothing mocked.
    assert sorted(replaced) == ["data.aws_route_table.rt", "data.aws_subnet.a"]
    assert set(consumer["data"]) == {"terraform_remote_state", "aws_region"}
    subnet = consumer["locals"]["mock_aws_subnet_a"]
    assert subnet["id"] == "mock-aws-subnet-a-id" and subnet["tags"] == {}
    assert re.fullmatch(r"mock-aws-subnet-a-availa-[0-9a-f]{6}", subnet["availability_zone"])
    db = consumer["resource"]["aws_db_cluster"]["db"]
    assert db["zones"] == ["${local.mock_aws_subnet_a.availability_zone}"] and db["depends_on"] == []


def test_the_mocked_copy_is_marked_and_the_synth_output_is_untouched(tmp_path):
    source = tmp_path / "cdktf.out" / "stacks" / "compute-dev"
    source.mkdir(parents=True)
    (source / "cdk.tf.json").write_text(json.dumps(consumer_reading("cross-stack-output-aws_subnetaid")))
    (source / ".terraform").mkdir()
    copy_dir = prepare_mock_plan_directory(source, tmp_path / "mock-plan" / "compute-dev")
    assert is_mocked(copy_dir) and not is_mocked(source)
    assert (copy_dir / MARKER_FILE).read_text().startswith("This copy reads placeholder values")
    assert not (copy_dir / ".terraform").exists()


@pytest.mark.parametrize("layer", [layer for layer in Layer if LAYER_DEPENDENCIES[layer]], ids=lambda layer: layer.value)
def test_every_consumer_of_the_real_stacks_can_be_mocked(synthesis, layer):
    """Every remote-state read of every consumer resolves to outputs its producer declares."""
    consumer = copy.deepcopy(synthesis.stack(layer, "dev").config)
    producers = {f"dev/{producer.value}.tfstate": synthesis.stack(producer, "dev").config for producer in LAYER_DEPENDENCIES[layer]}
    reads = mock_upstream_defaults(consumer, producers, attribute_type=lambda *_: None, region="us-east-1")
    remote = consumer["data"]["terraform_remote_state"]
    assert {read.producer_key for read in reads} <= set(producers)
    for name, body in remote.items():
        used = json.dumps(consumer).count(f"data.terraform_remote_state.{name}.outputs.")
        assert body["defaults"] or not used, name
    # The real synth is left alone: defaults exist only in the copy.
    assert all("defaults" not in body for body in synthesis.stack(layer, "dev").data_sources("terraform_remote_state").values())
