#!/usr/bin/env python3
"""Helpers for bench/run.sh (python3 standard library only).

  benchtool.py free-port                 print a free TCP port on 127.0.0.1
  benchtool.py balance-minor [FILE]      admin funder JSON (stdin or FILE) -> balance in minor units
  benchtool.py wrk-summary FILE          one parsed wrk output, as key=value lines
  benchtool.py report [options]          the final figures, the checks, the BENCH line

Money is handled as integers of minor units parsed from the decimal's literal text; it never
passes through binary floating point.
"""

import argparse
import statistics
import json
import os
import re
import socket
import signal
import subprocess
import time
import sys

RUB_FRACTION_DIGITS = 2


class BenchError(Exception):
    pass


# --- free port ---------------------------------------------------------------------------------

def free_port():
    # Small race (the port is free when we close it, someone may take it before nginx binds it);
    # acceptable on a benchmark machine.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- money -------------------------------------------------------------------------------------

_DECIMAL = re.compile(r"^(-?)(\d+)(?:\.(\d+))?$")


def decimal_to_minor(text, fraction_digits):
    """'100.5' -> 10050 with 2 fraction digits; exact, no floats."""
    m = _DECIMAL.match(text.strip())
    if not m:
        raise BenchError(f"not a plain decimal: {text!r}")
    sign, whole, frac = m.group(1), m.group(2), m.group(3) or ""
    if len(frac) > fraction_digits:
        if frac[fraction_digits:].strip("0"):
            raise BenchError(f"more than {fraction_digits} fraction digits: {text!r}")
        frac = frac[:fraction_digits]
    minor = int(whole) * 10 ** fraction_digits + int(frac.ljust(fraction_digits, "0") or "0")
    return -minor if sign else minor


def balance_minor(doc_text):
    # Keep every JSON number as its literal text: a value like 123456789012.35 must not be
    # rounded through a double.
    try:
        doc = json.loads(doc_text, parse_float=str, parse_int=str)
    except ValueError as e:
        raise BenchError(f"admin answer is not JSON ({e}): {doc_text[:300]!r}")
    bal = doc.get("balance") if isinstance(doc, dict) else None
    if not isinstance(bal, dict) or "value" not in bal:
        raise BenchError(f"admin answer has no balance.value: {doc_text[:300]!r}")
    currency = bal.get("currency")
    if currency != "RUB":
        raise BenchError(f"funder balance currency is {currency!r}, expected 'RUB'")
    value = bal["value"]
    if not isinstance(value, str):  # bool, null, object...
        raise BenchError(f"balance.value is neither a JSON number nor a string: {value!r}")
    return decimal_to_minor(value, RUB_FRACTION_DIGITS)


# --- wrk output --------------------------------------------------------------------------------

_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_RE_PCT = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s+([\d.]+)\s*(us|ms|s|m|h)\s*$")
_RE_RPS = re.compile(r"^Requests/sec:\s*([\d.]+)\s*$")
_RE_REQS = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),")
_RE_NON2XX = re.compile(r"^\s*Non-2xx or 3xx responses:\s*(\d+)\s*$")
_RE_SOCK = re.compile(
    r"^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)\s*$")


def parse_wrk(text, source="wrk output"):
    out = {"non2xx": 0, "err_connect": 0, "err_read": 0, "err_write": 0, "err_timeout": 0}
    in_dist = False
    for line in text.splitlines():
        if line.strip() == "Latency Distribution":
            in_dist = True
            continue
        m = _RE_PCT.match(line)
        if in_dist and m:
            pct = float(m.group(1))
            ms = float(m.group(2)) * _TIME_UNITS_MS[m.group(3)]
            if pct == 50.0:
                out["p50_ms"] = ms
            elif pct == 99.0:
                out["p99_ms"] = ms
            continue
        in_dist = False
        if (m := _RE_RPS.match(line)):
            out["rps"] = float(m.group(1))
        elif (m := _RE_REQS.match(line)):
            out["requests"] = int(m.group(1))
            out["duration_s"] = float(m.group(2)) * _TIME_UNITS_MS[m.group(3)] / 1000.0
        elif (m := _RE_NON2XX.match(line)):
            out["non2xx"] = int(m.group(1))
        elif (m := _RE_SOCK.match(line)):
            (out["err_connect"], out["err_read"], out["err_write"],
             out["err_timeout"]) = (int(g) for g in m.groups())
    missing = [k for k in ("rps", "requests", "p50_ms", "p99_ms") if k not in out]
    if missing:
        raise BenchError(f"{source}: could not find {', '.join(missing)} "
                         "(did wrk run with --latency and finish?)")
    return out


def read_wrk(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return parse_wrk(f.read(), path)
    except OSError as e:
        raise BenchError(f"cannot read wrk output: {e}")


def socket_errors(w):
    return w["err_connect"] + w["err_read"] + w["err_write"]


# --- report ------------------------------------------------------------------------------------

def fmt(x, digits=2):
    return f"{x:.{digits}f}"


def report(a):
    """Prints the figures; returns 0 (fine), 1 (correctness failure) or 3 (below the floor)."""
    failures = []
    warnings = []
    bench = []
    p = n = None

    if a.payoutd_wrk:
        p = read_wrk(a.payoutd_wrk)
        ledger = a.ledger_payouts
        print(f"payoutd: {fmt(p['rps'], 1)} payouts/s  p50 {fmt(p['p50_ms'])} ms  "
              f"p99 {fmt(p['p99_ms'])} ms  ({p['requests']} requests, {p['non2xx']} non-2xx, "
              f"ledger recorded {ledger})")
        if p["non2xx"] != 0:
            failures.append(f"payoutd answered {p['non2xx']} requests with a non-2xx status "
                            "(expected 0)")
        if socket_errors(p):
            failures.append(f"payoutd run had socket errors: connect {p['err_connect']}, read "
                            f"{p['err_read']}, write {p['err_write']}")
        # Each connection has at most one request in flight; when wrk stops, those may still be
        # executed by the server without wrk counting them. So the ledger may exceed wrk's count
        # by up to the number of connections, never fall below it (a 200 that moved no money is
        # not a successful payout).
        diff = ledger - p["requests"]
        if diff < 0:
            failures.append(f"ledger recorded {ledger} payouts but wrk counted {p['requests']} "
                            f"answered requests: {-diff} answers moved no money (DECLINED, or "
                            "not SUCCESS?)")
        elif diff > a.tolerance:
            failures.append(f"ledger recorded {ledger} payouts but wrk counted {p['requests']} "
                            f"requests: {diff} more, but at most {a.tolerance} (one per "
                            "connection) can have been in flight when wrk stopped")
        if p["err_timeout"]:
            warnings.append(f"payoutd: {p['err_timeout']} responses slower than wrk's --timeout "
                            "(left out of the latency percentiles)")
        bench += [f"payouts_per_s={fmt(p['rps'], 1)}", f"p50_ms={fmt(p['p50_ms'])}",
                  f"p99_ms={fmt(p['p99_ms'])}", f"requests={p['requests']}",
                  f"non2xx={p['non2xx']}", f"ledger_payouts={ledger}"]

    if a.nginx_wrk:
        n = read_wrk(a.nginx_wrk)
        print(f"nginx:   {fmt(n['rps'], 1)} req/s      p50 {fmt(n['p50_ms'])} ms  "
              f"p99 {fmt(n['p99_ms'])} ms  ({n['requests']} requests, worker_processes "
              f"{a.nginx_workers})")
        if n["non2xx"] != 0:
            failures.append(f"nginx answered {n['non2xx']} requests with a non-2xx status")
        if socket_errors(n):
            failures.append(f"nginx run had socket errors: connect {n['err_connect']}, read "
                            f"{n['err_read']}, write {n['err_write']}")
        if n["err_timeout"]:
            warnings.append(f"nginx: {n['err_timeout']} responses slower than wrk's --timeout")
        bench += [f"nginx_req_per_s={fmt(n['rps'], 1)}", f"nginx_p50_ms={fmt(n['p50_ms'])}",
                  f"nginx_p99_ms={fmt(n['p99_ms'])}"]

    below_floor = False
    if p and n:
        if n["rps"] <= 0:
            failures.append("nginx reference measured 0 req/s")
        else:
            ratio = p["rps"] / n["rps"]
            print(f"ratio payoutd/nginx: {fmt(ratio, 3)} (floor {a.floor:g}, target {a.target:g})")
            bench.append(f"ratio={fmt(ratio, 3)}")
            if ratio < a.floor:
                below_floor = True
                msg = f"ratio {fmt(ratio, 3)} is below the floor {a.floor:g}"
                if a.enforce_floor:
                    failures.append(msg + " (BENCH_ENFORCE_FLOOR=1)")
                else:
                    warnings.append(msg + " (not enforced; set BENCH_ENFORCE_FLOOR=1 to fail)")

    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    for f in failures:
        print(f"FAIL: {f}", file=sys.stderr)
    print("BENCH " + " ".join(bench))
    if any("below the floor" not in f for f in failures):
        return 1
    if below_floor and a.enforce_floor:
        return 3
    return 0


# --- median of rounds ----------------------------------------------------------------------------

def median_rounds(lines, floor=0.25, target=0.6):
    """BENCH lines of several rounds -> the median of each figure and the ratio of the medians."""
    rounds = []
    for line in lines:
        line = line.strip()
        if not line.startswith("BENCH "):
            continue
        rounds.append(dict(kv.split("=", 1) for kv in line.split()[1:]))
    if not rounds:
        raise BenchError("no BENCH lines")
    keys = ("payouts_per_s", "p50_ms", "p99_ms", "nginx_req_per_s", "nginx_p50_ms", "nginx_p99_ms")
    med = {}
    for k in keys:
        values = sorted(float(r[k]) for r in rounds if k in r)
        if values:
            med[k] = statistics.median(values)
    ratios = sorted(float(r["ratio"]) for r in rounds if "ratio" in r)
    print(f"median of {len(rounds)} rounds:")
    if "payouts_per_s" in med:
        print(f"payoutd: {med['payouts_per_s']:.1f} payouts/s  p50 {med['p50_ms']:.2f} ms  "
              f"p99 {med['p99_ms']:.2f} ms")
    if "nginx_req_per_s" in med:
        print(f"nginx:   {med['nginx_req_per_s']:.1f} req/s      p50 {med['nginx_p50_ms']:.2f} ms  "
              f"p99 {med['nginx_p99_ms']:.2f} ms")
    ratio = None
    if ratios:
        # Each round measures payoutd and nginx back to back, so its ratio cancels slow drifts of
        # the machine; the median of the rounds' ratios is the headline figure.
        ratio = statistics.median(ratios)
        of_medians = med["payouts_per_s"] / med["nginx_req_per_s"]
        print(f"ratio payoutd/nginx: median of rounds {ratio:.3f} (rounds {ratios[0]:.3f}.."
              f"{ratios[-1]:.3f}; ratio of the medians {of_medians:.3f}; floor {floor}, "
              f"target {target})")
    fields = " ".join(f"{k}={v:.2f}" for k, v in med.items())
    print(f"BENCH_MEDIAN rounds={len(rounds)} {fields}" + (f" ratio={ratio:.3f}" if ratio else ""))
    return 0


# --- HTTPS ---------------------------------------------------------------------------------------

def tls_config(cert, key):
    """PAYOUTD_CONFIG's text (the sandbox's by default) with an HTTPS listener on a free port of
    127.0.0.1 serving `cert` and `key`."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
    from harness import config_text  # noqa: E402 (the e2e harness: absolute paths in the config)
    return (config_text() + f'\n[server.tls]\nlisten = "127.0.0.1:0"\ncert_file = "{cert}"\n'
            f'key_file = "{key}"\n')


# --- main --------------------------------------------------------------------------------------

LISTEN_RE = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")


class PayoutdProcess:
    """One `payoutd serve` started for a benchmark: its port once it listens, its log, its stop."""

    def __init__(self, cmd, log_path, name):
        self.name = name
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log)
        deadline = time.monotonic() + 60
        self.port = None
        for line in self.proc.stdout:
            m = LISTEN_RE.search(line.decode(errors="replace"))
            if m:
                self.port = int(m.group(1))
                break
            if time.monotonic() > deadline:
                break
        if self.port is None:
            raise BenchError(f"payoutd {name} did not start (see {self.log.name})")

    def stop(self, timeout=60):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.log.close()
        if rc != 0:
            raise BenchError(f"payoutd {self.name} exited with {rc} after SIGTERM (see {self.log.name})")


def settled(read, what, polls=120):
    """read() once it returns the same value three times in a row, 0.25 s apart: the requests
    in flight when wrk stopped have landed."""
    prev, same = read(), 0
    for _ in range(polls):
        time.sleep(0.25)
        cur = read()
        same = same + 1 if cur == prev else 0
        if same >= 2:
            return cur
        prev = cur
    raise BenchError(f"{what} kept moving after wrk stopped")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("free-port")
    b = sub.add_parser("balance-minor")
    b.add_argument("file", nargs="?")
    w = sub.add_parser("wrk-summary")
    w.add_argument("file")
    r = sub.add_parser("report")
    r.add_argument("--payoutd-wrk")
    r.add_argument("--ledger-payouts", type=int, default=0)
    r.add_argument("--tolerance", type=int, default=64)
    r.add_argument("--nginx-wrk")
    r.add_argument("--nginx-workers", type=int, default=2)
    r.add_argument("--floor", type=float, default=0.25)
    r.add_argument("--target", type=float, default=0.6)
    r.add_argument("--enforce-floor", type=int, choices=(0, 1), default=0)
    sub.add_parser("median-rounds")
    t = sub.add_parser("tls-config")
    t.add_argument("--cert", required=True)
    t.add_argument("--key", required=True)
    a = ap.parse_args(argv)

    try:
        if a.cmd == "free-port":
            print(free_port())
        elif a.cmd == "balance-minor":
            if a.file:
                with open(a.file, encoding="utf-8") as f:
                    text = f.read()
            else:
                text = sys.stdin.read()
            print(balance_minor(text))
        elif a.cmd == "wrk-summary":
            for k, v in read_wrk(a.file).items():
                print(f"{k}={v}")
        elif a.cmd == "report":
            return report(a)
        elif a.cmd == "median-rounds":
            return median_rounds(sys.stdin.read().splitlines())
        elif a.cmd == "tls-config":
            print(tls_config(a.cert, a.key))
    except BenchError as e:
        print(f"benchtool {a.cmd}: {e}", file=sys.stderr)
        return 2
    return 0


def run_script(main):
    """Exits with a bench script's `main()` status, or 1 with its failure on stderr."""
    try:
        sys.exit(main())
    except (BenchError, subprocess.CalledProcessError) as e:
        sys.stderr.write(f"bench: FAIL: {e}\n")
        sys.exit(1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
