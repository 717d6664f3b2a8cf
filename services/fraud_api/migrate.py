"""`python -m fraud_api.migrate`: the schema migration step, separate from the serving process.

Run it once per deployment, before traffic moves to the new release (README.md, "Schema
migrations and the database roles"). It logs in as the schema owner (DB_OWNER_CREDENTIALS or
DB_OWNER_SECRET_ARN: the RDS master secret on AWS, readable by this step and by no serving
task), applies the migrations not yet recorded, and creates or updates the application role
named by DB_USER with exactly the grants the service needs, logging in the way DB_AUTH says
(IAM tokens on AWS; a password, set from DB_CREDENTIALS/DB_SECRET_ARN, elsewhere). All of it is
one transaction: it applies completely or not at all.

Exit codes: 0 done, 2 bad configuration, 3 failed (database unreachable, login refused, a
migration or the role set-up failed; nothing was changed).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from dataclasses import dataclass

import psycopg

from fraud_api.credentials import DbCredentials, secrets_manager_fetcher
from fraud_api.database import conninfo_for
from fraud_api.errors import ConfigurationError
from fraud_api.logs import configure_logging
from fraud_api.migrations import MIGRATIONS, apply_migrations
from fraud_api.privileges import ApplicationRole, provision_application_role
from fraud_api.settings import DatabaseLogin, MigrationSettings

EXIT_CONFIGURATION = 2
EXIT_FAILED = 3
log = logging.getLogger("fraud_api.migrate")


@dataclass(frozen=True)
class MigrationOutcome:
    applied: list[int]
    role: str


def _password(login: DatabaseLogin, region: str | None) -> DbCredentials:
    """The login's credentials: as given, else read once from its secret."""
    if login.credentials is not None:
        return login.credentials
    assert login.secret_arn is not None, "settings require credentials or a secret"
    return secrets_manager_fetcher(login.secret_arn, region)()


async def migrate(settings: MigrationSettings) -> MigrationOutcome:
    region = settings.database.aws_region
    owner = await asyncio.to_thread(_password, settings.database.login, region)
    application = settings.application
    password = None
    if application.method == "password":
        password = (await asyncio.to_thread(_password, application, region)).password
    role = ApplicationRole(name=application.user or "", login=application.method, password=password)
    if not role.name:
        raise ConfigurationError(["DB_USER is required (the application role to provision)"])
    if role.name == owner.username:
        raise ConfigurationError(["the owner login and the application role must be different roles"])

    async def provision(conn: psycopg.AsyncConnection) -> None:
        await provision_application_role(conn, role, settings.database.name)

    conn = await psycopg.AsyncConnection.connect(
        conninfo_for(settings.database), user=owner.username, password=owner.password, autocommit=True
    )
    async with conn:
        applied = await apply_migrations(conn, MIGRATIONS, then=provision)
    return MigrationOutcome(applied=applied, role=role.name)


def main() -> int:
    configure_logging(os.environ.get("LOG_LEVEL", "INFO").upper())
    try:
        settings = MigrationSettings.from_env(os.environ)
    except ConfigurationError as exc:
        log.error("invalid configuration", extra={"problems": exc.problems})
        return EXIT_CONFIGURATION
    try:
        outcome = asyncio.run(migrate(settings))
    except ConfigurationError as exc:
        log.error("invalid configuration", extra={"problems": exc.problems})
        return EXIT_CONFIGURATION
    except Exception as exc:  # noqa: BLE001 - one line with the cause, whatever it is, and exit 3
        # psycopg's and botocore's messages name objects and roles, never passwords.
        log.error("migration failed; nothing was changed", extra={"error": type(exc).__name__, "detail": str(exc)})
        return EXIT_FAILED
    log.info(
        "schema current and application role provisioned",
        extra={"migrations_applied": outcome.applied, "role": outcome.role, "login": settings.application.method},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
