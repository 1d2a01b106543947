#!/usr/bin/env python3
"""Card payouts per second through each card network connector and its test double (bench/README.md,
"Card networks").

  python3 bench/networks.py        (from the repo root, after make build and scripts/setup.sh)

As bench/cards.py, but the sandbox partner's payouts go through a real connector to a network's
test double (started here): every request a new Bereke performPayout.do of one minor unit to the
double's approving card, answered once the network's answer is durable, with the double answering
after DOUBLE_LATENCIES_MS. The doubles: Mastercard Send and Visa Direct (tests/doubles/, over TLS,
their record not fsync'd), and for the upstream Bereke rail a second payoutd, the plain sandbox,
whose own network ([rail] latency_ms) answers after the latency. Each connector's pool is
CONNECTOR_CONNECTIONS connections, so at 100 ms the bound is CONNECTOR_CONNECTIONS / 0.1 s. Checked
against the ledger as cards.py does.

Knobs: as cards.py's (BENCH_DURATION_S, BENCH_WARMUP_S, BENCH_ROUNDS, PAYOUTD, BENCH_CONFIG).
"""
import json
import os
import statistics
import sys
import tempfile
import shutil

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
sys.path.insert(0, os.path.join(os.path.dirname(BENCH), "tests", "e2e"))
from benchtool import BenchError, run_script  # noqa: E402
from cards import PAN, ROUNDS, Node, config_file, config_text, measure, note  # noqa: E402
from harness import BEREKE_PASSWORD, BEREKE_USER  # noqa: E402
from network_doubles import MastercardSendDouble, VisaDirectDouble  # noqa: E402

DOUBLE_LATENCIES_MS = (0, 100)
WRK_CONNECTIONS = 64
CONNECTOR_CONNECTIONS = 64
RECIPIENT = "IVAN PETROV"


def routed_to(rail):
    """Routing of the sandbox's Bereke partner: every payout to `rail`."""
    return f"""
[[routing.tenants]]
tenant = "bereke:sandbox-partner"
default = "{rail}"
"""


class NetworkDouble:
    """A network's test double over TLS (tests/doubles/), its record not fsync'd: DOUBLE, whose
    approving card is `card`, as the rail RAIL."""
    DOUBLE = None
    RAIL = None

    def __init__(self, tmp, latency_ms, nonce):
        self.double = self.DOUBLE(latency_ms=latency_ms, extra_args=["--no-fsync"])

    def config(self):
        return self.double.rail_config(self.RAIL, connections_max=CONNECTOR_CONNECTIONS,
                                       queue_max=4096) + routed_to(self.RAIL)

    def close(self):
        self.double.close()


def approving_card(table):
    """The first card of a double's test-card table (tests/doubles/) that it approves and the
    sandbox BIN table knows (the partner's payouts need its issuer): card numbers stay in the
    tests' tables and the sandbox config."""
    with open(os.path.join(ROOT, "tests", "doubles", table), encoding="utf-8") as f:
        cards = json.load(f)
    with open(os.path.join(ROOT, "data", "bins-sandbox.csv"), encoding="utf-8") as f:
        ranges = [line.split(",")[:2] for line in f if line[:1].isdigit()]
    for pan, scenario in cards.items():
        if scenario == "APPROVE" and any(lo <= pan[:len(lo)] <= hi for lo, hi in ranges):
            return pan
    raise BenchError(f"{table}: no approved card the sandbox BIN table knows")


class Mastercard(NetworkDouble):
    """Mastercard Send: the connector signs every request; the double verifies each signature."""
    name = "mastercard-send"
    card = approving_card("mastercard_send_cards.json")
    DOUBLE = MastercardSendDouble
    RAIL = "mastercard"


class Visa(NetworkDouble):
    """Visa Direct: two-way TLS and Basic on every push; the double validates each one."""
    name = "visa-direct"
    card = approving_card("visa_direct_cards.json")
    DOUBLE = VisaDirectDouble
    RAIL = "visa"


class UpstreamBereke:
    """The upstream Bereke rail: the bank is a second payoutd (A) serving the plain sandbox, its
    own simulated network answering after the latency; the measured payoutd is A's partner."""
    name = "bereke-upstream"
    card = PAN

    def __init__(self, tmp, latency_ms, nonce):
        self.password_file = os.path.join(tmp, f"upstream-password-{nonce}")
        with open(self.password_file, "w", encoding="utf-8") as f:
            f.write(BEREKE_PASSWORD + "\n")
        self.bank = Node(tmp, f"upstream-bank-{latency_ms}-{nonce}",
                         config_file(tmp, f"upstream-{nonce}", config_text(latency_ms)))

    def config(self):
        return f"""
[[rails]]
name = "bank"
kind = "bereke"
base_url = "http://127.0.0.1:{self.bank.port}/payouts/api/v2"
user_name = "{BEREKE_USER}"
password_file = "{self.password_file}"
connections_max = {CONNECTOR_CONNECTIONS}
queue_max = 4096
""" + routed_to("bank")

    def close(self):
        self.bank.stop()


NETWORKS = (Mastercard, Visa, UpstreamBereke)


def scenario(tmp, network, latency_ms, nonce):
    net = network(tmp, latency_ms, nonce)
    try:
        text = config_text(0) + "\n" + net.config()
        node = Node(tmp, f"{net.name}-{latency_ms}-{nonce}", config_file(tmp, nonce, text))
        return measure(node, WRK_CONNECTIONS, nonce, f"{net.name} at {latency_ms} ms", net.card,
                       RECIPIENT)
    finally:
        net.close()


def main():
    if not shutil.which("wrk"):
        raise BenchError("wrk not found (make setup installs it)")
    tmp = tempfile.mkdtemp(prefix="payoutd-bench-networks-")
    figures = {}
    try:
        for r in range(ROUNDS):
            note(f"round {r + 1} of {ROUNDS}")
            for network in NETWORKS:
                for latency in DOUBLE_LATENCIES_MS:
                    nonce = f"n{r}{latency}{network.name[:2]}{os.getpid() % 1000}"
                    rate, p50, p99 = scenario(tmp, network, latency, nonce)
                    figures.setdefault((network.name, latency), []).append(rate)
                    print(f"  round {r + 1}: {network.name:16} double {latency:3} ms: {rate:8.1f} "
                          f"payouts/s  p50 {p50:.1f} ms  p99 {p99:.1f} ms", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"card payouts/s through each network's connector and double (median of {ROUNDS}, "
          f"{WRK_CONNECTIONS} connections in, {CONNECTOR_CONNECTIONS} out):")
    summary = []
    for (name, latency), rates in sorted(figures.items()):
        rate = statistics.median(rates)
        print(f"  {name:16} double {latency:3} ms: {rate:8.1f}/s")
        summary.append(f"{name}-l{latency}={rate:.1f}")
    print("BENCH_NETWORKS " + " ".join(summary))
    return 0


if __name__ == "__main__":
    run_script(main)
