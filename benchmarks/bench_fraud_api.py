"""Open-loop load benchmark of fraud-api: real server process, real PostgreSQL, loopback only.

    .venv/bin/python benchmarks/bench_fraud_api.py [--rates 50,100,200] [--seconds 10]

Starts a throwaway PostgreSQL (seeded with 100k transactions of 10k users, so history reads
hit a realistically sized index) and `python -m fraud_api`, then offers POST /api/v1/score at
each fixed rate. Open loop: request i is due at start + i/rate whether or not earlier ones
have finished, and its latency is measured from when it was due, so a stalled server shows up
as latency instead of silently lowering the offered load (no coordinated omission).

The client is raw asyncio streams over keep-alive connections (pre-built requests, minimal
response parsing), because on a 2-core machine a heavy client would steal the server's CPU.
Everything stops by itself: a hard cap of 90 s kills the run, the server and the database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "services")]

import psycopg  # noqa: E402

from tests.services.fraud_api.app_database import create_database  # noqa: E402
from tests.services.fraud_api.postgres_server import TemporaryPostgres, free_loopback_port  # noqa: E402

HARD_CAP_S = 90
WARMUP_RATE, WARMUP_S = 100, 2.0
USERS = 10_000
SEED_ROWS = 100_000
P99_GOAL_MS = 20.0


@dataclass
class RateResult:
    rate: int
    offered: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed_s: float = 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    def line(self) -> str:
        achieved = len(self.latencies_ms) / self.elapsed_s if self.elapsed_s else 0.0
        return (
            f"{self.rate:>5} req/s offered | {achieved:7.1f} req/s achieved | "
            f"p50 {self.percentile(50):6.2f} ms | p90 {self.percentile(90):6.2f} ms | "
            f"p99 {self.percentile(99):6.2f} ms | max {max(self.latencies_ms, default=float('nan')):7.2f} ms | "
            f"errors {self.errors} | statuses {dict(sorted(self.statuses.items()))}"
        )


class Connection:
    """One keep-alive HTTP/1.1 connection; requests on it are sequential."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return status


class Client:
    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[Connection] = []

    async def send(self, request: bytes) -> int:
        conn = self.idle.pop() if self.idle else Connection(*await asyncio.open_connection("127.0.0.1", self.port))
        status = await conn.exchange(request)
        self.idle.append(conn)
        return status

    def close(self) -> None:
        for conn in self.idle:
            conn.writer.close()


def score_request(port: int, sequence: int) -> bytes:
    body = json.dumps(
        {
            "transaction_id": f"bench-{os.getpid()}-{sequence}",
            "user_id": f"user-{random.randrange(USERS)}",
            "amount": round(random.uniform(1, 2_000), 2),
            "currency": "EUR",
            "merchant_id": f"merchant-{random.randrange(500)}",
            "country": random.choice(("DE", "FR", "NL", "US")),
            "merchant_category": random.choice(("5411", "5812", "5999", "4829")),
            "timestamp": time.time_ns() // 1_000_000,
        },
        separators=(",", ":"),
    ).encode()
    return (
        f"POST /api/v1/score HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def offer_load(client: Client, port: int, rate: int, seconds: float, first_sequence: int) -> RateResult:
    total = int(rate * seconds)
    result = RateResult(rate=rate, offered=total)
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05

    async def one(i: int) -> None:
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        request = score_request(port, first_sequence + i)
        try:
            status = await client.send(request)
        except (OSError, asyncio.IncompleteReadError):
            result.errors += 1
            return
        result.latencies_ms.append((loop.time() - due) * 1000)
        result.statuses[status] = result.statuses.get(status, 0) + 1

    await asyncio.gather(*(one(i) for i in range(total)))
    result.elapsed_s = loop.time() - start
    return result


def seed(database_dsn: str) -> None:
    with psycopg.connect(database_dsn, autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO transactions (transaction_id, user_id, amount, currency, merchant_id, merchant_category,
                                      country, ts, score, decision, reasons)
            SELECT 'seed-' || g, 'user-' || (g %% %(users)s), (random() * 500 + 1)::numeric(10, 2), 'EUR',
                   'merchant-' || (g %% 500), '5411', 'DE', now() - random() * interval '30 days',
                   0.1, 'approve', '[]'::jsonb
            FROM generate_series(1, %(rows)s) AS g
            """,
            {"users": USERS, "rows": SEED_ROWS},
        )
        conn.execute("VACUUM ANALYZE transactions")


def wait_healthy(port: int, process: subprocess.Popen[bytes], timeout_s: float = 20) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"fraud-api exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("fraud-api did not become healthy")


async def run_rates(port: int, rates: list[int], seconds: float) -> list[RateResult]:
    client = Client(port)
    try:
        await offer_load(client, port, WARMUP_RATE, WARMUP_S, first_sequence=0)
        results = []
        sequence = 1_000_000
        for rate in rates:
            results.append(await offer_load(client, port, rate, seconds, first_sequence=sequence))
            sequence += 1_000_000
            print(results[-1].line(), flush=True)
        return results
    finally:
        client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="50,100,200", help="comma-separated requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each rate")
    args = parser.parse_args()
    rates = [int(rate) for rate in args.rates.split(",")]
    if WARMUP_S + len(rates) * (args.seconds + 1) + 15 > HARD_CAP_S:
        parser.error(f"rates x seconds would exceed the {HARD_CAP_S} s cap")

    # The hard cap: SIGALRM raises in the main thread, and the finally blocks clean up.
    def out_of_time(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"benchmark exceeded its {HARD_CAP_S} s cap")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(HARD_CAP_S)

    server_log = tempfile.NamedTemporaryFile(prefix="fraud-api-bench-", suffix=".log", delete=False)
    with TemporaryPostgres() as postgres:
        database = create_database(postgres)
        port = free_loopback_port()
        env = {
            **os.environ,
            **database.env(PORT=str(port), DB_POOL_MIN_SIZE="4", DB_POOL_MAX_SIZE="10"),
            "PYTHONPATH": str(REPO_ROOT / "services"),
        }
        server = subprocess.Popen([sys.executable, "-m", "fraud_api"], env=env, stdout=server_log, stderr=subprocess.STDOUT)
        try:
            wait_healthy(port, server)
            seed(database.owner_dsn())  # seeding and VACUUM are the owner's; the server serves as the application role
            print(f"fraud-api on 127.0.0.1:{port}, {SEED_ROWS} seeded transactions, {os.cpu_count()} CPUs", flush=True)
            results = asyncio.run(run_rates(port, rates, args.seconds))
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
    signal.alarm(0)
    print(f"server log: {server_log.name}")
    top = results[-1]
    verdict = "met" if top.percentile(99) < P99_GOAL_MS and top.errors == 0 else "MISSED"
    print(f"goal p99 < {P99_GOAL_MS:g} ms at {top.rate} req/s: {verdict}")
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    sys.exit(main())
