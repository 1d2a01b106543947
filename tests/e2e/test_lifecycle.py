"""Process life cycle: health, orderly shutdown under load, command-line overrides, restarts."""
import os
import re
import sys
import unittest
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ALL_CLIENTS, free_port, BLOCKED_CLIENT, BONUS, CASHBACK, CLIENTS, PROCESSING_CLIENT,  # noqa: E402
                     SANDBOX_FUNDER_BALANCE, Api, IsolatedServerTestCase, PayoutLoad, check_load_outcome,
                     load_config)


class LifecycleTest(IsolatedServerTestCase):

    def test_healthz(self):
        r = self.api.request("GET", "/healthz", auth=None)
        self.assertEqual(r.status, 200, r.raw)
        r = self.api.request("GET", "/healthz")  # a token does not hurt
        self.assertEqual(r.status, 200, r.raw)

    def test_fresh_sandbox_is_provisioned_and_audits_clean(self):
        for funder, balance in SANDBOX_FUNDER_BALANCE.items():
            with self.subTest(funder=funder):
                got = self.api.funder(funder)
                self.assertEqual(got["funderId"], funder)
                self.assertEqual(got["currency"], "RUB")
                self.assertMoney(got["balance"], f"{balance:.2f}")
                self.assertMoney(got["reserved"], "0.00")
                self.assertIsInstance(got["displayName"], str)
        for client, account in ALL_CLIENTS.items():
            with self.subTest(client=client):
                got = self.api.client(client)
                self.assertEqual((got["clientId"], got["accountId"], got["currency"]), (client, account, "RUB"))
                self.assertMoney(got["balance"], "0.00")
                self.assertMoney(got["incoming"], "0.00")
                self.assertEqual(self.api.history_all(account), [])
        statuses = {c: self.api.client(c)["status"] for c in CLIENTS}
        self.assertEqual(len(set(statuses.values())), 1, statuses)
        self.assertNotEqual(self.api.client(BLOCKED_CLIENT)["status"], next(iter(statuses.values())))
        self.assertAuditClean()  # while serving
        self.assertEqual(self.server.stop(check=False), 0)
        self.assertAuditClean()  # stopped
        # a second start on the same data dir does not provision again
        self.server.start()
        self.assertMoney(self.api.funder(CASHBACK)["balance"], "1000.00")
        self.assertMoney(self.api.funder(BONUS)["balance"], "1000000000.00")

    def test_sigterm_with_requests_in_flight(self):
        clients = list(CLIENTS)[:3]
        b0 = self.api.funder_balance(BONUS)
        c0 = {c: self.api.client_balance(c) for c in clients}
        load = PayoutLoad(self.server, BONUS, clients, value="2.00", threads=6, prefix="term").start()
        try:
            self.assertTrue(load.wait_acked(30), "no payouts acknowledged under load")
            rc = self.server.stop(check=False)
        finally:
            load.stop()
        self.assertEqual(rc, 0, "SIGTERM with requests in flight must drain and exit 0")
        self.assertEqual(load.unexpected, [])
        self.server.start()
        check_load_outcome(self, self.api, load, b0, c0)
        self.assertAuditClean()

    def test_listen_and_data_dir_override_the_config(self):
        # Two servers at once, each on its own --listen and --data-dir: neither uses the
        # config's address or data directory, and they do not share state.
        port = free_port()
        other = self.new_server(start=False, listen=f"127.0.0.1:{port}")
        other.start()
        self.assertEqual(other.port, port, "--listen must override the config's address")
        configured = str(load_config().get("server", {}).get("listen", ""))
        m = re.search(r":(\d+)$", configured)
        if m and int(m.group(1)) != 0:
            self.assertNotEqual(self.server.port, int(m.group(1)))
        self.assertNotEqual(self.server.port, other.port)

        client = "sjrpngawef8770553957"
        self.assertEqual(self.api.payout("override-1", BONUS, client, "10.00").json["status"], "SUCCESS")
        other_api = Api(other)
        self.addCleanup(other_api.close)
        r = other_api.get_payout("override-1")
        self.assertEqual(r.status, 404, "the servers must not share a data directory")
        self.assertMoney(other_api.client(client)["balance"], "0.00")
        self.assertMoney(self.api.client(client)["balance"], "10.00")
        for server in (self.server, other):
            self.assertTrue(os.listdir(server.data_dir), f"nothing written to --data-dir {server.data_dir}")
            # the working directory (the temp dir) holds only the harness's logs and data dir
            stray = [f for f in os.listdir(server.tmp) if f not in ("data", "config.toml") and not f.endswith(".log")]
            self.assertEqual(stray, [], f"payoutd wrote outside --data-dir: {stray}")

    def test_restart_preserves_balances_and_history(self):
        clients = {c: a for c, a in list(CLIENTS.items())[:3]}
        clients[BLOCKED_CLIENT] = ALL_CLIENTS[BLOCKED_CLIENT]
        txns = []
        for n, client in enumerate(list(clients) * 3):
            txn = f"restart-{n}"
            r = self.api.payout(txn, CASHBACK if n % 4 == 0 else BONUS, client, f"{n + 1}.25")
            self.assertEqual(r.status, 200, r.raw)
            txns.append((txn, r.json))
        before = self.api.snapshot(clients=clients)
        cursor = self.api.history(clients["sjrpngawef8770553957"], limit=200).json["cursor"]

        self.assertEqual(self.server.stop(check=False), 0)
        self.server.start()
        self.assertEqual(self.api.snapshot(clients=clients), before)
        for txn, body in txns:
            self.assertEqual(self.api.get_payout(txn).json, body, txn)
        # new operations come after the cursors handed out before the restart
        self.assertEqual(self.api.payout("restart-after", BONUS, "sjrpngawef8770553957", "1.00").status, 200)
        page = self.api.history(clients["sjrpngawef8770553957"], limit=200, cursor=cursor).json
        self.assertEqual([i["commonTxnInfo"]["domainTxnId"] for i in page["txnList"]], ["restart-after"])
        # a kill -9 preserves them as well
        before = self.api.snapshot(clients=clients)
        self.server.kill9()
        self.server.start()
        self.assertEqual(self.api.snapshot(clients=clients), before)
        self.assertAuditClean()

    def test_processing_payout_resumes_after_kill9(self):
        b0 = self.api.funder_balance(BONUS)
        c0 = self.api.client_balance(PROCESSING_CLIENT)
        r = self.api.payout("resume-1", BONUS, PROCESSING_CLIENT, "6.00")
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.json["status"], "PROCESSING")
        self.server.kill9()
        self.server.start()
        self.assertEqual(self.wait_final("resume-1")["status"], "SUCCESS")
        self.assertEqual(b0 - self.api.funder_balance(BONUS), Decimal("6.00"))
        self.assertEqual(self.api.client_balance(PROCESSING_CLIENT) - c0, Decimal("6.00"))
        self.assertMoney(self.api.funder(BONUS)["reserved"], "0.00")
        self.assertAuditClean()

    def test_processing_payout_survives_sigterm(self):
        r = self.api.payout("resume-2", BONUS, PROCESSING_CLIENT, "7.00")
        self.assertEqual(r.json["status"], "PROCESSING")
        self.assertEqual(self.server.stop(check=False), 0)
        self.server.start()
        self.assertEqual(self.wait_final("resume-2")["status"], "SUCCESS")
        self.assertMoney(self.api.client(PROCESSING_CLIENT)["balance"], "7.00")
        self.assertAuditClean()


if __name__ == "__main__":
    unittest.main()
