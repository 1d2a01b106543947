#!/usr/bin/env python3
"""Card payouts per second through the simulated card rail (bench/README.md, "Card payouts").

  python3 bench/cards.py        (from the repo root, after make build)

Every request is a new Bereke performPayout.do (API only, no page) of one minor unit to the
sandbox's success card, funded by the partner's transit account, answered once the rail's
answer is durable: two group-commit batches (the reservation, then the rail's answer) and a
round trip through the rail per payout. The rail's latency is set to each of RAIL_LATENCIES_MS,
with 64 and 512 keep-alive connections; a rail call holds no lock or transaction, so the rate
must not fall to connections/latency (let alone 1/latency). Every figure is checked against the
ledger: the transit account must have paid exactly one unit per answered request (or more, for
requests answered after wrk stopped counting), and any non-2xx answer fails the run.

Knobs: BENCH_DURATION_S (10), BENCH_WARMUP_S (2), BENCH_ROUNDS (3, medians), PAYOUTD
(build/payoutd), BENCH_CONFIG (config/sandbox.toml).
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import tomllib
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchtool import BenchError, PayoutdProcess, parse_wrk, settled, run_script  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAYOUTD = os.path.join(ROOT, os.environ.get("PAYOUTD", "build/payoutd"))
CONFIG = os.path.join(ROOT, os.environ.get("BENCH_CONFIG", "config/sandbox.toml"))
LUA = os.path.join(ROOT, "bench", "card_payout.lua")


def success_card(config_path):
    """The card every benchmark payout goes to: the first Bereke recipient binding's number in the
    config (the sandbox's success card)."""
    with open(config_path, "rb") as f:
        config = tomllib.load(f)
    for partner in config.get("bereke", {}).get("partners", []):
        for binding in partner.get("recipient_bindings", []):
            return binding["pan"]
    raise BenchError(f"{config_path}: no bereke.partners.recipient_bindings to pay out to")


PAN = success_card(CONFIG)
DURATION_S = int(os.environ.get("BENCH_DURATION_S", "10"))
WARMUP_S = int(os.environ.get("BENCH_WARMUP_S", "2"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
RAIL_LATENCIES_MS = (0, 10, 50, 200)
CONNECTIONS = (64, 512)
THREADS = 2
AMOUNT_BODY = b'{"userName":"payout_api_username","password":"payout_api_password"}'


def note(text):
    sys.stderr.write(f"bench: {text}\n")


def config_text(latency_ms):
    """The sandbox config with the rail's latency set and the BIN table's path made absolute."""
    with open(CONFIG, encoding="utf-8") as f:
        text = f.read()
    text, n = re.subn(r"^latency_ms = \d+", f"latency_ms = {latency_ms}", text, flags=re.M)
    if n != 1:
        raise BenchError("the config has no single rail latency_ms line")
    base = os.path.dirname(CONFIG)
    return re.sub(r'^((?:bin_table|knp_table)\s*=\s*)"([^"/][^"]*)"',
                  lambda m: f'{m.group(1)}"{os.path.normpath(os.path.join(base, m.group(2)))}"',
                  text, flags=re.M)


def config_file(tmp, name, text):
    path = os.path.join(tmp, f"config-{name}.toml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def config_with_latency(tmp, latency_ms):
    return config_file(tmp, str(latency_ms), config_text(latency_ms))


class Node(PayoutdProcess):
    def __init__(self, tmp, name, config):
        self.data = os.path.join(tmp, f"data-{name}")
        os.makedirs(self.data)
        super().__init__([PAYOUTD, "serve", "--config", config, "--listen", "127.0.0.1:0",
                          "--data-dir", self.data], os.path.join(tmp, f"payoutd-{name}.log"), name)

    def transit(self):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/payouts/api/v2/getAmount.do",
                                     data=AMOUNT_BODY, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())["balanceDescriptionList"]["balanceAmount"]

    def settled_transit(self):
        return settled(self.transit, "the transit balance")


def wrk(port, connections, seconds, nonce, phase, pan=PAN, name=None):
    p = subprocess.run(["wrk", f"-t{THREADS}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                        "--latency", "-s", LUA, f"http://127.0.0.1:{port}", "--", nonce, phase, pan]
                       + ([name] if name else []),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.decode(errors="replace")
    if p.returncode != 0:
        raise BenchError(f"wrk failed:\n{out}")
    return parse_wrk(out)


def measure(node, connections, nonce, label, pan=PAN, name=None):
    """wrk's warm-up and measured run against a started node (stopped after), checked against
    its ledger: (payouts/s, p50 ms, p99 ms)."""
    try:
        if WARMUP_S:
            wrk(node.port, connections, WARMUP_S, nonce, "w", pan, name)
        before = node.settled_transit()
        run = wrk(node.port, connections, DURATION_S, nonce, "m", pan, name)
        after = node.settled_transit()
    finally:
        node.stop()
    bad = run["non2xx"] + run["err_connect"] + run["err_read"] + run["err_write"]
    if bad:
        raise BenchError(f"{label}: {bad} failed requests")
    if before - after < run["requests"]:
        raise BenchError(f"{label}: the ledger paid {before - after} payouts, wrk counted {run['requests']}")
    return run["rps"], run["p50_ms"], run["p99_ms"]


def scenario(tmp, latency_ms, connections, nonce):
    node = Node(tmp, f"{latency_ms}-{connections}-{nonce}", config_with_latency(tmp, latency_ms))
    return measure(node, connections, nonce, f"latency {latency_ms} ms, {connections} connections")


def main():
    if not shutil.which("wrk"):
        raise BenchError("wrk not found (make setup installs it)")
    if not os.access(PAYOUTD, os.X_OK):
        raise BenchError(f"{PAYOUTD} not found: make build first")
    tmp = tempfile.mkdtemp(prefix="payoutd-bench-cards-")
    figures = {}
    try:
        for r in range(ROUNDS):
            note(f"round {r + 1} of {ROUNDS}")
            for latency in RAIL_LATENCIES_MS:
                for connections in CONNECTIONS:
                    nonce = f"c{r}{latency}x{connections}{os.getpid() % 1000}"
                    rate, p50, p99 = scenario(tmp, latency, connections, nonce)
                    figures.setdefault((latency, connections), []).append((rate, p50, p99))
                    print(f"  round {r + 1}: rail {latency:3} ms, {connections:3} connections: "
                          f"{rate:8.1f} payouts/s  p50 {p50:.1f} ms  p99 {p99:.1f} ms", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"card payouts/s through the sandbox rail (median of {ROUNDS}):")
    summary = []
    for (latency, connections), runs in sorted(figures.items()):
        rate = statistics.median(x[0] for x in runs)
        p50 = statistics.median(x[1] for x in runs)
        bound = connections / (latency / 1000) if latency else float("inf")
        print(f"  rail {latency:3} ms, {connections:3} connections: {rate:8.1f}/s  p50 {p50:6.1f} ms  "
              f"(1/latency: {1000 / latency if latency else float('inf'):.0f}/s, "
              f"connections/latency: {bound:.0f}/s)")
        summary.append(f"l{latency}c{connections}={rate:.1f}")
    print("BENCH_CARDS " + " ".join(summary))
    return 0


if __name__ == "__main__":
    run_script(main)
