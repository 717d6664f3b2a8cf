"""What the account must already have before an environment deploys.

On real AWS these are prerequisites the lifecycle only checks (and names how to fix). In the
emulator, which starts empty, it creates them, so the stacks meet the same world they would in
a real account.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Callable

from config.settings import EnvironmentConfig


class PrerequisiteMissing(Exception):
    """The account lacks something the stacks read; the message says how to provide it."""


@dataclass(frozen=True)
class Prerequisite:
    description: str
    exists: Callable[[Any, EnvironmentConfig], bool]
    create: Callable[[Any, EnvironmentConfig], None]
    how_to_fix: str


def _zone_name(config: EnvironmentConfig) -> str:
    return config.edge.hosted_zone_name.rstrip(".") + "."


def _hosted_zone_exists(session: Any, config: EnvironmentConfig) -> bool:
    route53 = session.client("route53")
    zones = route53.list_hosted_zones_by_name(DNSName=_zone_name(config), MaxItems="1")["HostedZones"]
    return any(zone["Name"] == _zone_name(config) and not zone["Config"].get("PrivateZone") for zone in zones)


def _create_hosted_zone(session: Any, config: EnvironmentConfig) -> None:
    session.client("route53").create_hosted_zone(
        Name=_zone_name(config),
        CallerReference=str(uuid.uuid4()),
        HostedZoneConfig={"Comment": "The organisation's public zone (created by the lifecycle in the emulator)", "PrivateZone": False},
    )


PREREQUISITES: tuple[Prerequisite, ...] = (
    Prerequisite(
        description="public Route 53 hosted zone {zone}",
        exists=_hosted_zone_exists,
        create=_create_hosted_zone,
        how_to_fix=(
            "create the public hosted zone {zone} in this account and delegate it from its parent domain, "
            "or point FRAUD_HOSTED_ZONE at a zone you own"
        ),
    ),
)


def ensure_prerequisites(session: Any, config: EnvironmentConfig, *, create: bool) -> list[str]:
    """Check every prerequisite; create the missing ones when `create` (the emulator). Returns what was done."""
    done = []
    for prerequisite in PREREQUISITES:
        description = prerequisite.description.format(zone=_zone_name(config))
        if prerequisite.exists(session, config):
            done.append(f"{description}: present")
            continue
        if not create:
            raise PrerequisiteMissing(f"{description} is missing: " + prerequisite.how_to_fix.format(zone=_zone_name(config)))
        prerequisite.create(session, config)
        done.append(f"{description}: created")
    return done
