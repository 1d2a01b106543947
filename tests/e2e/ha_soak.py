"""The failover soak: two payoutd nodes on a Patroni/etcd/haproxy cluster under a load of QIWI and
Bereke card payouts for --minutes, while the cluster's five faults (ha_load.FaultDriver.FAULTS)
take turns, then the checker (ha_load.Checker) over everything that was answered.

    python3 tests/e2e/ha_soak.py --minutes 30 --out build/ha-soak      (make ha-soak)

Each fault is followed by HOLD seconds of load: about 3 minutes a round of five, so that 30
minutes run each fault at least twice (kill-primary-pg, stop-primary, switchover, kill-etcd,
restart-haproxy, and again). Prints a table of the figures per fault (ha_load.figures) and the
totals; writes into --out requests.jsonl (every request and answer), summary.json (the figures,
totals and violations) and logs/ (the cluster's and the nodes' logs). Exits 1 on any violation
or on a fault that did not go as it should. PAYOUTD_BIN and PAYOUTD_CONFIG as for the e2e tests.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import HarnessError  # noqa: E402
from ha_load import (WINDOW, Checker, FaultDriver, HaCluster, HaLoad, HaRun, Recorder,  # noqa: E402
                     figure_table, figures, missing_tools)

HOLD = WINDOW + 5  # the load after each fault's wait-ready: its "after" throughput, and a margin


def log(line):
    sys.stderr.write(f"[ha-soak] {line}\n")
    sys.stderr.flush()


def soak(minutes, out, threads):
    """Runs the soak; returns its summary (a dict, as summary.json holds it)."""
    recorder = Recorder(os.path.join(out, "requests.jsonl"))
    cluster = HaCluster()
    run = load = None
    faults, problems = [], []
    try:
        log(f"starting the cluster in {cluster.dir}")
        cluster.start()
        run = HaRun(cluster).start()
        load = HaLoad(run, recorder, threads=threads).start()
        log(f"load of {threads} threads (seed {load.seed}, ids {load.prefix}-...) on node A "
            f"{run.url} and node B {run.multihost_url}")
        driver = FaultDriver(cluster, load.now, log=log)
        time.sleep(WINDOW)
        turn = 0
        while load.now() < minutes * 60:
            record = driver.run(FaultDriver.FAULTS[turn % len(FaultDriver.FAULTS)])
            faults.append(record)
            turn += 1
            if record.get("failed"):
                log("the cluster is not ready again: no more faults")
                break
            time.sleep(max(0.0, record["ready"] + HOLD - load.now()))
        load.stop()
        log(f"load stopped at {load.stopped_at:.1f} s; checking")
        checker = Checker(run, recorder, load)
        violations = checker.check()
        totals = checker.totals
    finally:
        if load is not None and load.stopped_at is None:
            load.stop()
        recorder.close()
        if run is not None:
            run.save_logs(os.path.join(out, "logs", "nodes"))
            try:
                run.close()
            except HarnessError as e:
                problems.append(f"stopping the nodes: {e}")
        if cluster.started:
            cluster.save_logs(os.path.join(out, "logs", "cluster"))
            cluster.stop()
    rows = figures(recorder.records, faults, load.stopped_at)
    problems += [p for r in rows for p in r["problems"]]
    return {"minutes": minutes, "threads": threads, "seed": load.seed, "prefix": load.prefix,
            "faults": rows, "table": figure_table(rows), "totals": totals,
            "violations": violations, "problems": problems}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, required=True, help="how long the load runs")
    parser.add_argument("--out", required=True, help="directory for requests.jsonl, summary.json, logs/")
    parser.add_argument("--threads", type=int, default=8, help="the load's worker threads")
    args = parser.parse_args()
    missing = missing_tools()
    if missing:
        sys.exit(f"ha-soak: {', '.join(missing)} not installed (scripts/setup.sh test installs them)")
    os.makedirs(args.out, exist_ok=True)
    summary = soak(args.minutes, args.out, args.threads)
    with open(os.path.join(args.out, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2, sort_keys=True)
    print(summary["table"])
    for row in summary["faults"]:
        nodes = ", ".join(f"{n} {s:.1f} s (gap {row['gap_s'][n]:.1f} s)"
                          for n, s in sorted(row["unavailable_s"].items()))
        print(f"  {row['start']:8.1f} s  {row['fault']:<16} unavailable {nodes}; {row['retryable']} retryable; "
              f"{row['before_per_s']} -> {row['after_per_s']} payouts/s; {row['detail']}")
    totals = summary["totals"]
    print(f"totals: {totals['requests']} requests, {totals['ids']} ids, {totals['payouts']} payouts "
          f"({totals['succeeded']} succeeded, {totals['declined']} declined); answers {totals['answers']}")
    for line in summary["problems"]:
        print(f"PROBLEM: {line}")
    for line in summary["violations"]:
        print(f"VIOLATION: {line}\n")
    bad = len(summary["violations"]) + len(summary["problems"])
    print(f"{'FAILED' if bad else 'OK'}: {len(summary['violations'])} violations, {len(summary['problems'])} "
          f"problems; {args.out}/summary.json, {args.out}/requests.jsonl")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
