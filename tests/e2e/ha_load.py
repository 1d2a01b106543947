"""Payouts through two payoutd nodes on a Patroni/etcd/haproxy cluster while its pieces fail.

The library of test_ha_failover.py and ha_soak.py (not a test file itself):

  HaCluster    scripts/ha-cluster.sh in a directory of its own: start, stop, its URLs, psql
  HaRun        a fresh database on the cluster and two nodes on it: node A through haproxy
               (DIR/url), node B through libpq's multi-host URL (DIR/multihost-url,
               target_session_attrs=read-write)
  Recorder     every request and its answer, in memory and as JSON lines in a file
  HaLoad       worker threads sending QIWI wallet payouts and Bereke card payouts to both nodes,
               a third of them retries of an earlier id (same body; to the other node, or to both
               at once), each on a 10 s client timeout
  FaultDriver  the cluster's faults (kill-primary-pg, stop-primary, switchover, kill-etcd,
               restart-haproxy), each followed by wait-ready
  figures()    per fault: the unavailability each node saw, the retryable answers during it, the
               throughput before and after
  Checker      after the load: what every answer said is what the database holds (SQL through
               haproxy), no id moved money twice, the ledger adds up, `payoutd audit` exits 0

Times are seconds since the load started (the load's clock, time.monotonic()).
"""
import collections
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

from harness import (ALL_CLIENTS, BLOCKED_CLIENT, BONUS, CARD_DECLINED, CARD_OK, CARD_OK_MC,
                     CARD_SLOW_DECLINED, CARD_SLOW_OK, CARD_TIMEOUT, CLIENTS, REPO_ROOT, Api, HarnessError,
                     Server, psql, start_threads)

HA_CLUSTER_SCRIPT = REPO_ROOT / "scripts" / "ha-cluster.sh"
HA_TOOLS = ("patroni", "patronictl", "etcd", "etcdctl", "haproxy", "curl", "psql")

REQUEST_TIMEOUT = 10.0   # the client's timeout of every request
RETRY_SHARE = 1 / 3      # requests that retry an earlier id
OTHER_NODE_SHARE = 0.5   # retries sent to the other node than the id's previous request
CONCURRENT_SHARE = 0.25  # retries sent to both nodes at once
CARD_SHARE = 0.4         # new ids that are Bereke card payouts (the rest: QIWI wallet payouts)
# Bereke test cards (shared/spec/sandbox.md) and how often each is paid to.
CARD_WEIGHTS = ((CARD_OK, 40), (CARD_OK_MC, 15), (CARD_DECLINED, 15), (CARD_SLOW_OK, 12),
                (CARD_SLOW_DECLINED, 10), (CARD_TIMEOUT, 4))
# clientId -> accountId of the wallets paid to; the blocked client's payouts are DECLINED.
WALLETS = {c: ALL_CLIENTS[c] for c in (*CLIENTS, BLOCKED_CLIENT)}

FINAL = ("SUCCESS", "DECLINED")
SERVED = FINAL + ("PROCESSING", "rail timeout")       # the payout exists: the gateway answered for it
RETRYABLE = ("unavailable", "timeout", "connection error")  # the answer is lost: retry the same id
CARD_ORDER_STATUS = {"2": "SUCCESS", "6": "DECLINED", "1": "PROCESSING"}
PAYOUT_STATUS = {0: "PROCESSING", 1: "SUCCESS", 2: "DECLINED"}   # payouts.status (store.h)
KIND = {"qiwi": 0, "card": 3}                                       # payouts.kind (store.h)
TRANSFER_SINGLE, TRANSFER_PENDING, TRANSFER_POST, TRANSFER_VOID = 0, 1, 2, 3  # ledger.h

WINDOW = 20.0            # the throughput is measured this long before and after each fault
STOP_SECONDS = 15.0      # stop-primary: SIGSTOP this long, beyond the leader lease (ttl 10 s)
ETCD_DOWN_SECONDS = 5.0  # kill-etcd: the member stays down this long
READY_SECONDS = 120      # wait-ready's bound after a fault


def missing_tools():
    """The programs scripts/ha-cluster.sh needs that are not installed."""
    return [tool for tool in HA_TOOLS if shutil.which(tool) is None]


def _output(p):
    return p.stdout.decode("utf-8", "replace").strip()


# --------------------------------------------------------------------------------------------
# The cluster

class HaCluster:
    """scripts/ha-cluster.sh in a fresh directory under the temporary directory (a short, plain
    path, as the script wants). start() starts it; stop() kills every process and removes it."""

    def __init__(self):
        self.dir = os.path.join(tempfile.gettempdir(), f"payoutd-ha-{os.getpid()}-{os.urandom(3).hex()}")
        self.started = False

    def script(self, *args, timeout=180):
        """Runs `ha-cluster.sh COMMAND DIR ARGS...`; returns its standard output (stripped).
        Raises HarnessError with its output when it fails."""
        p = subprocess.run(["bash", str(HA_CLUSTER_SCRIPT), args[0], self.dir, *map(str, args[1:])],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        if p.returncode != 0:
            raise HarnessError(f"ha-cluster.sh {' '.join(map(str, args))} failed:\n"
                               f"{_output(p)}\n{p.stderr.decode('utf-8', 'replace')}")
        return _output(p)

    def start(self):
        self.started = True
        self.script("start", timeout=240)
        return self

    def stop(self):
        if self.started:
            self.script("stop", timeout=120)
            self.started = False

    def _read(self, name):
        with open(os.path.join(self.dir, name), encoding="utf-8") as f:
            return f.read().strip()

    @property
    def url(self):
        """The haproxy URL of the `postgres` database."""
        return self._read("url")

    @property
    def multihost_url(self):
        """The three nodes' URL of the `postgres` database, target_session_attrs=read-write."""
        return self._read("multihost-url")

    def port_of(self, node):
        """The PostgreSQL port of node `nodeN` (DIR/ports)."""
        n = node.removeprefix("node")
        for line in self._read("ports").splitlines():
            if line.startswith(f"PG{n}_PORT="):
                return int(line.split("=", 1)[1])
        raise HarnessError(f"no port of {node} in {self.dir}/ports")

    def new_database(self):
        """A fresh database (created through haproxy): its haproxy URL and its multi-host URL."""
        name = f"ha_{os.getpid()}_{os.urandom(3).hex()}"
        psql(self.url, f"CREATE DATABASE {name}")
        return (self.url.rsplit("/", 1)[0] + "/" + name,
                self.multihost_url.replace("/postgres?", f"/{name}?", 1))

    def save_logs(self, dest):
        """Copies the logs of every process of the cluster into the directory `dest`."""
        os.makedirs(dest, exist_ok=True)
        for path in Path(self.dir).glob("*/*.log"):
            shutil.copy(path, os.path.join(dest, f"{path.parent.name}-{path.name}"))
        if os.path.exists(os.path.join(self.dir, "haproxy.log")):
            shutil.copy(os.path.join(self.dir, "haproxy.log"), dest)


def rows(url, sql):
    """The rows of a query as a list of dicts (json_agg on the server)."""
    return json.loads(psql(url, f"SELECT coalesce(json_agg(q), '[]') FROM ({sql}) AS q"))


class HaRun:
    """A fresh database on `cluster` and two payoutd nodes on it: "A" through haproxy, "B" through
    the multi-host URL. close() stops both (exit code checked) and runs the harness's log check."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.url, self.multihost_url = cluster.new_database()
        self.nodes = {}

    def start(self):
        # One after the other: two nodes provisioning an empty database at once is tested elsewhere.
        for name, url in (("A", self.url), ("B", self.multihost_url)):
            server = Server(postgres_url=url)
            self.nodes[name] = server
            server.start()
        return self

    def dead_nodes(self):
        """{name: exit code} of the nodes that are no longer running."""
        return {name: s.proc.poll() if s.proc else None for name, s in self.nodes.items() if not s.running()}

    def audit(self):
        """`payoutd audit` of node A (its config, --postgres-url through haproxy): (code, output)."""
        return self.nodes["A"].run_audit()

    def save_logs(self, dest):
        """Copies each node's logs into the directory `dest` (A-stderr.1.log...)."""
        os.makedirs(dest, exist_ok=True)
        for name, server in self.nodes.items():
            for path in Path(server.tmp).glob("*.log"):
                shutil.copy(path, os.path.join(dest, f"{name}-{path.name}"))

    def close(self):
        """Stops every node (SIGTERM, exit code 0 expected) and removes its directory; raises
        HarnessError naming every problem (an exit code, the log check)."""
        problems = []
        for name, server in self.nodes.items():
            try:
                if server.running():
                    server.stop(check=True)
            except HarnessError as e:
                problems.append(f"node {name}: {e}")
            try:
                server.close()
            except HarnessError as e:
                problems.append(f"node {name}: {e}")
        self.nodes = {}
        if problems:
            raise HarnessError("\n".join(problems))


# --------------------------------------------------------------------------------------------
# The recorder

class Recorder:
    """Every request and its answer: a dict per request (seq, id, kind, node, retry, concurrent,
    sent, answered, http, answer, code, detail), kept in memory and appended to `path` as a JSON
    line as soon as it is answered.

    answer: SUCCESS, DECLINED or PROCESSING (a QIWI status, or a card's orderStatus 2, 6 or 1),
    "rail timeout" (Bereke 504 91 of the card rail: the payout exists, its outcome comes later),
    "unavailable" (QIWI 503 service.unavailable, Bereke 504 91 of payout-store), "timeout" (no
    answer within REQUEST_TIMEOUT), "connection error", or "unexpected" (anything else; detail
    holds what came)."""

    def __init__(self, path):
        self.path = path
        self.records = []
        self._lock = threading.Lock()
        self._file = open(path, "w", encoding="utf-8")

    def add(self, record):
        with self._lock:
            record["seq"] = len(self.records)
            self.records.append(record)
            self._file.write(json.dumps(record, sort_keys=True) + "\n")
            self._file.flush()

    def by_id(self):
        """{id: [its records, in the order they were answered]}."""
        with self._lock:
            out = collections.defaultdict(list)
            for r in self.records:
                out[r["id"]].append(r)
            return out

    def close(self):
        with self._lock:
            self._file.close()


def history_text(records):
    """An id's recorded requests, one line each."""
    lines = []
    for r in sorted(records, key=lambda r: r["sent"]):
        took = f"{r['answered'] - r['sent']:.3f}"
        flags = "".join((" retry" if r["retry"] else "", " concurrent" if r["concurrent"] else ""))
        lines.append(f"    #{r['seq']} node {r['node']}{flags}: sent {r['sent']:.3f} s, answered after {took} s:"
                     f" HTTP {r['http']} {r['answer']} {r['code']} {r['detail']}".rstrip())
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The load

class HaLoad:
    """`threads` workers sending payouts to the nodes of `run` until stop(): new QIWI wallet
    payouts (bonus funder to a sandbox client, the blocked one's DECLINED) and new Bereke card
    payouts (the sandbox test cards, from the transit account), each to a node picked at random;
    a third of the requests retry an earlier id with the same body, preferably one whose answer
    was lost, to the other node half of the time, or to both nodes at once. Every request opens a
    connection of its own. `pause`: each worker's sleep between requests."""

    def __init__(self, run, recorder, threads=8, pause=0.1, seed=None):
        self.run, self.recorder = run, recorder
        self.threads, self.pause = threads, pause
        self.seed = random.randrange(1 << 30) if seed is None else seed
        self.prefix = f"ha{os.urandom(2).hex()}"
        self.bodies = {}                                  # id -> (kind, payout arguments)
        self.last_node = {}                               # id -> the node of its latest request
        self.lost = set()                                 # ids whose latest answer was lost
        self.recent = collections.deque(maxlen=2000)      # ids, newest last
        self._count = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._workers = []
        self._t0 = None
        self.stopped_at = None

    def now(self):
        """Seconds since start()."""
        return time.monotonic() - self._t0

    def start(self):
        self._t0 = time.monotonic()
        self._workers = start_threads(self._work, self.threads)
        return self

    def stop(self):
        """Stops the workers; each finishes its request in flight. stopped_at: when it was asked."""
        self.stopped_at = self.now()
        self._stop.set()
        for t in self._workers:
            t.join(REQUEST_TIMEOUT * 3)

    def _new_id(self, rng):
        with self._lock:
            self._count += 1
            n = self._count
        if rng.random() < CARD_SHARE:
            pan = rng.choices([c for c, _ in CARD_WEIGHTS], [w for _, w in CARD_WEIGHTS])[0]
            txn = f"{self.prefix}-c{n}"
            body = ("card", (pan, rng.randint(100, 9999)))
        else:
            txn = f"{self.prefix}-q{n}"
            client = rng.choice(sorted(WALLETS))
            body = ("qiwi", (client, f"{rng.randint(100, 999) / 100:.2f}"))
        with self._lock:
            self.bodies[txn] = body
            self.recent.append(txn)
        return txn

    def _retry_id(self, rng):
        """An earlier id to send again: one whose answer was lost (most of the time, when there
        is one), else a recent one; None before the first."""
        with self._lock:
            if self.lost and rng.random() < 0.7:
                return rng.choice(sorted(self.lost))
            return rng.choice(self.recent) if self.recent else None

    def _work(self, w):
        rng = random.Random(self.seed * 1000 + w)
        names = sorted(self.run.nodes)
        apis = {name: Api(server, keep_alive=False, timeout=REQUEST_TIMEOUT)
                for name, server in self.run.nodes.items()}
        while not self._stop.is_set():
            txn = self._retry_id(rng) if rng.random() < RETRY_SHARE else None
            if txn is None:
                self._send(apis, rng.choice(names), self._new_id(rng), retry=False)
            elif rng.random() < CONCURRENT_SHARE:
                helper = threading.Thread(target=self._send, args=(apis, names[0], txn, True, True))
                helper.start()
                self._send(apis, names[1], txn, True, True)
                helper.join()
            else:
                with self._lock:
                    previous = self.last_node.get(txn, names[0])
                other = [n for n in names if n != previous][0]
                self._send(apis, other if rng.random() < OTHER_NODE_SHARE else previous, txn, True)
            if self.pause:
                time.sleep(self.pause)

    def _send(self, apis, node, txn, retry, concurrent=False):
        """Sends id `txn` (its body) to `node` with its client of `apis`; records the answer."""
        api = apis[node]
        kind, args = self.bodies[txn]
        record = {"id": txn, "kind": kind, "node": node, "retry": retry, "concurrent": concurrent,
                  "sent": self.now(), "http": None, "code": "", "detail": ""}
        try:
            if kind == "qiwi":
                r = api.payout(txn, BONUS, args[0], args[1])
            else:
                r = api.perform(txn, args[0], amount=args[1])
            record["http"] = r.status
            record["answer"], record["code"] = answer_of(kind, r)
            if record["answer"] == "unexpected":
                record["detail"] = r.raw[:300].decode("utf-8", "replace")
        except (socket.timeout, TimeoutError):
            record["answer"] = "timeout"
        except (OSError, http.client.HTTPException) as e:
            record["answer"], record["detail"] = "connection error", type(e).__name__
        except AssertionError as e:  # openapi_check: an answer its document does not describe
            record["answer"], record["detail"] = "unexpected", str(e)[:300]
        record["answered"] = self.now()
        with self._lock:
            self.last_node[txn] = node
            if record["answer"] in RETRYABLE:
                self.lost.add(txn)
            else:
                self.lost.discard(txn)
        self.recorder.add(record)


def answer_of(kind, r):
    """(answer, code) of a response (see Recorder): code is a QIWI decline code, or a card's
    orderStatus, or an error's errorCode."""
    body = r.json if isinstance(r.json, dict) else {}
    if kind == "qiwi":
        if r.status == 200 and body.get("status") in FINAL + ("PROCESSING",):
            return body["status"], (body.get("declineReason") or {}).get("code", "")
        if r.status == 503 and body.get("errorCode") == "service.unavailable":
            return "unavailable", body["errorCode"]
        return "unexpected", str(body.get("errorCode", ""))
    if r.status == 200 and body.get("orderStatus") in CARD_ORDER_STATUS:
        return CARD_ORDER_STATUS[body["orderStatus"]], body["orderStatus"]
    if r.status == 504 and body.get("errorCode") == "91":
        message = body.get("errorMessage", "")
        return ("unavailable" if message.endswith("payout-store") else "rail timeout"), "91"
    return "unexpected", str(body.get("errorCode", ""))


# --------------------------------------------------------------------------------------------
# Faults

class FaultDriver:
    """The cluster's faults. run(name) returns the fault's record: fault, start, end (the fault's
    own commands done), ready (wait-ready returned), detail, problems (what did not go as the
    fault means to: empty when all did), and failed: True when a command of the cluster's script
    failed. Times on `clock` (the load's).

    A fault that moves the leader lock (kill-primary-pg, stop-primary, switchover) must leave the
    old primary, once the cluster is ready, in recovery and refusing writes."""

    FAULTS = ("kill-primary-pg", "stop-primary", "switchover", "kill-etcd", "restart-haproxy")

    def __init__(self, cluster, clock, log=None):
        self.cluster, self.clock = cluster, clock
        self.log = log or (lambda line: None)
        self._etcd_member = 0

    def run(self, fault):
        """Runs the fault named `fault` (one of FAULTS), then wait-ready; returns its record."""
        record = {"fault": fault, "start": self.clock(), "detail": "", "problems": []}
        self.log(f"{record['start']:8.1f} s  {fault}")
        try:
            old_primary = getattr(self, "_" + fault.replace("-", "_"))(record)
            record["end"] = self.clock()
            self.cluster.script("wait-ready", READY_SECONDS, timeout=READY_SECONDS + 30)
            record["ready"] = self.clock()
            if old_primary:
                leader = self.cluster.script("leader")
                record["detail"] += f"; leader now {leader}"
                if leader == old_primary:
                    record["problems"].append(f"{old_primary} kept the leader lock")
                else:
                    record["problems"].extend(self.refuses_writes(old_primary))
        except (HarnessError, subprocess.TimeoutExpired) as e:
            record["failed"] = True  # the cluster may not be what the next fault expects
            record["problems"].append(f"{fault}: {e}")
            record.setdefault("end", self.clock())
            record.setdefault("ready", self.clock())
        self.log(f"{record['ready']:8.1f} s  ready after {fault} ({record['detail']})"
                 + "".join(f"\n  PROBLEM: {p}" for p in record["problems"]))
        return record

    def refuses_writes(self, node):
        """Problems (empty: none) of `node`, no longer the primary: it must run in recovery and
        refuse a write as a read-only transaction (25006)."""
        url = f"postgresql://payoutd@127.0.0.1:{self.cluster.port_of(node)}/postgres?connect_timeout=3"
        problems = []
        # wait-ready may see the node running before its PostgreSQL takes connections again
        # (refused, or not yet consistent).
        deadline = time.monotonic() + READY_SECONDS
        while True:
            try:
                in_recovery = psql(url, "SELECT pg_is_in_recovery()").strip()
                break
            except HarnessError as e:
                if "connection to server" not in str(e) or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        if in_recovery != "t":
            problems.append(f"the old primary {node} is not in recovery")
        try:
            psql(url, "BEGIN; CREATE TABLE ha_write_probe (i int); ROLLBACK")
            problems.append(f"the old primary {node} accepted a write")
        except HarnessError as e:
            if "read-only transaction" not in str(e):
                problems.append(f"the old primary {node} refused a write with another error: {e}")
        return problems

    # Each fault sets record["detail"] and returns the old primary when it moves the leader lock.

    def _kill_primary_pg(self, record):
        killed = self.cluster.script("kill-primary-pg")
        record["detail"] = f"killed the postmaster of {killed}"
        return killed

    def _stop_primary(self, record):
        stopped = self.cluster.script("stop-primary")
        time.sleep(STOP_SECONDS)
        self.cluster.script("cont-primary", timeout=150)
        record["detail"] = f"stopped {stopped} for {STOP_SECONDS:.0f} s"
        return stopped

    def _switchover(self, record):
        before = self.cluster.script("leader")
        self.cluster.script("switchover", timeout=150)
        record["detail"] = f"switched over from {before}"
        return before

    def _kill_etcd(self, record):
        self._etcd_member = self._etcd_member % 3 + 1
        self.cluster.script("kill-etcd", self._etcd_member)
        time.sleep(ETCD_DOWN_SECONDS)
        self.cluster.script("start-etcd", self._etcd_member)
        record["detail"] = f"etcd{self._etcd_member} down for {ETCD_DOWN_SECONDS:.0f} s"

    def _restart_haproxy(self, record):
        self.cluster.script("restart-haproxy")
        record["detail"] = "haproxy restarted"


# --------------------------------------------------------------------------------------------
# Figures

def figures(records, faults, end):
    """Per fault record: its unavailability on each node and the worst, the retryable answers
    during it, the throughput before and after. `end`: when the load stopped.

    A node's unavailability runs from the first of its new payouts (an id's first request) sent
    after the fault started that failed (503, Bereke's 504 of payout-store, a timeout, a connection
    error) to the answer of the first new payout the gateway served among those sent after its
    last failed one (0 when none failed): requests sent in the first moments of a fault may
    still be served while an earlier one already hangs, and a hanging one may fail last. Retries
    are left out: a card payout's retry on the other node may wait for the first node's rail,
    whatever the database does. A fault's requests are those sent after it started and answered
    before the next one started (a card payout sent just before a fault may be caught by it). The
    retryable answers are those of every request (retries too) sent while a node was
    unavailable. A node that makes its requests wait instead of failing them is unavailable for
    0 s by that measure: its longest gap (gap_s) is the longest time from the fault's start in
    which it served no new payout. Throughput: payouts served per second over the WINDOW seconds before the fault
    and after wait-ready (or as much of them as the load ran)."""
    out = []
    for i, f in enumerate(faults):
        until = faults[i + 1]["start"] if i + 1 < len(faults) else end
        per_node, gaps, spans = {}, {}, []
        for node in sorted({r["node"] for r in records}):
            answers = sorted([f["start"]] + [
                r["answered"] for r in records if r["node"] == node and not r["retry"]
                and f["start"] <= r["answered"] < until and r["answer"] in SERVED])
            gaps[node] = round(max(b - a for a, b in zip(answers, answers[1:] + [answers[-1]])), 3)
            mine = [r for r in records if r["node"] == node and not r["retry"]
                    and f["start"] <= r["sent"] and r["answered"] < until]
            failed = [r["sent"] for r in mine if r["answer"] in RETRYABLE]
            if not failed:
                per_node[node] = 0.0
                continue
            served = [r["answered"] for r in mine if r["sent"] > max(failed) and r["answer"] in SERVED]
            spans.append((min(failed), min(served, default=until)))
            per_node[node] = round(spans[-1][1] - spans[-1][0], 3)
        retryable = sum(1 for r in records if r["answer"] in RETRYABLE
                        and any(a <= r["sent"] <= b for a, b in spans))
        before = _throughput(records, max(0.0, f["start"] - WINDOW), f["start"])
        after = _throughput(records, f["ready"], min(until, f["ready"] + WINDOW))
        out.append({"fault": f["fault"], "start": round(f["start"], 3), "detail": f["detail"],
                    "unavailable_s": per_node, "worst_s": max(per_node.values(), default=0.0),
                    "gap_s": gaps, "worst_gap_s": max(gaps.values(), default=0.0),
                    "retryable": retryable, "before_per_s": before, "after_per_s": after,
                    "problems": f["problems"]})
    return out


def _throughput(records, start, stop):
    if stop - start < 1.0:
        return None
    n = sum(1 for r in records if start <= r["answered"] < stop and r["answer"] in SERVED)
    return round(n / (stop - start), 1)


def figure_table(rows_):
    """The figures of several fault records, a line per fault name: count, worst unavailability
    min/median/max, the longest gap, retryable answers' median, throughput before/after
    (medians)."""
    by_fault = collections.defaultdict(list)
    for r in rows_:
        by_fault[r["fault"]].append(r)
    lines = [f"{'fault':<16} {'n':>3} {'unavailable s min/med/max':>26} {'gap s max':>9} {'retryable':>9} "
             f"{'payouts/s before':>16} {'after':>6}"]

    def med(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else float("nan")
    for fault in FaultDriver.FAULTS:
        rs = by_fault.get(fault)
        if not rs:
            continue
        worst = [r["worst_s"] for r in rs]
        lines.append(f"{fault:<16} {len(rs):>3} {min(worst):>8.1f} {med(worst):>8.1f} {max(worst):>8.1f} "
                     f"{max(r['worst_gap_s'] for r in rs):>9.1f} {med(r['retryable'] for r in rs):>9.0f} "
                     f"{med(r['before_per_s'] for r in rs):>16.1f} {med(r['after_per_s'] for r in rs):>6.1f}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The checker

class Checker:
    """What the database of `run` holds, against what `recorder` says every node answered. check()
    returns the violations (empty: none), each with the offending id's whole recorded history."""

    def __init__(self, run, recorder, load):
        self.run, self.recorder, self.load = run, recorder, load
        self.url = run.url
        self.violations = []
        self.history = {}
        self.moved = collections.Counter()
        self.totals = {}

    def check(self, settle_s=120):
        self.history = self.recorder.by_id()
        self._check_nodes()
        self._settle(settle_s)
        self._check_ids()
        self._check_counters()
        code, out = self.run.audit()
        if code != 0:
            self.violations.append(f"payoutd audit exited with {code}:\n{out}")
        return self.violations

    def _violate(self, txn, what, row=None, transfers=()):
        text = f"{txn}: {what}\n  recorded:\n{history_text(self.history.get(txn, []))}"
        if row is not None:
            text += f"\n  payout row: {json.dumps(row, sort_keys=True)}"
        for t in transfers:
            text += f"\n  transfer: {json.dumps(t, sort_keys=True)}"
        self.violations.append(text)

    def _check_nodes(self):
        for name, code in self.run.dead_nodes().items():
            self.violations.append(f"node {name} exited during the load (code {code}):\n"
                                   f"{self.run.nodes[name].log_tail(40)}")
        for r in self.recorder.records:
            if r["answer"] == "unexpected":
                self._violate(r["id"], f"unexpected answer #{r['seq']}: HTTP {r['http']} {r['detail']}")

    def _settle(self, settle_s):
        """Waits (at most settle_s) until no payout of the load is PROCESSING; what still is after
        that is a violation."""
        deadline = time.monotonic() + settle_s
        sql = f"SELECT partner_id FROM payouts WHERE status = 0 AND partner_id LIKE '{self.load.prefix}-%'"
        while True:
            pending = [r["partner_id"] for r in rows(self.url, sql)]
            if not pending or time.monotonic() > deadline:
                break
            time.sleep(1)
        for txn in pending:
            self._violate(txn, f"still PROCESSING {settle_s} s after the load")

    def _check_ids(self):
        payouts = rows(self.url, f"""
            SELECT p.id, p.tenant, p.kind, p.partner_id, p.status, p.decline_code, p.amount,
                   p.pending_transfer_id, d.code AS destination
            FROM payouts p JOIN accounts d ON d.id = p.destination_account_id
            WHERE p.partner_id LIKE '{self.load.prefix}-%'""")
        transfers = rows(self.url, f"""
            SELECT id, kind, amount, reference, pending_id, debit_account_id, credit_account_id
            FROM transfers WHERE reference LIKE '%:{self.load.prefix}-%'""")
        by_reference = collections.defaultdict(list)
        for t in transfers:
            by_reference[t["reference"]].append(t)
        by_id = collections.defaultdict(list)
        for p in payouts:
            by_id[p["partner_id"]].append(p)
        moved = collections.Counter()  # (kind, destination) -> minor units paid
        for txn in sorted(set(by_id) - set(self.history)):
            self._violate(txn, "a payout nobody asked for", by_id[txn][0])
        for txn, records in sorted(self.history.items()):
            kind, args = self.load.bodies[txn]
            found = [p for p in by_id.get(txn, []) if p["kind"] == KIND[kind]]
            answers = {r["answer"] for r in records}
            finals = answers & set(FINAL)
            if len(finals) > 1:
                self._violate(txn, f"two different final answers {sorted(finals)}", found[0] if found else None)
            if len(found) > 1:
                self._violate(txn, f"{len(found)} payout rows", found[0])
                continue
            if not found:
                if answers & set(SERVED):
                    self._violate(txn, "answered, and not in the database")
                continue
            p = found[0]
            owned = sorted(by_reference.pop(f"{p['kind']}:{p['tenant']}:{txn}", []), key=lambda t: t["kind"])
            status = PAYOUT_STATUS[p["status"]]
            if finals and status not in finals:
                self._violate(txn, f"answered {sorted(finals)}, {status} in the database", p, owned)
            amount = int(Decimal(args[1]) * 100) if kind == "qiwi" else args[1]
            if p["amount"] != amount:
                self._violate(txn, f"amount {p['amount']} in the database, {amount} asked", p, owned)
            if kind == "qiwi" and p["destination"] != WALLETS[args[0]]:
                self._violate(txn, f"paid to {p['destination']}, asked for {args[0]}", p, owned)
            kinds = [t["kind"] for t in owned]
            expected = {"SUCCESS": ([TRANSFER_SINGLE], [TRANSFER_PENDING, TRANSFER_POST]),
                        "DECLINED": ([], [TRANSFER_PENDING, TRANSFER_VOID]),
                        "PROCESSING": ([], [TRANSFER_PENDING])}[status]
            if kinds not in expected or any(t["amount"] != p["amount"] for t in owned):
                self._violate(txn, f"{status} with transfers of kinds {kinds}", p, owned)
            elif status == "SUCCESS":
                moved[(kind, p["destination"] if kind == "qiwi" else "")] += p["amount"]
        for reference, ts in sorted(by_reference.items()):
            self._violate(reference.rsplit(":", 1)[1], f"transfers of {reference}, which is no payout",
                          transfers=ts)
        self.moved = moved
        self.totals = {"requests": len(self.recorder.records), "ids": len(self.history),
                       "payouts": len(payouts),
                       "succeeded": sum(1 for p in payouts if p["status"] == 1),
                       "declined": sum(1 for p in payouts if p["status"] == 2),
                       "answers": dict(collections.Counter(r["answer"] for r in self.recorder.records))}

    def _check_counters(self):
        """Every account's four counters equal the sums of its transfers; the wallets' credits,
        the bonus funder's and the transit account's debits equal the successful payouts."""
        accounts = rows(self.url, f"""
            WITH resolved AS (SELECT pending_id FROM transfers WHERE pending_id IS NOT NULL),
                 posting AS (
                   SELECT debit_account_id AS account, -1 AS side, kind, amount, id FROM transfers
                   UNION ALL
                   SELECT credit_account_id, 1, kind, amount, id FROM transfers)
            SELECT a.id, a.tenant, a.code, a.kind,
                   a.debits_posted, a.debits_pending, a.credits_posted, a.credits_pending,
                   coalesce(sum(p.amount) FILTER (WHERE p.side < 0 AND p.kind IN
                     ({TRANSFER_SINGLE}, {TRANSFER_POST})), 0) AS sum_debits_posted,
                   coalesce(sum(p.amount) FILTER (WHERE p.side < 0 AND p.kind = {TRANSFER_PENDING}
                     AND p.id NOT IN (SELECT pending_id FROM resolved)), 0) AS sum_debits_pending,
                   coalesce(sum(p.amount) FILTER (WHERE p.side > 0 AND p.kind IN
                     ({TRANSFER_SINGLE}, {TRANSFER_POST})), 0) AS sum_credits_posted,
                   coalesce(sum(p.amount) FILTER (WHERE p.side > 0 AND p.kind = {TRANSFER_PENDING}
                     AND p.id NOT IN (SELECT pending_id FROM resolved)), 0) AS sum_credits_pending
            FROM accounts a LEFT JOIN posting p ON p.account = a.id
            GROUP BY a.id""")
        for a in accounts:
            for counter in ("debits_posted", "debits_pending", "credits_posted", "credits_pending"):
                if a[counter] != a["sum_" + counter]:
                    self.violations.append(f"account {a['tenant']} {a['code']}: {counter} {a[counter]}, "
                                           f"its transfers sum to {a['sum_' + counter]}")
        by_code = {(a["tenant"].split(":")[0], a["code"]): a for a in accounts}
        expected = [(("qiwi", w), "credits_posted", self.moved[("qiwi", w)]) for w in WALLETS.values()]
        expected.append((("qiwi", BONUS), "debits_posted", sum(v for (k, _), v in self.moved.items() if k == "qiwi")))
        expected.append((("bereke", "transit"), "debits_posted", self.moved[("card", "")]))
        for key, counter, value in expected:
            a = by_code.get(key)
            if a is None:
                self.violations.append(f"no account {key} in the database")
            elif a[counter] != value:
                self.violations.append(f"account {key}: {counter} {a[counter]}, the successful payouts "
                                       f"recorded sum to {value}")
