"""Open-loop load benchmark of fraud-api: real server process, real PostgreSQL, loopback only.

    .venv/bin/python benchmarks/bench_fraud_api.py                     # the per-task knee, 3 runs
    .venv/bin/python benchmarks/bench_fraud_api.py --runs 1 --start 300 --step 50
    .venv/bin/python benchmarks/bench_fraud_api.py --rates 50,100,200  # fixed rates only

Starts a throwaway PostgreSQL (seeded with 100k transactions of 10k users, so history reads
hit a realistically sized index) and `python -m fraud_api`, then offers POST /api/v1/score at
fixed rates. Open loop: request i is due at start + i/rate whether or not earlier ones have
finished, and its latency is measured from when it was due, so a stalled server shows up as
latency instead of silently lowering the offered load (no coordinated omission).

Pinned, because a Fargate task of fraud-api has one vCPU (components/compute/fraud_api_service.py):
the server runs alone on one core, and this client and PostgreSQL share the other
(`os.sched_setaffinity`, inherited by the processes each side starts). Each step prints how busy
each core was and how much of it the server used, so load from other processes on the server's
core shows up next to the figure it distorts; the load average is printed before every run.

The knee search raises the offered rate by `--step` until p99 passes 20 ms (a failing rate is
offered once more, so one stall outside the service does not end the search), then narrows the
gap between the last rate held and the first one lost to `--resolution`. It prints that knee with
the rates around it, once per run, and the spread over the runs. Everything stops by itself: a
hard cap (`--cap`) kills the run, the server and the database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "services")]

import psycopg  # noqa: E402

from config.environments import build_environments  # noqa: E402
from tests.services.fraud_api.app_database import create_database  # noqa: E402
from tests.services.fraud_api.postgres_server import TemporaryPostgres, free_loopback_port  # noqa: E402

WARMUP_RATE, WARMUP_S = 100, 2.0
USERS = 10_000
SEED_ROWS = 100_000
P99_GOAL_MS = 20.0
# A step that answered less than this share of what it offered (or any error) is lost too.
MIN_ACHIEVED_SHARE = 0.98
# Between two steps: the queue of the last one drains before the next one starts.
SETTLE_S = 1.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _process_ticks(pid: int | str) -> int | None:
    """utime + stime of one process, in clock ticks; None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    after_name = stat.rsplit(")", 1)[1].split()
    return int(after_name[11]) + int(after_name[12])


def _children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        return [int(child) for task in tasks for child in (task / "children").read_text().split()]
    except OSError:
        return []


@dataclass
class CpuSample:
    """Busy and total ticks per core (/proc/stat), and the CPU time of the server, of this client
    and of every PostgreSQL process (the postmaster and its backends)."""

    cores: dict[int, tuple[int, int]]
    server: int
    client: int
    postgres: dict[int, int]

    @staticmethod
    def take(server_pid: int, postmaster: int | None) -> "CpuSample":
        cores = {}
        for line in Path("/proc/stat").read_text().splitlines():
            name, *fields = line.split()
            if name.startswith("cpu") and name != "cpu":
                values = [int(value) for value in fields[:8]]
                idle = values[3] + values[4]  # idle + iowait
                cores[int(name[3:])] = (sum(values) - idle, sum(values))
        postgres = {}
        for pid in ([postmaster, *_children(postmaster)] if postmaster else []):
            ticks = _process_ticks(pid)
            if ticks is not None:
                postgres[pid] = ticks
        return CpuSample(cores=cores, server=_process_ticks(server_pid) or 0, client=_process_ticks("self") or 0, postgres=postgres)


@dataclass(frozen=True)
class CoreUse:
    """Shares of one core over a step: how busy it was, and by whom."""

    busy: float
    ours: dict[str, float]

    @property
    def others(self) -> float:
        return max(0.0, self.busy - sum(self.ours.values()))

    def text(self) -> str:
        parts = ", ".join(f"{name} {share:4.0%}" for name, share in self.ours.items())
        return f"{self.busy:4.0%} busy ({parts}, others {self.others:4.0%})"


@dataclass
class RateResult:
    rate: int
    offered: int
    latencies_ms: list[float] = field(default_factory=list)
    send_lag_ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    server_core: CoreUse | None = None
    client_core: CoreUse | None = None

    @staticmethod
    def _percentile(values: list[float], p: float) -> float:
        ordered = sorted(values)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    def percentile(self, p: float) -> float:
        return self._percentile(self.latencies_ms, p)

    @property
    def achieved(self) -> float:
        return len(self.latencies_ms) / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def held(self) -> bool:
        """p99 within the goal, every request scored and stored (201: a 409 would be the cheaper
        idempotency path, a 4xx or 5xx a failure), and (nearly) everything offered was answered."""
        ok = self.statuses.get(201, 0)
        return (
            self.percentile(99) <= P99_GOAL_MS
            and self.errors == 0
            and ok == self.offered
            and self.achieved >= MIN_ACHIEVED_SHARE * self.rate
        )

    @property
    def server_cpu_ms_per_request(self) -> float:
        """fraud-api's own CPU time per answered request: what a core it had to itself would divide.
        Not the knee: it is higher at low rates (less work per turn of the event loop) and moves with
        whatever shares the physical core (docs/capacity.md)."""
        if not self.server_core or not self.latencies_ms:
            return float("nan")
        return self.server_core.ours["fraud-api"] * self.elapsed_s * 1000 / len(self.latencies_ms)

    def line(self) -> str:
        return (
            f"{self.rate:>5} req/s offered | {self.achieved:7.1f} achieved | "
            f"p50 {self.percentile(50):6.2f} | p90 {self.percentile(90):6.2f} | "
            f"p99 {self.percentile(99):7.2f} | max {max(self.latencies_ms, default=float('nan')):7.2f} ms | "
            f"errors {self.errors} | statuses {dict(sorted(self.statuses.items()))} | "
            f"send lag p99 {self._percentile(self.send_lag_ms, 99):5.2f} ms"
            + (
                f"\n        server's core {self.server_core.text()} | client's core {self.client_core.text()} | "
                f"fraud-api CPU {self.server_cpu_ms_per_request:.2f} ms/request"
                if self.server_core and self.client_core
                else ""
            )
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
        self.idle.clear()


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
    # Built before the clock starts: the client's core is shared with PostgreSQL, and its work
    # per request should be the sending, not the JSON.
    requests = [score_request(port, first_sequence + i) for i in range(total)]
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05

    async def one(i: int) -> None:
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        request = requests[i]
        # How late this client fired: if it grows, the client (not the server) is the limit.
        result.send_lag_ms.append((loop.time() - due) * 1000)
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


class LoadRun:
    """Steps of fixed-rate load against one server, each measured with the cores' use."""

    def __init__(self, port: int, server_pid: int, postmaster: int | None, cores: "Pinning", *, first_sequence: int) -> None:
        self.port, self.server_pid, self.postmaster, self.cores = port, server_pid, postmaster, cores
        self.client = Client(port)
        # Transaction ids never repeat within an invocation: a repeated one is answered 409 from the
        # idempotency path, a cheaper request than the insert every step should measure.
        self.sequence = first_sequence

    async def step(self, rate: int, seconds: float) -> RateResult:
        before = CpuSample.take(self.server_pid, self.postmaster)
        result = await offer_load(self.client, self.port, rate, seconds, first_sequence=self.sequence)
        after = CpuSample.take(self.server_pid, self.postmaster)
        self.sequence += 1_000_000
        self.cores.measure(result, before, after)
        print(result.line(), flush=True)
        await asyncio.sleep(SETTLE_S)
        return result

    async def warm_up(self) -> None:
        await offer_load(self.client, self.port, WARMUP_RATE, WARMUP_S, first_sequence=self.sequence)
        self.sequence += 1_000_000
        # Fresh connections for every run: none left over from the warm-up's concurrency.
        self.client.close()


@dataclass(frozen=True)
class Pinning:
    """The core the server has to itself, and the one this client and PostgreSQL share."""

    server_core: int | None
    client_core: int | None

    @staticmethod
    def choose(pin: bool) -> "Pinning":
        available = sorted(os.sched_getaffinity(0))
        if not pin or len(available) < 2:
            return Pinning(None, None)
        return Pinning(server_core=available[0], client_core=available[1])

    def pin_this_process(self) -> None:
        """Before PostgreSQL starts, so its processes inherit the client's core."""
        if self.client_core is not None:
            os.sched_setaffinity(0, {self.client_core})

    def server_preexec(self):
        if self.server_core is None:
            return None
        core = self.server_core
        return lambda: os.sched_setaffinity(0, {core})

    def measure(self, result: RateResult, before: CpuSample, after: CpuSample) -> None:
        if self.server_core is None or self.client_core is None:
            return
        seconds = result.elapsed_s or float("nan")

        def share(ticks: int) -> float:
            return ticks / CLOCK_TICKS / seconds

        def busy(core: int) -> float:
            used = after.cores[core][0] - before.cores[core][0]
            total = after.cores[core][1] - before.cores[core][1]
            return used / total if total else float("nan")

        postgres = sum(ticks - before.postgres.get(pid, 0) for pid, ticks in after.postgres.items())
        result.server_core = CoreUse(busy(self.server_core), {"fraud-api": share(after.server - before.server)})
        result.client_core = CoreUse(
            busy(self.client_core), {"client": share(after.client - before.client), "PostgreSQL": share(postgres)}
        )

    def describe(self, server_pid: int, postgres_pid: int | None) -> str:
        if self.server_core is None:
            return "not pinned: server, client and PostgreSQL share every core"
        postgres = sorted(os.sched_getaffinity(postgres_pid)) if postgres_pid else "?"
        return (
            f"pinned: fraud-api on core {sorted(os.sched_getaffinity(server_pid))}, "
            f"client on {sorted(os.sched_getaffinity(0))}, PostgreSQL on {postgres}"
        )


# A step in which other processes took more than this share of either core was disturbed: its
# figure says more about the machine than about fraud-api.
DISTURBED_SHARE = 0.10


@dataclass
class Knee:
    """The highest rate held before the first rate lost (twice), and the steps around it."""

    held: RateResult | None
    lost: RateResult | None
    steps: list[RateResult]

    @property
    def others(self) -> float:
        """The most the machine's other processes took of either core in the two steps that decide the knee."""
        uses = [core for step in (self.held, self.lost) if step for core in (step.server_core, step.client_core) if core]
        return max((use.others for use in uses), default=float("nan"))

    @property
    def disturbed(self) -> bool:
        return not self.others <= DISTURBED_SHARE

    @property
    def cpu_ms_per_request(self) -> float:
        """The median of fraud-api's CPU time per request over the search's steps."""
        costs = [step.server_cpu_ms_per_request for step in self.steps if step.server_cpu_ms_per_request == step.server_cpu_ms_per_request]
        return statistics.median(costs) if costs else float("nan")

    def line(self) -> str:
        cost = self.cpu_ms_per_request
        cpu = f"; fraud-api CPU {cost:.2f} ms/request: a core of its own saturates at ~{1000 / cost:.0f} req/s" if cost == cost else ""
        held = f"{self.held.rate} req/s (p99 {self.held.percentile(99):.2f} ms)" if self.held else "none"
        lost = f"{self.lost.rate} req/s (p99 {self.lost.percentile(99):.2f} ms)" if self.lost else "not reached"
        verdict = "DISTURBED, re-run when the machine is quiet" if self.disturbed else "undisturbed"
        return f"knee: {held} held, {lost} lost; other processes took up to {self.others:.0%} of a core there ({verdict}){cpu}"


async def find_knee(run: LoadRun, *, start: int, step: int, ceiling: int, resolution: int, seconds: float) -> Knee:
    steps: list[RateResult] = []

    async def holds(rate: int) -> tuple[bool, RateResult]:
        first = await run.step(rate, seconds)
        steps.append(first)
        if first.held:
            return True, first
        # Lost once: offered again, so a stall of the machine does not pass for the knee.
        second = await run.step(rate, seconds)
        steps.append(second)
        return second.held, second

    held: RateResult | None = None
    lost: RateResult | None = None
    rate = start
    while rate <= ceiling:
        ok, result = await holds(rate)
        if not ok:
            lost = result
            break
        held = result
        rate += step
    # Narrow the gap between the last rate held and the first one lost.
    while lost is not None and lost.rate - (held.rate if held else 0) > resolution:
        middle = ((held.rate if held else 0) + lost.rate) // 2
        ok, result = await holds(middle)
        if ok:
            held = result
        else:
            lost = result
    return Knee(held=held, lost=lost, steps=steps)


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


def postmaster_pid(postgres: TemporaryPostgres) -> int | None:
    try:
        return int((postgres.data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def load_line() -> str:
    one, five, fifteen = os.getloadavg()
    warning = "" if one < 1.0 else "  (above 1.0: other processes share the cores; re-run when quieter)"
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs{warning}"


def start_server(database, pinning: Pinning, pool_size: int, log) -> tuple[subprocess.Popen[bytes], int]:
    port = free_loopback_port()
    env = {
        **os.environ,
        **database.env(PORT=str(port), DB_POOL_MIN_SIZE=str(min(2, pool_size)), DB_POOL_MAX_SIZE=str(pool_size)),
        "PYTHONPATH": str(REPO_ROOT / "services"),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "fraud_api"], env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=pinning.server_preexec()
    )
    return server, port


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()


def main() -> int:
    prod_pool = build_environments()["prod"].compute.fraud_api_db_pool_max_size
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", help="comma-separated requests per second: offer these once instead of searching the knee")
    parser.add_argument("--runs", type=int, default=3, help="knee searches, each against a freshly started server")
    parser.add_argument("--start", type=int, default=200, help="first rate of the knee search")
    parser.add_argument("--step", type=int, default=100, help="rate added per step of the knee search")
    parser.add_argument("--ceiling", type=int, default=3000, help="highest rate the search offers")
    parser.add_argument("--resolution", type=int, default=25, help="the search narrows the knee to this many req/s")
    parser.add_argument("--seconds", type=float, default=6.0, help="duration of each step")
    parser.add_argument("--pool", type=int, default=prod_pool, help=f"connections per server (prod's setting: {prod_pool})")
    parser.add_argument("--no-pin", action="store_true", help="leave the processes on every core (the old, unfair setup)")
    parser.add_argument("--cap", type=int, default=900, help="hard cap on the whole benchmark, seconds")
    args = parser.parse_args()
    if min(args.runs, args.start, args.step, args.resolution, args.pool) < 1 or args.seconds <= 0:
        parser.error("--runs, --start, --step, --resolution, --pool and --seconds must be positive")

    # The hard cap: SIGALRM raises in the main thread, and the finally blocks clean up.
    def out_of_time(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"benchmark exceeded its {args.cap} s cap")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(args.cap)

    pinning = Pinning.choose(pin=not args.no_pin)
    pinning.pin_this_process()
    server_log = tempfile.NamedTemporaryFile(prefix="fraud-api-bench-", suffix=".log", delete=False)
    knees: list[Knee] = []
    fixed: list[RateResult] = []
    with TemporaryPostgres() as postgres:
        database = create_database(postgres)
        seed(database.owner_dsn())  # seeding and VACUUM are the owner's; the server serves as the application role
        print(f"{SEED_ROWS} seeded transactions; pool {args.pool} connections; p99 goal {P99_GOAL_MS:g} ms", flush=True)
        for number in range(1 if args.rates else args.runs):
            server, port = start_server(database, pinning, args.pool, server_log)
            try:
                wait_healthy(port, server)
                print(f"-- run {number + 1}: {load_line()}", flush=True)
                print(f"   {pinning.describe(server.pid, postmaster_pid(postgres))}", flush=True)
                run = LoadRun(port, server.pid, postmaster_pid(postgres), pinning, first_sequence=(number + 1) * 1_000_000_000)

                async def measure() -> None:
                    await run.warm_up()
                    if args.rates:
                        for rate in (int(rate) for rate in args.rates.split(",")):
                            fixed.append(await run.step(rate, args.seconds))
                    else:
                        knee = await find_knee(
                            run, start=args.start, step=args.step, ceiling=args.ceiling, resolution=args.resolution, seconds=args.seconds
                        )
                        knees.append(knee)
                        print(f"   run {number + 1} {knee.line()}", flush=True)
                    run.client.close()

                asyncio.run(measure())
                print(f"   after run {number + 1}: {load_line()}", flush=True)
            finally:
                stop_server(server)
    signal.alarm(0)
    print(f"server log: {server_log.name}")
    if args.rates:
        top = fixed[-1]
        verdict = "met" if top.held else "MISSED"
        print(f"goal p99 <= {P99_GOAL_MS:g} ms at {top.rate} req/s: {verdict}")
        return 0 if top.held else 1
    for number, knee in enumerate(knees, 1):
        print(f"run {number}: {knee.line()}")
    costs = [knee.cpu_ms_per_request for knee in knees if knee.cpu_ms_per_request == knee.cpu_ms_per_request]
    if costs:
        print(
            f"fraud-api CPU per request over {len(costs)} runs (disturbed ones too): min {min(costs):.2f}, median "
            f"{statistics.median(costs):.2f}, max {max(costs):.2f} ms; a core of its own saturates at "
            f"~{1000 / max(costs):.0f}-{1000 / min(costs):.0f} req/s"
        )
    held = [knee.held.rate for knee in knees if knee.held and not knee.disturbed]
    if not held:
        print("no undisturbed run held p99 within the goal")
        return 1
    print(
        f"per-task knee (p99 <= {P99_GOAL_MS:g} ms, one core): min {min(held)}, median {statistics.median(held):g}, "
        f"max {max(held)} req/s over {len(held)} undisturbed runs of {len(knees)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
