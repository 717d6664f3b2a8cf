"""Account prerequisites: created in the emulator, only checked (with a fix named) on AWS."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from config.environments import build_environments
from lifecycle.prerequisites import PrerequisiteMissing, ensure_prerequisites


@dataclass
class FakeRoute53:
    zones: list[dict] = field(default_factory=list)

    def list_hosted_zones_by_name(self, DNSName: str, MaxItems: str) -> dict:
        return {"HostedZones": sorted((z for z in self.zones if z["Name"] >= DNSName), key=lambda z: z["Name"])[: int(MaxItems)]}

    def create_hosted_zone(self, Name: str, CallerReference: str, HostedZoneConfig: dict) -> None:
        self.zones.append({"Name": Name, "Config": {"PrivateZone": HostedZoneConfig["PrivateZone"]}})


@dataclass
class FakeClients:
    route53: FakeRoute53

    def client(self, service: str) -> FakeRoute53:
        assert service == "route53"
        return self.route53


def dev(zone: str = "fraud.example.com"):
    return build_environments(hosted_zone_name=zone)["dev"]


def test_the_emulator_gets_the_hosted_zone_created_once():
    clients = FakeClients(FakeRoute53())
    assert ensure_prerequisites(clients, dev(), create=True) == ["public Route 53 hosted zone fraud.example.com.: created"]
    assert ensure_prerequisites(clients, dev(), create=True) == ["public Route 53 hosted zone fraud.example.com.: present"]


def test_on_aws_a_missing_zone_stops_with_how_to_fix_it():
    clients = FakeClients(FakeRoute53([{"Name": "other.example.com.", "Config": {"PrivateZone": False}}]))
    with pytest.raises(PrerequisiteMissing, match="fraud.example.com. is missing: create the public hosted zone .* FRAUD_HOSTED_ZONE"):
        ensure_prerequisites(clients, dev(), create=False)
    assert len(clients.route53.zones) == 1


def test_a_private_zone_of_the_same_name_does_not_count():
    clients = FakeClients(FakeRoute53([{"Name": "fraud.example.com.", "Config": {"PrivateZone": True}}]))
    with pytest.raises(PrerequisiteMissing):
        ensure_prerequisites(clients, dev(), create=False)
