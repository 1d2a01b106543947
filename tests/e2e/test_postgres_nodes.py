"""Several payoutd nodes on one PostgreSQL database, and PostgreSQL going away under load.

Every node is the real binary with --postgres-url; nodes of one test share a fresh database on
the run's cluster. The tests that stop or restart PostgreSQL start a cluster of their own.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ADMIN_TOKEN, BONUS, CARD_OK, CARD_SLOW_OK, CASHBACK, CLIENTS, CORPORATE_BALANCE,  # noqa: E402
                     CORPORATE_BINDING, PROCESSING_CLIENT, Api,
                     IsolatedServerTestCase, PayoutLoad, PgCluster, Server, check_load_outcome, outside_sandbox,
                     shared_cluster, unique)

from pki import Pki  # noqa: E402
from test_cabinet import BEREKE as BEREKE_LOGIN, Browser  # noqa: E402

C1, C2 = list(CLIENTS)[:2]


class NodesTestCase(IsolatedServerTestCase):
    """self.server is node A on a fresh database; node(url) makes more nodes on it."""

    def new_server(self, start=True, **kw):
        kw.setdefault("backend", "postgres")
        return super().new_server(start=start, **kw)

    def node(self, start=True):
        return self.new_server(start=start, postgres_url=self.server.postgres_url)

    def two_nodes(self):
        """Clients of node A (self.server) and of a new node B on its database."""
        apis = (Api(self.server), Api(self.node()))
        for api in apis:
            self.addCleanup(api.close)
        return apis

    def send_all(self, requests, threads=16):
        """(api, txn, funder, client, value) requests sent from a thread pool, released together."""
        barrier = threading.Barrier(threads)
        local = threading.local()

        def one(req):
            if not hasattr(local, "started"):
                local.started = True
                barrier.wait(30)
            api, *payout = req
            return api.payout(*payout)

        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(one, requests))


class TwoNodesTest(NodesTestCase):

    def test_card_payouts_over_two_nodes_move_money_once(self):
        api_a, api_b = self.two_nodes()
        n = 40
        amount = CORPORATE_BALANCE // n  # the corporate card affords exactly n of them
        orders = [unique(f"cn{i}") for i in range(3 * n)]

        def pay(args):
            api, order = args
            return api.perform(order, CARD_OK, amount=amount, source=CORPORATE_BINDING)
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(pay, [(api_a if i % 2 else api_b, o) for i, o in enumerate(orders)]))
        statuses = Counter()
        for order, r in zip(orders, answers):
            self.assertEqual(r.status, 200, f"{order}: {r.raw[:300]!r}")
            statuses[r.json["orderStatus"]] += 1
        self.assertEqual(statuses, Counter({"2": n, "6": 2 * n}))
        self.assertEqual(api_b.bereke_balance(CORPORATE_BINDING), CORPORATE_BALANCE - n * amount)
        # One order number sent to both nodes at once: one order, one debit.
        same = [unique("both") for _ in range(10)]
        transit = api_a.bereke_balance()
        with ThreadPoolExecutor(20) as pool:
            raced = list(pool.map(lambda a: a[0].perform(a[1], CARD_OK, amount=5),
                                  [(api, o) for o in same for api in (api_a, api_b)]))
        for order, pair in zip(same, zip(raced[::2], raced[1::2])):
            self.assertEqual({r.status for r in pair}, {200}, [r.raw for r in pair])
            self.assertEqual(len({r.json["orderId"] for r in pair}), 1, order)
            self.assertEqual(api_b.bereke_status(order).json["orderStatus"], "2")
        self.assertEqual(api_a.bereke_balance(), transit - 5 * len(same))
        self.assertAuditClean()

    def test_a_funder_that_affords_n_payouts_pays_exactly_n_over_two_nodes(self):
        api_a, api_b = self.two_nodes()
        n = 100  # the cashback funder holds 1000.00 on a fresh sandbox: 100 payouts of 10.00
        self.assertEqual(api_a.funder_balance(CASHBACK), Decimal("1000.00"))
        requests = [(api_a if i % 2 else api_b, unique(f"exact{i}"), CASHBACK, C1 if i % 3 else C2,
                     "10.00") for i in range(3 * n)]
        answers = self.send_all(requests)
        statuses = Counter()
        for (_, txn, *_), r in zip(requests, answers):
            self.assertEqual(r.status, 200, f"{txn}: {r.raw[:300]!r}")
            statuses[r.json["status"]] += 1
            if r.json["status"] == "DECLINED":
                self.assertEqual(r.json["declineReason"]["code"], "FUNDER_INSUFFICIENT_FUNDS", r.raw)
        self.assertEqual(statuses, Counter({"SUCCESS": n, "DECLINED": 2 * n}))
        self.assertEqual(api_b.funder_balance(CASHBACK), Decimal("0.00"))
        self.assertEqual(api_a.client_balance(C1) + api_a.client_balance(C2), Decimal("1000.00"))
        # Each node answers for every payout, whichever node made it.
        for (_, txn, *_), r in zip(requests[:20], answers[:20]):
            for api in (api_a, api_b):
                self.assertEqual(api.get_payout(txn).json["status"], r.json["status"], txn)
        self.assertAuditClean()

    def test_one_transaction_id_sent_to_both_nodes_at_once_moves_money_once(self):
        api_a, api_b = self.two_nodes()
        before = api_a.client_balance(C1)
        ids = [unique("twice") for _ in range(40)]
        requests = [(api, txn, BONUS, C1, "3.00") for txn in ids for api in (api_a, api_b)]
        answers = self.send_all(requests)
        by_id = {}
        for (_, txn, *_), r in zip(requests, answers):
            self.assertEqual(r.status, 200, f"{txn}: {r.raw[:300]!r}")
            self.assertEqual(r.json["status"], "SUCCESS", r.raw)
            # Both nodes tell the same story: the one payout, created once.
            by_id.setdefault(txn, r.json)
            self.assertEqual(by_id[txn], r.json, txn)
        self.assertEqual(api_b.client_balance(C1) - before, Decimal("3.00") * len(ids))
        history = [i["commonTxnInfo"]["domainTxnId"] for i in api_b.history_all(CLIENTS[C1])]
        self.assertEqual(sorted(t for t in history if t in set(ids)), sorted(ids))
        # The same id with another body is a conflict on either node.
        self.assertError(api_b.payout(ids[0], BONUS, C1, "3.01"), 409, "transaction.id.conflict")
        self.assertError(api_a.payout(ids[1], CASHBACK, C1, "3.00"), 409, "transaction.id.conflict")
        self.assertAuditClean()

    def test_a_card_payout_sent_again_to_the_other_node_is_answered_with_the_rails_answer(self):
        # The rail takes 2 s to answer, and the slow test card is answered "processing" first,
        # then final when its status is asked (a second later, 2 s more). Node B, which holds
        # the copy, learns of the first answer only from the database: it must answer with it
        # ("1"), not wait out waiter_timeout_ms (8 s), by which time the order is final ("2").
        slow = {"latency_ms = 100 ": "latency_ms = 2000 "}
        nodes = [self.new_server(postgres_url=self.server.postgres_url, config_replace=slow)
                 for _ in range(2)]
        api_a, api_b = (Api(n) for n in nodes)
        for api in (api_a, api_b):
            self.addCleanup(api.close)
        order = unique("copy")
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(api_a.perform, order, CARD_SLOW_OK, amount=700)
            time.sleep(0.5)  # node A has sent it and waits for the rail
            copy = pool.submit(api_b.perform, order, CARD_SLOW_OK, amount=700)
            answers = [first.result(), copy.result()]
        for r in answers:
            self.assertEqual(r.status, 200, r.raw)
            self.assertEqual(r.json["orderStatus"], "1", r.raw)
        self.assertEqual(answers[0].json["orderId"], answers[1].json["orderId"])
        self.assertAuditClean()

    def test_one_id_with_two_different_bodies_on_two_nodes_at_once_is_one_payout(self):
        # Disjoint accounts: nothing makes the two batches wait for each other but the unique
        # index on the id, and the node that loses it runs its batch again and sees the winner.
        api_a, api_b = self.two_nodes()
        before = {c: api_a.client_balance(c) for c in (C1, C2)}
        ids = [unique("race") for _ in range(30)]
        requests = [r for txn in ids for r in ((api_a, txn, BONUS, C1, "2.00"),
                                               (api_b, txn, CASHBACK, C2, "2.00"))]
        answers = self.send_all(requests)
        winners = Counter()
        for txn in ids:
            pair = [r for (_, t, *_), r in zip(requests, answers) if t == txn]
            self.assertEqual(sorted(r.status for r in pair), [200, 409], [r.raw for r in pair])
            won = next(r for r in pair if r.status == 200)
            self.assertEqual(won.json["status"], "SUCCESS", won.raw)
            self.assertEqual(next(r for r in pair if r.status == 409).json["errorCode"],
                             "transaction.id.conflict")
            winners[won.json["toClientId"]] += 1
            self.assertEqual(api_b.get_payout(txn).json, won.json)
        for c in (C1, C2):
            self.assertEqual(api_a.client_balance(c) - before[c], Decimal("2.00") * winners[c], c)
        conflicts = sum(api.request("GET", "/admin/v1/stats", auth=ADMIN_TOKEN).json["committer"]
                        ["conflicts"] for api in (api_a, api_b))
        sys.stderr.write(f"\n[nodes] {len(ids)} ids raced with two bodies: {conflicts} batch reruns\n")
        self.assertAuditClean()

    def test_an_account_held_by_a_stuck_session_fails_payouts_fast_and_changes_nothing(self):
        # A session that locked the funder and stalls (a frozen node, an operator's open
        # transaction): batches that need the funder give up after lock_timeout (5 s) with the
        # retryable error instead of queueing for ever; once it lets go, the retry pays once.
        before = self.api.client_balance(C1)
        holder = subprocess.Popen(
            ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", self.server.postgres_url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: holder.poll() is None and holder.kill())
        holder.stdin.write(b"BEGIN; SELECT id FROM accounts WHERE code = 'bonus-funder' FOR UPDATE;\n"
                           b"SELECT 'held';\n")
        holder.stdin.flush()
        lines = [holder.stdout.readline() for _ in range(2)]  # the funder's id, then "held"
        self.assertEqual(lines[1].strip(), b"held", lines)
        txn = unique("stuck")
        api = Api(self.server, keep_alive=False, timeout=60)
        self.assertError(api.payout(txn, BONUS, C1, "4.00"), 503, "service.unavailable")
        self.assertEqual(api.get_payout(txn).status, 404)
        holder.stdin.write(b"ROLLBACK;\n")
        holder.stdin.close()
        holder.wait(30)
        r = api.payout(txn, BONUS, C1, "4.00")
        self.assertEqual((r.status, r.json["status"]), (200, "SUCCESS"), r.raw)
        self.assertEqual(self.api.client_balance(C1) - before, Decimal("4.00"))
        self.assertAuditClean()

    def test_two_nodes_starting_at_once_on_an_empty_database_provision_it_once(self):
        url = shared_cluster().new_database()
        nodes = [self.new_server(start=False, postgres_url=url) for _ in range(2)]
        threads = [threading.Thread(target=n.start) for n in nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for n in nodes:
            self.assertTrue(n.running(), n.log_tail())
        api = Api(nodes[1])
        self.addCleanup(api.close)
        self.assertEqual(api.funder_balance(BONUS), Decimal("1000000000.00"))
        self.assertEqual(api.funder_balance(CASHBACK), Decimal("1000.00"))
        version = shared_cluster().psql("SELECT value FROM meta WHERE key = 'schema_version'", url)
        self.assertEqual(version.strip(), "10")
        self.assertAuditClean(nodes[0])

    def test_kill9_of_a_node_under_load_loses_nothing_acknowledged(self):
        b = self.node()
        clients = list(CLIENTS)[:4]
        b0 = self.api.funder_balance(BONUS)
        c0 = {c: self.api.client_balance(c) for c in clients}
        load = PayoutLoad([self.server, b], BONUS, clients, value="1.00", threads=8,
                          prefix="nodekill", pause=0.005)
        load.start()
        try:
            for _ in range(3):
                self.assertTrue(load.wait_acked(load.count() + 20), "no progress under load")
                self.server.kill9()  # node A dies mid-batch; B carries on
                self.assertTrue(load.wait_acked(load.count() + 20), "node B stopped too")
                self.server.start()
            self.assertTrue(load.wait_acked(load.count() + 20), "no progress after the restarts")
        finally:
            load.stop()
        self.assertEqual(load.unexpected, [])
        api_b = Api(b)
        self.addCleanup(api_b.close)
        existing = check_load_outcome(self, api_b, load, b0, c0)
        sys.stderr.write(f"\n[nodes] 3 kills of node A: {len(load.acked)} acknowledged, "
                         f"{len(existing) - len(load.acked)} of {len(load.unacked)} others exist\n")
        self.assertAuditClean()

    def test_a_processing_payout_of_a_killed_node_is_settled_by_the_other(self):
        b = self.node()
        txn = unique("orphan")
        r = self.api.payout(txn, BONUS, PROCESSING_CLIENT, "7.00")
        self.assertEqual(r.json["status"], "PROCESSING", r.raw)
        self.server.kill9()  # its settlement timer is gone with it
        api_b = Api(b)
        self.addCleanup(api_b.close)
        self.assertEqual(self.wait_final(txn, api=api_b, deadline_s=30)["status"], "SUCCESS")
        self.assertEqual(api_b.client(PROCESSING_CLIENT)["incoming"]["value"], Decimal("0.00"))
        self.server.start()  # resumes nothing twice: the payout is final
        time.sleep(0.5)
        self.assertAuditClean(b)


class DatabaseOutageTest(IsolatedServerTestCase):
    """PostgreSQL stopped, restarted or crashed under a node: fail fast, recover, lose nothing."""

    def setUp(self):
        self.cluster = PgCluster()
        self.addCleanup(self.cluster.close)
        super().setUp()

    def new_server(self, start=True, **kw):
        if "postgres_url" not in kw:
            kw["postgres_url"] = self.cluster.new_database()
        return super().new_server(start=start, **kw)

    def test_requests_fail_fast_while_the_database_is_down_and_the_node_recovers(self):
        before = self.api.client_balance(C1)
        self.cluster.halt()
        txn = unique("down")
        api = Api(self.server, keep_alive=False, timeout=20)
        for attempt in range(3):
            r = api.payout(txn, BONUS, C1, "5.00")
            self.assertError(r, 503, "service.unavailable", msg=f"payout attempt {attempt}")
        self.assertError(api.get_payout(txn), 503, "service.unavailable")
        self.assertError(api.history(CLIENTS[C1]), 503, "service.unavailable")
        self.assertEqual(api.request("GET", "/healthz", auth=None).status, 200)
        self.cluster.resume()
        # The node reconnects by itself; the retried request pays once.
        deadline = time.monotonic() + 30
        while True:
            r = api.payout(txn, BONUS, C1, "5.00")
            if r.status == 200 or time.monotonic() > deadline:
                break
            self.assertError(r, 503, "service.unavailable")
            time.sleep(0.2)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.json["status"], "SUCCESS")
        self.assertEqual(api.payout(txn, BONUS, C1, "5.00").json, r.json)
        self.assertEqual(self.api.client_balance(C1) - before, Decimal("5.00"))
        self.assertAuditClean()

    def test_each_dialect_answers_a_read_during_the_outage_with_its_own_temporary_error(self):
        browser = Browser(self.server)
        browser.login(*BEREKE_LOGIN)
        before = browser.get("/cabinet")
        self.assertEqual(before[0], 200, before[2])
        self.cluster.halt()
        api = Api(self.server, keep_alive=False, timeout=20)
        self.addCleanup(api.close)
        # QIWI: its own envelope, of the service asked (payoutd's own serviceName is for bugs only).
        self.assertError(api.get_payout(unique("down")), 503, "service.unavailable",
                         service="payoutd-payments")
        self.assertError(api.history(CLIENTS[C1]), 503, "service.unavailable",
                         service="payoutd-reports")
        # The admin API: its envelope.
        self.assertError(api.admin("GET", f"/funders/{BONUS}"), 503, "service.unavailable",
                         service="payoutd-admin")
        # Bereke: the gateway's own timeout row, for its API's reads...
        for r in (api.bereke_status(order_number="down-1"), api.bereke("getAmount.do", {})):
            self.assertEqual(r.status, 504, r.raw)
            self.assertEqual(r.json, {"errorCode": "91",
                                      "errorMessage": "Timeout when requesting payout-store"}, r.raw)
        # ...and its hosted page's own answer, as ecommpay's Payment Page's.
        order = "0" * 8 + "-0000-4000-8000-" + "0" * 12
        for path in (f"/payouts/payment/payment_en.html?mdOrder={order}",
                     f"/payment/result?uuid={order}&lang=en"):
            r = api.request("GET", path, auth=None)
            self.assertEqual(r.status, 503, f"{path}: {r.raw[:300]!r}")
            self.assertIn(b"Service unavailable, retry", r.raw, path)
        # The cabinet: its own page, for a signed-in partner (not a sign-in form, not a JSON body).
        status, headers, page = browser.get("/cabinet")
        self.assertEqual(status, 503, page)
        self.assertTrue(headers["content-type"].startswith("text/html"), headers)
        self.assertIn("The cabinet is unavailable for a moment", page)
        self.cluster.resume()
        deadline = time.monotonic() + 30
        while browser.get("/cabinet")[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(browser.get("/cabinet")[0], 200)  # the same session, once reads return

    def test_postgres_restart_and_crash_under_load_lose_nothing_acknowledged(self):
        clients = list(CLIENTS)[:4]
        b0 = self.api.funder_balance(BONUS)
        c0 = {c: self.api.client_balance(c) for c in clients}
        load = PayoutLoad(self.server, BONUS, clients, value="1.00", threads=8, prefix="pgdown",
                          pause=0.005)
        load.start()
        try:
            for mode in ("fast", "immediate", "immediate"):
                self.assertTrue(load.wait_acked(load.count() + 20), f"no progress before {mode}")
                self.cluster.restart(mode)
            self.assertTrue(load.wait_acked(load.count() + 50, deadline_s=30),
                            "the node did not recover after the database came back")
        finally:
            load.stop()
        self.assertEqual(load.unexpected, [])
        existing = check_load_outcome(self, self.api, load, b0, c0)
        sys.stderr.write(f"\n[outage] 3 database restarts: {len(load.acked)} acknowledged, "
                         f"{len(existing) - len(load.acked)} of {len(load.unacked)} others exist\n")
        self.assertAuditClean()
        self.assertEqual(self.server.stop(check=False), 0)

    def test_a_node_started_before_the_database_waits_for_it(self):
        url = self.cluster.new_database()
        self.cluster.halt()
        node = self.new_server(start=False, postgres_url=url)
        starter = threading.Thread(target=node.start)
        starter.start()
        time.sleep(1.5)
        self.cluster.resume()
        starter.join(60)
        self.assertTrue(node.running(), node.log_tail())
        self.assertEqual(Api(node).funder_balance(CASHBACK), Decimal("1000.00"))


class MigrateTest(unittest.TestCase):

    def test_migrate_brings_an_empty_database_to_the_newest_schema_and_is_repeatable(self):
        server = Server(backend="postgres")
        self.addCleanup(server.close)
        for _ in range(2):
            p = subprocess.run([str(server.binary), "migrate", "--config", str(server.config),
                                "--postgres-url", server.postgres_url],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout)
            self.assertIn(b"schema version 10", p.stdout)

    def test_migrate_refuses_an_unreachable_database_with_a_clear_message(self):
        server = Server(backend="sqlite")
        self.addCleanup(server.close)
        p = subprocess.run([str(server.binary), "migrate", "--config", str(server.config),
                            "--postgres-url",
                            "postgresql://payoutd@127.0.0.1:1/none"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"cannot connect to PostgreSQL", p.stdout)

    def test_outside_the_sandbox_a_database_on_another_machine_needs_verified_tls(self):
        server = Server(backend="sqlite", config_replace=outside_sandbox())
        self.addCleanup(server.close)
        for command in ("serve", "migrate", "audit"):
            p = subprocess.run([str(server.binary), command, "--config", str(server.config),
                                "--data-dir", server.data_dir, "--postgres-url",
                                "postgresql://payoutd:s3cret@db.example.test/payoutd"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
            self.assertNotEqual(p.returncode, 0, command)
            self.assertIn(b"sslmode=verify-full", p.stdout, command)
            self.assertNotIn(b"s3cret", p.stdout, command)


class TlsToPostgresTest(unittest.TestCase):
    """A node on a PostgreSQL server that speaks TLS, with sslmode=verify-full: what a URL to
    another machine must say outside the sandbox (docs/deploy.md, "TLS to PostgreSQL")."""

    def setUp(self):
        directory = tempfile.mkdtemp(prefix="payoutd-e2e-pg-tls-")
        self.addCleanup(shutil.rmtree, directory, True)
        tls = os.path.join(directory, "tls")
        self.pki = Pki(tls)
        chain, key = self.pki.server_cert("postgres")
        if os.getuid() == 0:  # the server runs as postgres, and takes only a key of its own
            subprocess.run(["chown", "-R", "postgres:", directory], check=True)
        os.chmod(key, 0o600)
        self.cluster = PgCluster(directory=directory,
                                 options=("ssl = on", f"ssl_cert_file = '{chain}'", f"ssl_key_file = '{key}'"))
        self.addCleanup(self.cluster.close)

    def test_a_node_pays_over_tls_with_the_servers_certificate_and_name_verified(self):
        url = self.cluster.new_database()
        database = url.rsplit("/", 1)[1]
        server = Server(backend="postgres",
                        postgres_url=f"{url}?sslmode=verify-full&sslrootcert={self.pki.ca_cert}")
        self.addCleanup(server.close)
        server.start()
        api = Api(server)
        self.addCleanup(api.close)
        txn = unique("tls")
        self.assertEqual(api.payout(txn, BONUS, C1, "1.00").json["status"], "SUCCESS")
        self.assertEqual(api.get_payout(txn).json["status"], "SUCCESS")
        sessions = self.cluster.psql(
            "SELECT s.ssl, count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
            f"WHERE a.datname = '{database}' GROUP BY s.ssl")
        self.assertRegex(sessions.strip(), r"^t\|\d+$", "every session of the node is TLS")
        server.stop(check=True)
        # A server whose certificate another CA issued is refused.
        other = Pki(os.path.join(self.cluster.dir, "other"), ca_name="another CA")
        p = subprocess.run([str(server.binary), "migrate", "--config", str(server.config), "--postgres-url",
                            f"{url}?sslmode=verify-full&sslrootcert={other.ca_cert}"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"certificate verify failed", p.stdout)


if __name__ == "__main__":
    unittest.main()
