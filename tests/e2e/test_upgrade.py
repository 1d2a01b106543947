"""A database written by the previous release (schema version 1) upgrades in place, up to the
newest version (9: the indexes of a funding account's statements, built over the old transfers).

data/sqlite-schema-v1.sql is the dump of a sandbox database made by the release before schema
version 2 (see data/README.md): payouts that succeeded, were declined, settled after
PROCESSING, one still PROCESSING when that server was killed, and wallet operations.
"""
import os
import sqlite3
import subprocess
import sys
import unittest
from datetime import datetime, timedelta, timezone
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ADMIN_TOKEN, BONUS, Api, IsolatedServerTestCase, money  # noqa: E402

DUMP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "sqlite-schema-v1.sql")
CLIENT, ACCOUNT = "sjrpngawef8770553957", "bwfefjwtfl3624831470"


class UpgradeTest(IsolatedServerTestCase):

    def setUp(self):
        # The server of this test is made stopped, on a data directory holding the old database.
        self.server = self.new_server(start=False, backend="sqlite")
        self.db = os.path.join(self.server.data_dir, "payoutd.db")
        with open(DUMP, encoding="utf-8") as f, sqlite3.connect(self.db) as db:
            db.executescript(f.read())
        with sqlite3.connect(self.db) as db:
            self.old_history = [r[0] for r in db.execute(
                "SELECT txn_history_id FROM (SELECT h.seq AS seq, h.txn_history_id FROM history h JOIN accounts a "
                "ON a.id = h.account_id WHERE a.code = ? UNION ALL SELECT p.history_seq, p.history_id FROM "
                "payouts p JOIN accounts a ON a.id = p.history_account_id WHERE a.code = ?) ORDER BY seq",
                (ACCOUNT, ACCOUNT))]
            self.old_balances = {code: Decimal(balance) / 100 for code, balance in db.execute(
                "SELECT code, credits_posted - debits_posted FROM accounts WHERE kind IN (1, 2)")}
            self.assertEqual(db.execute("SELECT value FROM meta WHERE key = 'schema_version'")
                             .fetchone()[0], "1")
        self.api = Api(self.server)
        self.addCleanup(self.api.close)

    def payoutd(self, *args):
        p = subprocess.run([str(self.server.binary), *args, "--config", str(self.server.config),
                            "--data-dir", self.server.data_dir],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        return p.returncode, p.stdout.decode(errors="replace")

    def schema_version(self):
        with sqlite3.connect(self.db) as db:
            return db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]

    def test_migrate_then_serve_keeps_every_payout_balance_and_history_entry(self):
        rc, out = self.payoutd("migrate")
        self.assertEqual(rc, 0, out)
        self.assertIn("schema version 10", out)
        self.assertEqual(self.schema_version(), "10")
        rc, out = self.payoutd("migrate")  # nothing left to do
        self.assertEqual(rc, 0, out)
        self.assertAuditClean()
        self.server.start()

        # The payout the old server left PROCESSING (2.00 reserved, long overdue) is settled by
        # the new one at start-up, once.
        self.assertEqual(self.wait_final("v1-left-processing")["status"], "SUCCESS")
        self.assertEqual(self.api.funder_balance(BONUS), self.old_balances[BONUS] - Decimal("2.00"))
        self.assertEqual(self.api.client_balance(CLIENT), self.old_balances[ACCOUNT])
        r = self.api.get_payout("v1-success")
        self.assertEqual((r.status, r.json["status"]), (200, "SUCCESS"), r.raw)
        self.assertEqual(r.json["transactionAmount"]["value"], Decimal("100.50"))
        self.assertEqual(self.api.get_payout("v1-declined").json["declineReason"]["code"],
                         "CLIENT_ACCOUNT_BLOCKED")
        # A replay of an old payout is answered from its record: no second debit.
        replay = self.api.payout("v1-success", BONUS, CLIENT, "100.50")
        self.assertEqual(replay.json, r.json)
        self.assertError(self.api.payout("v1-success", BONUS, CLIENT, "100.51"), 409,
                         "transaction.id.conflict")
        # The history reads as before, ids and order, and old cursors still work.
        items = self.api.history_all(ACCOUNT, limit=2)
        self.assertEqual([i["commonTxnInfo"]["txnHistoryId"] for i in items], self.old_history)
        page = self.api.history(ACCOUNT, limit=5, cursor=self.old_history[0]).json["txnList"]
        self.assertEqual([i["commonTxnInfo"]["txnHistoryId"] for i in page], self.old_history[1:])
        self.assertEqual(self.api.funder_balance(BONUS), self.old_balances[BONUS] - Decimal("2.00"))
        # New payouts go on where the old ones stopped.
        new = self.api.payout("after-upgrade", BONUS, CLIENT, "1.00")
        self.assertEqual(new.json["status"], "SUCCESS", new.raw)
        self.assertEqual(self.api.history_all(ACCOUNT)[-1]["commonTxnInfo"]["domainTxnId"],
                         "after-upgrade")
        self.assertAuditClean()
        self.check_statements_span_the_upgrade()

    def check_statements_span_the_upgrade(self):
        """Version 9 indexed the old transfers: the funder's statements, from the old database's
        first day to today, chain from 0 to its balance and hold the old payouts."""
        with sqlite3.connect(self.db) as db:
            first_ms = db.execute("SELECT min(timestamp_ms) FROM transfers").fetchone()[0]
        zone = timezone(timedelta(hours=3))
        day = datetime.fromtimestamp(first_ms / 1000, zone).date()
        closing, partner_ids = Decimal("0"), []
        while day <= datetime.now(zone).date():
            r = self.api.request("GET", f"/admin/v1/tenants/qiwi:best-partner/funders/{BONUS}/"
                                        f"statements/{day.isoformat()}", auth=ADMIN_TOKEN)
            self.assertEqual(r.status, 200, r.raw)
            self.assertEqual(money(r.json["opening"]), closing, day)
            closing = money(r.json["closing"])
            partner_ids += [line["partnerId"] for line in r.json["lines"]]
            day += timedelta(days=1)
        self.assertEqual(closing, self.api.funder_balance(BONUS))
        self.assertIn("v1-success", partner_ids)
        self.assertIn("v1-left-processing", partner_ids)
        self.assertIn("after-upgrade", partner_ids)

    def test_serve_migrates_by_itself(self):
        self.server.start()
        self.assertEqual(self.schema_version(), "10")
        self.assertEqual(self.api.get_payout("v1-second").json["status"], "SUCCESS")
        self.assertAuditClean()

    def test_a_database_newer_than_this_build_is_refused_and_left_alone(self):
        with sqlite3.connect(self.db) as db:
            db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
        for command in ("migrate", "serve"):
            rc, out = self.payoutd(command)
            self.assertEqual(rc, 1, out)
            self.assertIn("schema version 99 is newer than this payoutd", out)
        self.assertEqual(self.schema_version(), "99")


if __name__ == "__main__":
    unittest.main()
