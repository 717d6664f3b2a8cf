"""The migration step and the application role, against the real PostgreSQL.

The step (`python -m fraud_api.migrate`) runs as the owner; the service serves as the role the
step provisions, which can run the service's queries and nothing else: no DDL, no other schema.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from typing import Any

import psycopg
import pytest

from fraud_api import app as app_module
from fraud_api.app import UnfitDatabase, create_app
from fraud_api.credentials import IamTokenLogin
from fraud_api.database import create_pool
from fraud_api.migrations import MIGRATIONS, Migration, apply_migrations
from fraud_api.privileges import (
    TABLE_PRIVILEGES,
    ApplicationRole,
    ProvisioningError,
    provision_application_role,
    scram_sha_256_verifier,
)
from fraud_api.tracing import NullTracer
from scripts.paths import REPO_ROOT
from tests.services.fraud_api.app_database import AppDatabase
from tests.services.fraud_api.inprocess import serve_in_process
from tests.services.payloads import transaction
from tests.services.fraud_api.server_process import process_env


async def _migrate_concurrently(database: AppDatabase, runs: int, migrations: tuple[Migration, ...]) -> list[list[int]]:
    connections = [await psycopg.AsyncConnection.connect(database.owner_dsn(), autocommit=True) for _ in range(runs)]
    try:
        return list(await asyncio.gather(*(apply_migrations(conn, migrations) for conn in connections)))
    finally:
        for conn in connections:
            await conn.close()


def _ledger(database: AppDatabase) -> list[tuple[int, str]]:
    with database.admin() as conn:
        return conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()


def _role_exists(database: AppDatabase) -> bool:
    with database.admin() as conn:
        return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (database.user,)).fetchone() is not None


def _table_grants(database: AppDatabase) -> dict[str, set[str]]:
    with database.admin() as conn:
        rows = conn.execute(
            "SELECT table_name, privilege_type FROM information_schema.role_table_grants WHERE grantee = %s",
            (database.user,),
        ).fetchall()
    grants: dict[str, set[str]] = {}
    for table, privilege in rows:
        grants.setdefault(table, set()).add(privilege)
    return grants


def test_concurrent_runs_apply_each_migration_once(empty_database: AppDatabase) -> None:
    results = asyncio.run(_migrate_concurrently(empty_database, 6, MIGRATIONS))

    assert sorted(results) == [[]] * 5 + [[1]]
    assert _ledger(empty_database) == [(1, "create_transactions")]
    assert empty_database.count_transactions() == 0


def test_a_later_migration_is_applied_once_on_top(empty_database: AppDatabase) -> None:
    asyncio.run(_migrate_concurrently(empty_database, 1, MIGRATIONS))
    next_version = (*MIGRATIONS, Migration(2, "add_channel", "ALTER TABLE transactions ADD COLUMN channel text"))

    results = asyncio.run(_migrate_concurrently(empty_database, 4, next_version))

    assert sorted(results) == [[]] * 3 + [[2]]
    assert [version for version, _ in _ledger(empty_database)] == [1, 2]


def test_a_failing_step_leaves_nothing_half_applied(empty_database: AppDatabase) -> None:
    role = ApplicationRole(name=empty_database.user, login="password", password=empty_database.password)

    async def broken_role_set_up(conn: psycopg.AsyncConnection[Any]) -> None:
        await provision_application_role(conn, role, empty_database.name)
        raise RuntimeError("the step dies after everything else succeeded")

    async def run() -> None:
        async with await psycopg.AsyncConnection.connect(empty_database.owner_dsn(), autocommit=True) as conn:
            await apply_migrations(conn, MIGRATIONS, then=broken_role_set_up)

    with pytest.raises(RuntimeError, match="dies"):
        asyncio.run(run())

    with empty_database.admin() as conn:
        assert conn.execute("SELECT to_regclass('transactions'), to_regclass('schema_migrations')").fetchone() == (None, None)
    assert not _role_exists(empty_database)


def test_the_step_provisions_a_role_with_only_what_the_service_needs(empty_database: AppDatabase) -> None:
    outcome = empty_database.migrate()

    assert (outcome.applied, outcome.role) == ([1], empty_database.user)
    assert _table_grants(empty_database) == {table: set(privileges) for table, privileges in TABLE_PRIVILEGES.items()}
    with empty_database.admin() as conn:
        attributes = conn.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication, rolcanlogin FROM pg_roles"
            " WHERE rolname = %s",
            (empty_database.user,),
        ).fetchone()
    assert attributes == (False, False, False, False, False, True)


def test_a_second_run_changes_the_password_and_takes_back_hand_made_grants(fresh_database: AppDatabase) -> None:
    with fresh_database.admin() as conn:
        conn.execute(f'GRANT UPDATE, DELETE ON transactions TO "{fresh_database.user}"')
    new_credentials = json.dumps({"username": fresh_database.user, "password": "the-rotated-password"})

    outcome = fresh_database.migrate(DB_CREDENTIALS=new_credentials)

    assert outcome.applied == []
    assert _table_grants(fresh_database) == {table: set(privileges) for table, privileges in TABLE_PRIVILEGES.items()}
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(fresh_database.app_dsn()).close()
    psycopg.connect(fresh_database.server.tcp_dsn(fresh_database.user, "the-rotated-password", fresh_database.name)).close()


# Each runs as the application role; every one must be refused by PostgreSQL itself.
REFUSED_STATEMENTS = {
    "create a table": "CREATE TABLE public.stash (x int)",
    "create a temporary table": "CREATE TEMPORARY TABLE stash (x int)",
    "create a schema": "CREATE SCHEMA stash",
    "create a role": "CREATE ROLE intruder LOGIN",
    "add a column": "ALTER TABLE transactions ADD COLUMN note text",
    "add an index": "CREATE INDEX ON transactions (country)",
    "drop the table": "DROP TABLE transactions",
    "rewrite a decision": "UPDATE transactions SET decision = 'approve'",
    "delete transactions": "DELETE FROM transactions",
    "truncate": "TRUNCATE transactions",
    "forge the schema version": "INSERT INTO schema_migrations (version, name) VALUES (99, 'forged')",
    "read another schema": "SELECT * FROM audit.card_numbers",
    "read another table": "SELECT * FROM public.operator_notes",
}


def test_the_application_role_runs_the_service_queries_and_nothing_else(fresh_database: AppDatabase) -> None:
    with psycopg.connect(fresh_database.owner_dsn(), autocommit=True) as owner:
        owner.execute("CREATE SCHEMA audit")
        owner.execute("CREATE TABLE audit.card_numbers (pan text)")
        owner.execute("CREATE TABLE public.operator_notes (note text)")

    refused = {}
    with psycopg.connect(fresh_database.app_dsn(), autocommit=True) as app:
        for case, statement in REFUSED_STATEMENTS.items():
            try:
                app.execute(statement)
            except psycopg.errors.InsufficientPrivilege:
                refused[case] = True
            else:
                refused[case] = False
        # What the service does, by hand: insert, read back.
        app.execute(
            "INSERT INTO transactions (transaction_id, user_id, amount, currency, merchant_id, country, ts, score,"
            " decision, reasons) VALUES ('t-role', 'u', 1, 'EUR', 'm', 'DE', now(), 0.1, 'approve', '[]')"
        )
        row = app.execute("SELECT decision FROM transactions WHERE transaction_id = 't-role'").fetchone()

    assert refused == dict.fromkeys(REFUSED_STATEMENTS, True)
    assert row == ("approve",)


def test_the_service_works_as_the_application_role(fresh_database: AppDatabase) -> None:
    with serve_in_process(create_app(fresh_database.settings(), tracer=NullTracer())) as client:
        payload = transaction()
        assert client.post("/api/v1/score", json=payload).status_code == 201
        assert client.get(f"/api/v1/transactions/{payload['transaction_id']}").status_code == 200
        assert client.get("/health").status_code == 200


def _start(database: AppDatabase, **overrides: str) -> list[str]:
    with pytest.raises(UnfitDatabase) as refused:
        with serve_in_process(create_app(database.settings(**overrides), tracer=NullTracer())):
            pass
    return refused.value.problems


def test_the_server_refuses_to_serve_as_the_owner(fresh_database: AppDatabase) -> None:
    owner = json.dumps({"username": fresh_database.owner, "password": fresh_database.owner_password})

    problems = _start(fresh_database, DB_USER=fresh_database.owner, DB_CREDENTIALS=owner)

    assert "the role may create roles" in problems
    assert "the role owns the tables (or is a member of their owner)" in problems
    assert any("python -m fraud_api.migrate" in problem for problem in problems)


def test_the_server_refuses_hand_made_write_grants(fresh_database: AppDatabase) -> None:
    with fresh_database.admin() as conn:
        conn.execute(f'GRANT UPDATE, DELETE ON transactions TO "{fresh_database.user}"')

    assert "the role has UPDATE, DELETE on transactions" in _start(fresh_database)


def test_the_server_refuses_a_schema_older_than_the_build(
    fresh_database: AppDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "REQUIRED_VERSION", MIGRATIONS[-1].version + 1)

    (problem,) = _start(fresh_database)

    assert problem.startswith(f"the schema is at version {MIGRATIONS[-1].version}, this build needs")


def test_the_server_never_migrates_an_empty_database(empty_database: AppDatabase) -> None:
    # Without the step there is no application role: the owner alone cannot make it serve.
    owner = json.dumps({"username": empty_database.owner, "password": empty_database.owner_password})

    (problem,) = _start(empty_database, DB_USER=empty_database.owner, DB_CREDENTIALS=owner)

    assert "the schema is at version None" in problem
    with empty_database.admin() as conn:
        assert conn.execute("SELECT to_regclass('transactions')").fetchone() == (None,)


def test_iam_logins_need_rds_and_say_so(empty_database: AppDatabase) -> None:
    async def provision() -> None:
        async with await psycopg.AsyncConnection.connect(empty_database.owner_dsn(), autocommit=True) as conn:
            async with conn.transaction():
                await provision_application_role(conn, ApplicationRole(empty_database.user, "iam"), empty_database.name)

    with pytest.raises(ProvisioningError, match="rds_iam"):
        asyncio.run(provision())
    assert not _role_exists(empty_database)


def test_no_password_of_the_application_role_reaches_the_server_log(fresh_database: AppDatabase) -> None:
    fresh_database.migrate(DB_CREDENTIALS=json.dumps({"username": fresh_database.user, "password": "logged-never"}))

    log = fresh_database.server.log_text()
    assert "ALTER ROLE" in log, "the server logs DDL statements (log_statement=ddl)"
    assert "logged-never" not in log and fresh_database.password not in log


def test_the_scram_verifier_is_what_postgresql_computes(empty_database: AppDatabase) -> None:
    with empty_database.admin() as conn:
        conn.execute("CREATE ROLE scram_probe PASSWORD 'pencil'")  # hashed by the server
        (stored,) = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'scram_probe'").fetchone()
        conn.execute("DROP ROLE scram_probe")
    iterations, salt = stored.removeprefix("SCRAM-SHA-256$").split("$")[0].split(":")

    assert scram_sha_256_verifier("pencil", salt=base64.b64decode(salt), iterations=int(iterations)) == stored


class _TokenSigner:
    """Stands in for the RDS client: hands out the role's password as the 'token', and counts."""

    def __init__(self, password: str) -> None:
        self.password = password
        self.calls: list[dict[str, Any]] = []

    def generate_db_auth_token(self, **kwargs: Any) -> str:
        self.calls.append(kwargs)
        return self.password


def test_an_iam_login_signs_a_token_per_connection(fresh_database: AppDatabase) -> None:
    signer = _TokenSigner(fresh_database.password)
    settings = fresh_database.settings(DB_POOL_MIN_SIZE="3", DB_POOL_MAX_SIZE="3")
    login = IamTokenLogin(host="127.0.0.1", port=fresh_database.server.port, user=fresh_database.user,
                          region="eu-west-1", rds_client=signer)

    async def open_pool() -> None:
        pool = create_pool(settings.database, login)
        await pool.open(wait=True, timeout=10)
        async with pool.connection() as conn:
            assert await (await conn.execute("SELECT current_user")).fetchone() == (fresh_database.user,)
        await pool.close()

    asyncio.run(open_pool())

    assert len(signer.calls) == 3
    assert signer.calls[0] == {
        "DBHostname": "127.0.0.1", "Port": fresh_database.server.port, "DBUsername": fresh_database.user,
        "Region": "eu-west-1",
    }


def test_a_real_token_is_a_presigned_connect_request_for_the_user() -> None:
    import boto3

    client = boto3.session.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret").client(
        "rds", region_name="eu-west-1"
    )
    login = IamTokenLogin(host="db.cluster.example", port=5432, user="fraud_api_app", region="eu-west-1", rds_client=client)

    credentials = asyncio.run(login.credentials())

    assert credentials.username == "fraud_api_app"
    assert credentials.password.startswith("db.cluster.example:5432/?Action=connect&DBUser=fraud_api_app&")
    assert "X-Amz-Expires=900" in credentials.password and "X-Amz-Signature=" in credentials.password


def _run_migrate(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fraud_api.migrate"],
        env=process_env(env),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _last_log_entry(completed: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_the_entry_point_migrates_and_reports(empty_database: AppDatabase) -> None:
    done = _run_migrate(empty_database.migration_env())
    wrong_owner = _run_migrate(
        empty_database.migration_env(DB_OWNER_CREDENTIALS=json.dumps({"username": empty_database.owner, "password": "x"}))
    )
    misconfigured = _run_migrate(empty_database.migration_env(DB_AUTH="kerberos", DB_OWNER_CREDENTIALS=""))

    assert done.returncode == 0, done.stdout + done.stderr
    assert _last_log_entry(done)["migrations_applied"] == [1]
    assert _last_log_entry(done)["role"] == empty_database.user
    assert wrong_owner.returncode == 3
    assert _last_log_entry(wrong_owner)["error"] == "OperationalError"
    assert misconfigured.returncode == 2
    problems = _last_log_entry(misconfigured)["problems"]
    assert any(problem.startswith("DB_AUTH must be one of iam, password") for problem in problems)
    assert any("DB_OWNER_CREDENTIALS or DB_OWNER_SECRET_ARN is required" in problem for problem in problems)
    for completed in (done, wrong_owner, misconfigured):
        assert empty_database.password not in completed.stdout + completed.stderr
