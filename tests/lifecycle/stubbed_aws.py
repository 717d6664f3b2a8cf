"""Real botocore clients answered by botocore's Stubber: every request is checked against the
service's model (a misspelt parameter fails), and nothing leaves the process."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.response import StreamingBody
from botocore.stub import Stubber

REGION = "us-east-1"
ACCOUNT = "123456789012"


@dataclass
class StubbedClients:
    """Stands in for lifecycle.clients.TargetClients: one stubbed client per service."""

    clients: dict[str, Any] = field(default_factory=dict)
    stubbers: dict[str, Stubber] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.session = boto3.session.Session(aws_access_key_id="stub", aws_secret_access_key="stub", region_name=REGION)

    def stub(self, service: str) -> Stubber:
        if service not in self.stubbers:
            self.clients[service] = self.session.client(service)
            self.stubbers[service] = Stubber(self.clients[service])
            self.stubbers[service].activate()
        return self.stubbers[service]

    def client(self, service: str) -> Any:
        self.stub(service)
        return self.clients[service]

    def assert_all_answered(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


def state_object(document: dict) -> dict:
    """A GetObject answer holding a Terraform state document."""
    body = json.dumps(document).encode()
    return {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentLength": len(body)}


def state_with_outputs(outputs: dict[str, Any], resources: int = 3) -> dict:
    return {
        "version": 4,
        "serial": 7,
        "lineage": "lineage-1",
        "outputs": {name: {"value": value} for name, value in outputs.items()},
        "resources": [
            {"mode": "managed", "type": "aws_thing", "name": f"thing{index}", "instances": [{"attributes": {}}]}
            for index in range(resources)
        ],
    }
