"""The application role: the only privileges fraud-api serves with.

The migration step (`python -m fraud_api.migrate`, as the schema owner) creates or updates the
role and grants it exactly what the queries in repository.py need; the server checks at start
that it got no more and refuses to serve otherwise, so a task wired with the owner's (or the
RDS master's) login fails its deployment instead of serving with DDL rights.

What the service runs: the user's history (SELECT), the idempotent insert that reads a stored
row back (INSERT ... ON CONFLICT DO NOTHING, SELECT), the look-up by id (SELECT), and at start
the schema version (SELECT on schema_migrations). So: CONNECT on the database, USAGE on schema
public, SELECT and INSERT on transactions, SELECT on schema_migrations. No UPDATE, DELETE or
TRUNCATE (a stored decision is never changed), no CREATE anywhere, no temporary tables, nothing
in any other schema.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

from psycopg import AsyncConnection, sql

TABLE_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "transactions": ("SELECT", "INSERT"),
    "schema_migrations": ("SELECT",),
}
# Never granted; their presence on the serving role means someone granted them by hand.
_FORBIDDEN_TABLE_PRIVILEGES = ("UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
# RDS and Aurora only: members log in with IAM authentication tokens (and only with those).
RDS_IAM_ROLE = "rds_iam"
SCRAM_ITERATIONS = 4096


class ProvisioningError(RuntimeError):
    """The application role cannot be set up as configured."""


@dataclass(frozen=True)
class ApplicationRole:
    name: str
    login: Literal["iam", "password"]
    # Only for password logins; sent to the server as a SCRAM verifier, never in clear.
    password: str | None = field(default=None, repr=False)


async def provision_application_role(conn: AsyncConnection[Any], role: ApplicationRole, database: str) -> None:
    """Create or update the role and reset its grants to exactly TABLE_PRIVILEGES.

    Runs inside the migration transaction, after the schema is current. Idempotent.
    """
    name = sql.Identifier(role.name)
    cursor = await conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role.name,))
    if await cursor.fetchone() is None:
        await conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(name))
    # Only what the owner may change: SUPERUSER, REPLICATION and BYPASSRLS need a superuser,
    # are off for a new role, and the server refuses to start if someone turned them on.
    await conn.execute(sql.SQL("ALTER ROLE {} LOGIN NOCREATEDB NOCREATEROLE").format(name))

    cursor = await conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (RDS_IAM_ROLE,))
    on_rds = await cursor.fetchone() is not None
    if role.login == "iam":
        if not on_rds:
            raise ProvisioningError(
                f"DB_AUTH=iam needs the {RDS_IAM_ROLE} role, which only RDS and Aurora have; use DB_AUTH=password here"
            )
        await conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(RDS_IAM_ROLE), name))
        await conn.execute(sql.SQL("ALTER ROLE {} PASSWORD NULL").format(name))
    else:
        if not role.password:
            raise ProvisioningError(f"DB_AUTH=password needs the password of {role.name}")
        if on_rds:
            # Members of rds_iam can only log in with tokens.
            await conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(RDS_IAM_ROLE), name))
        # A verifier, not the password: statement logging (log_statement=ddl) would record it.
        verifier = scram_sha_256_verifier(role.password)
        await conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(name, sql.Literal(verifier)))

    database_name = sql.Identifier(database)
    for statement in (
        # PUBLIC's defaults (CONNECT, TEMPORARY; CREATE on public before PostgreSQL 15) go.
        sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(database_name),
        sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"),
        sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(database_name, name),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database_name, name),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name),
        sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(name),
        sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {}").format(name),
    ):
        await conn.execute(statement)
    for table, privileges in TABLE_PRIVILEGES.items():
        await conn.execute(
            sql.SQL("GRANT {} ON TABLE {} TO {}").format(
                sql.SQL(", ").join(sql.SQL(privilege) for privilege in privileges), sql.Identifier(table), name
            )
        )


_SERVING_ROLE = """
    SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls, r.rolreplication,
           has_database_privilege(current_database(), 'CREATE'),
           has_database_privilege(current_database(), 'TEMPORARY'),
           has_schema_privilege('public', 'CREATE'),
           pg_has_role(current_user, c.relowner, 'MEMBER'),
           array(SELECT p FROM unnest(%(forbidden)s::text[]) AS p WHERE has_table_privilege(c.oid, p))
    FROM pg_roles r, pg_class c
    WHERE r.rolname = current_user AND c.oid = 'public.transactions'::regclass
"""


async def serving_role_problems(conn: AsyncConnection[Any]) -> list[str]:
    """What the logged-in role may do beyond TABLE_PRIVILEGES; empty when it is fit to serve."""
    cursor = await conn.execute(_SERVING_ROLE, {"forbidden": list(_FORBIDDEN_TABLE_PRIVILEGES)})
    row = await cursor.fetchone()
    assert row is not None, "the schema check runs first, so the transactions table exists"
    (superuser, create_role, create_db, bypass_rls, replication, create_in_database, temporary,
     create_in_public, owns_tables, table_privileges) = row
    flags = {
        "is a superuser": superuser,
        "may create roles": create_role,
        "may create databases": create_db,
        "bypasses row-level security": bypass_rls,
        "may replicate": replication,
        "may create schemas in the database": create_in_database,
        "may create temporary tables": temporary,
        "may create objects in schema public": create_in_public,
        "owns the tables (or is a member of their owner)": owns_tables,
    }
    problems = [f"the role {text}" for text, present in flags.items() if present]
    if table_privileges:
        problems.append(f"the role has {', '.join(table_privileges)} on transactions")
    return problems


def scram_sha_256_verifier(password: str, *, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS) -> str:
    """PostgreSQL's stored form of a SCRAM-SHA-256 password (RFC 5802/7677), computed client-side.

    ALTER ROLE ... PASSWORD accepts it as is, so the password itself never reaches the server's
    statement log. (SASLprep is the identity for the ASCII passwords used here.)
    """
    salt = salt if salt is not None else secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"
