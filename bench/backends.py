#!/usr/bin/env python3
"""payoutd on each store, and the naive design, on one machine in one run (bench/README.md).

  python3 bench/backends.py        (from the repo root, after make build)

Scenarios, each on fresh data, loaded with wrk (64 keep-alive connections, 2 threads, every
request a new 1.00 RUB payout from the one bonus funder: the hot-account case):
  sqlite     one payoutd node on the embedded store
  pg-1       one payoutd node on PostgreSQL
  pg-2       two payoutd nodes on one PostgreSQL database, 32 connections each
  naive      no payoutd: pgbench with 64 clients, one PostgreSQL transaction per payout that
             updates the hot funder row (UPDATE funder, UPDATE wallet, INSERT transfer)
All PostgreSQL scenarios use one throwaway cluster (scripts/pg-cluster.sh) with the same
settings: fsync and synchronous_commit on. Every payoutd figure is checked against the ledger
(the funder's debit), and every non-2xx answer fails the run.

Knobs: BENCH_DURATION_S (10), BENCH_WARMUP_S (2), BENCH_ROUNDS (3: the scenarios alternate and
each figure is the median of its rounds), PAYOUTD (build/payoutd), BENCH_CONFIG.

Exits non-zero, after printing the figures, when pg-1/naive or pg-2/naive is below the floor
(RATIO_FLOOR, 10x: part of the benchmark's definition, not a knob). Every payoutd scenario runs
on a database created for it, so a plan PostgreSQL made while the tables were empty is what it
measures, as a node sees after a deploy on a new database.
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchtool import BenchError, PayoutdProcess, balance_minor, parse_wrk, settled, run_script  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAYOUTD = os.path.join(ROOT, os.environ.get("PAYOUTD", "build/payoutd"))
CONFIG = os.path.join(ROOT, os.environ.get("BENCH_CONFIG", "config/sandbox.toml"))
PG_CLUSTER = os.path.join(ROOT, "scripts", "pg-cluster.sh")
LUA = os.path.join(ROOT, "bench", "payout.lua")
DURATION_S = int(os.environ.get("BENCH_DURATION_S", "10"))
WARMUP_S = int(os.environ.get("BENCH_WARMUP_S", "2"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))

CONNECTIONS = 64
THREADS = 2
# payoutd on PostgreSQL, one node and two, against the naive design: the least ratio accepted.
RATIO_FLOOR = 10.0
NAIVE_WALLETS = 1000
ADMIN = "Bearer sandbox-admin-token"
FUNDER_URL = "/admin/v1/qiwi/products/best-partner/funders/bonus-funder"

NAIVE_SCHEMA = f"""
CREATE TABLE funder (id bigint PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0));
CREATE TABLE wallet (id bigint PRIMARY KEY, balance bigint NOT NULL);
CREATE TABLE transfer (id bigserial PRIMARY KEY, debit bigint NOT NULL, credit bigint NOT NULL,
                       amount bigint NOT NULL, created timestamptz NOT NULL DEFAULT now());
INSERT INTO funder VALUES (1, 100000000000000);
INSERT INTO wallet SELECT g, 0 FROM generate_series(1, {NAIVE_WALLETS}) g;
"""
NAIVE_SCRIPT = f"""\\set w random(1, {NAIVE_WALLETS})
BEGIN;
UPDATE funder SET balance = balance - 100 WHERE id = 1;
UPDATE wallet SET balance = balance + 100 WHERE id = :w;
INSERT INTO transfer (debit, credit, amount) VALUES (1, :w, 100);
END;
"""


def note(text):
    sys.stderr.write(f"bench: {text}\n")


def pg_bin(name):
    dirs = sorted(d for d in os.listdir("/usr/lib/postgresql") if d.isdigit())
    if not dirs:
        raise BenchError("PostgreSQL is not installed (make setup installs it)")
    return f"/usr/lib/postgresql/{dirs[-1]}/bin/{name}"


class Cluster:
    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "pg")
        subprocess.run(["bash", PG_CLUSTER, "start", self.dir], check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(self.dir, "url")) as f:
            self.admin_url = f.read().strip()
        self.count = 0

    def new_database(self):
        self.count += 1
        name = f"bench_{self.count}"
        self.psql(f"CREATE DATABASE {name}")
        return self.admin_url.rsplit("/", 1)[0] + "/" + name

    def psql(self, sql, url=None):
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url or self.admin_url, "-c", sql],
                       check=True, stdout=subprocess.DEVNULL)

    def close(self):
        subprocess.run(["bash", PG_CLUSTER, "stop", self.dir], stdout=subprocess.DEVNULL)


class Node(PayoutdProcess):
    def __init__(self, tmp, name, postgres_url=None):
        self.data = os.path.join(tmp, f"data-{name}")
        os.makedirs(self.data, exist_ok=True)
        cmd = [PAYOUTD, "serve", "--config", CONFIG, "--listen", "127.0.0.1:0", "--data-dir", self.data]
        if postgres_url:
            cmd += ["--postgres-url", postgres_url]
        super().__init__(cmd, os.path.join(tmp, f"payoutd-{name}.log"), name)

    def balance(self):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{FUNDER_URL}",
                                     headers={"Authorization": ADMIN})
        with urllib.request.urlopen(req, timeout=10) as r:
            return balance_minor(r.read().decode())

    def settled_balance(self):
        return settled(self.balance, "the funder's balance", polls=80)


def wrk(ports, seconds, phase, nonce):
    """wrk against every port at once, the connections and threads split between them."""
    procs = []
    for i, port in enumerate(ports):
        procs.append(subprocess.Popen(
            ["wrk", f"-t{THREADS // len(ports)}", f"-c{CONNECTIONS // len(ports)}", f"-d{seconds}s",
             "--timeout", "10s", "--latency", "-s", LUA, f"http://127.0.0.1:{port}", "--",
             nonce, f"{phase}{i}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    results = []
    for p in procs:
        out = p.communicate()[0].decode(errors="replace")
        if p.returncode != 0:
            raise BenchError(f"wrk failed:\n{out}")
        results.append(parse_wrk(out))
    return results


def run_payoutd(tmp, name, urls, nonce):
    """One scenario: nodes on `urls` (None: SQLite); returns (payouts/s, p50 ms, p99 ms)."""
    nodes = [Node(tmp, f"{name}-{i}", url) for i, url in enumerate(urls)]
    try:
        ports = [n.port for n in nodes]
        if WARMUP_S:
            wrk(ports, WARMUP_S, "w", nonce)
        before = nodes[0].settled_balance()
        runs = wrk(ports, DURATION_S, "m", nonce)
        after = nodes[-1].settled_balance()
    finally:
        for n in nodes:
            n.stop(30)
    requests = sum(r["requests"] for r in runs)
    bad = sum(r["non2xx"] + r["err_connect"] + r["err_read"] + r["err_write"] for r in runs)
    recorded = (before - after) // 100
    if bad:
        raise BenchError(f"{name}: {bad} failed requests")
    if recorded < requests:
        raise BenchError(f"{name}: the ledger recorded {recorded} payouts, wrk counted {requests}")
    rate = sum(r["rps"] for r in runs)
    return rate, max(r["p50_ms"] for r in runs), max(r["p99_ms"] for r in runs)


def run_naive(cluster, tmp):
    url = cluster.new_database()
    cluster.psql(NAIVE_SCHEMA, url)
    script = os.path.join(tmp, "naive.sql")
    with open(script, "w") as f:
        f.write(NAIVE_SCRIPT)
    p = subprocess.run([pg_bin("pgbench"), "-n", "-c", str(CONNECTIONS), "-j", str(THREADS), "-T",
                        str(DURATION_S), "-f", script, url],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.decode(errors="replace")
    m = re.search(r"tps = ([\d.]+)", out)
    failed = re.search(r"number of failed transactions: (\d+)", out)
    if p.returncode != 0 or not m or (failed and int(failed.group(1))):
        raise BenchError(f"pgbench failed:\n{out}")
    return float(m.group(1))


def main():
    for tool in ("wrk", "psql"):
        if not shutil.which(tool):
            raise BenchError(f"{tool} not found (make setup installs it)")
    if not os.access(PAYOUTD, os.X_OK):
        raise BenchError(f"{PAYOUTD} not found: make build first")
    tmp = tempfile.mkdtemp(prefix="payoutd-bench-backends-")
    os.chmod(tmp, 0o755)  # the cluster's directory inside it belongs to the postgres user
    nonce = f"k{time.strftime('%y%m%d%H%M%S')}-{os.getpid()}"
    figures = {k: [] for k in ("sqlite", "pg-1", "pg-2", "naive")}
    latency = {}
    cluster = Cluster(tmp)
    try:
        for r in range(ROUNDS):
            note(f"round {r + 1} of {ROUNDS}")
            for name, urls in (("sqlite", [None]), ("pg-1", [cluster.new_database()]),
                               ("pg-2", [cluster.new_database()] * 2)):
                rate, p50, p99 = run_payoutd(tmp, f"{name}-r{r}", urls, f"{nonce}{name[-1]}{r}")
                figures[name].append(rate)
                latency.setdefault(name, []).append((p50, p99))
                print(f"  round {r + 1}: {name:6} {rate:9.1f} payouts/s  p50 {p50:.2f} ms  p99 {p99:.2f} ms",
                      flush=True)
            rate = run_naive(cluster, tmp)
            figures["naive"].append(rate)
            print(f"  round {r + 1}: naive  {rate:9.1f} payouts/s  (pgbench, {CONNECTIONS} clients)",
                  flush=True)
    finally:
        cluster.close()
        shutil.rmtree(tmp, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in figures.items()}
    print(f"payoutd, 1 node, SQLite:      {med['sqlite']:9.1f} payouts/s (median of {ROUNDS})")
    print(f"payoutd, 1 node, PostgreSQL:  {med['pg-1']:9.1f} payouts/s")
    print(f"payoutd, 2 nodes, PostgreSQL: {med['pg-2']:9.1f} payouts/s")
    print(f"naive, PostgreSQL (pgbench):  {med['naive']:9.1f} payouts/s")
    print(f"ratios: pg-1/naive {med['pg-1'] / med['naive']:.1f}x  pg-2/naive "
          f"{med['pg-2'] / med['naive']:.1f}x  pg-2/pg-1 {med['pg-2'] / med['pg-1']:.2f}  "
          f"sqlite/pg-1 {med['sqlite'] / med['pg-1']:.2f}  (floor: pg/naive >= {RATIO_FLOOR:.0f}x)")
    print("BENCH_BACKENDS " + " ".join(f"{k}={v:.1f}" for k, v in med.items()) +
          f" pg1_over_naive={med['pg-1'] / med['naive']:.2f} pg2_over_naive={med['pg-2'] / med['naive']:.2f}",
          flush=True)
    check_floor(med)
    return 0


def check_floor(med):
    """Fails the run when payoutd on PostgreSQL is not RATIO_FLOOR times the naive design."""
    below = [f"{name}/naive {med[name] / med['naive']:.1f}x ({med[name]:.1f} against "
             f"{med['naive']:.1f} payouts/s)" for name in ("pg-1", "pg-2")
             if med[name] < RATIO_FLOOR * med["naive"]]
    if below:
        raise BenchError(
            f"PostgreSQL below the floor of {RATIO_FLOOR:.0f}x the naive design: {'; '.join(below)}. "
            "Every scenario ran on a fresh database, where a bad plan shows first: see "
            "docs/architecture.md (Plans) and bench/README.md (Stores) to find the statement")


if __name__ == "__main__":
    run_script(main)
