"""kill -9 under load loses nothing acknowledged and never moves money twice; audit sees tampering."""
import glob
import os
import random
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BONUS, CLIENTS, IsolatedServerTestCase, PayoutLoad, Server,  # noqa: E402
                     check_load_outcome)

KILLS = 4


class CrashTest(IsolatedServerTestCase):

    def test_kill9_under_load(self):
        seed = int(os.environ.get("PAYOUTD_E2E_SEED") or time.time_ns() % 1_000_000)
        rng = random.Random(seed)
        why = f"(PAYOUTD_E2E_SEED={seed})"
        clients = list(CLIENTS)[:4]
        b0 = self.api.funder_balance(BONUS)
        c0 = {c: self.api.client_balance(c) for c in clients}
        load = PayoutLoad(self.server, BONUS, clients, value="1.00", threads=8, prefix="crash", pause=0.01)
        load.start()
        try:
            for kill in range(KILLS):
                self.assertTrue(load.wait_acked(load.count() + 5), f"no progress before kill {kill} {why}")
                time.sleep(rng.uniform(0.0, 0.8))
                self.server.kill9()
                self.server.start()
            self.assertTrue(load.wait_acked(load.count() + 20), f"no progress after the last restart {why}")
        finally:
            load.stop()
        self.assertEqual(load.unexpected, [], why)
        self.assertGreater(len(load.acked), 0)

        existing = check_load_outcome(self, self.api, load, b0, c0)
        sys.stderr.write(f"\n[crash] {KILLS} kills {why}: {len(load.acked)} acknowledged, "
                         f"{len(load.unacked)} unacknowledged of which {len(existing) - len(load.acked)} exist\n")

        # Retrying every unacknowledged id with the same body never debits twice: each ends
        # SUCCESS, and the ledger then holds exactly acked + unacked payouts.
        for txn, client in load.unacked.items():
            r = self.api.payout(txn, BONUS, client, "1.00")
            self.assertEqual(r.status, 200, f"{txn}: {r.raw[:200]!r} {why}")
            self.assertEqual(r.json["status"], "SUCCESS", txn)
        load.acked.update(load.unacked)
        load.unacked.clear()
        existing = check_load_outcome(self, self.api, load, b0, c0)
        self.assertEqual(len(existing), len(load.acked))
        self.assertAuditClean()
        self.assertEqual(self.server.stop(check=False), 0, "SIGTERM after the crashes must exit 0")
        rc, out = self.server.run_audit()
        self.assertEqual(rc, 0, f"audit of the stopped data dir:\n{out}")

    def test_audit_detects_a_tampered_balance(self):
        client = "sjrpngawef8770553957"
        account = CLIENTS[client]
        self.assertEqual(self.api.payout("tamper-1", BONUS, client, "5.00").json["status"], "SUCCESS")
        self.assertEqual(self.server.stop(check=False), 0)
        rc, out = self.server.run_audit()
        self.assertEqual(rc, 0, f"audit before tampering:\n{out}")

        found = find_balance_column(self.server.data_dir, account)
        if isinstance(found, str):
            self.skipTest(found)
        path, table, column, key_column = found
        with sqlite3.connect(path) as db:
            cur = db.execute(f'UPDATE "{table}" SET "{column}" = "{column}" + 777 WHERE "{key_column}" = ?',
                             (account,))
            self.assertEqual(cur.rowcount, 1, f"{table}.{column} of {account}")
        db.close()

        rc, out = self.server.run_audit()
        self.assertNotEqual(rc, 0, f"audit missed {table}.{column} + 777 of {account}:\n{out}")
        self.assertTrue(out.strip(), "audit must name the violation")
        mentions = (account, column, table, "balance", "counter", "mismatch")
        self.assertTrue(any(m.lower() in out.lower() for m in mentions),
                        f"audit output does not name the violation ({mentions}):\n{out}")


def find_balance_column(data_dir, account):
    """(db path, table, balance-like column, column holding the accountId) of the wallet's row,
    or a string saying why none was found."""
    paths = [p for ext in ("db", "sqlite", "sqlite3") for p in
             glob.glob(os.path.join(data_dir, "**", f"*.{ext}"), recursive=True)]
    if not paths:
        return f"no *.db / *.sqlite file under {data_dir}: cannot tamper with the store"
    preferred = ("balance", "credits_posted", "posted", "credit")
    for path in sorted(paths):
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        except sqlite3.Error:
            continue
        try:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in sorted(tables, key=lambda t: ("account" not in t.lower(), t)):
                cols = [(r[1], (r[2] or "").upper()) for r in db.execute(f'PRAGMA table_info("{table}")')]
                numeric = [c for c, t in cols if "INT" in t or "NUM" in t or "DEC" in t or "REAL" in t]
                balance = next((c for p in preferred for c in numeric if p in c.lower()), None)
                if balance is None:
                    continue
                for key, ctype in cols:
                    if "CHAR" in ctype or "TEXT" in ctype or ctype == "":
                        n = db.execute(f'SELECT count(*) FROM "{table}" WHERE "{key}" = ?', (account,)).fetchone()[0]
                        if n == 1:
                            return path, table, balance, key
        except sqlite3.Error:
            continue
        finally:
            db.close()
    return f"found {paths} but no table with a balance-like column and a row for {account}"



class AuditWhileServingTest(unittest.TestCase):
    """`payoutd audit` in another process, again and again while payouts commit and checkpoints
    run, always reads one consistent ledger."""

    def test_audit_under_load_is_always_clean(self):
        server = Server()
        try:
            server.start()
            load = PayoutLoad(server, BONUS, list(CLIENTS)[:3], threads=8, prefix="aud").start()
            try:
                deadline = time.monotonic() + 6
                audits = 0
                while time.monotonic() < deadline:
                    rc, out = server.run_audit()
                    self.assertEqual(rc, 0, f"audit while serving (run {audits + 1}):\n{out[-2000:]}")
                    audits += 1
            finally:
                load.stop()
            self.assertGreater(load.count(), 0)
            self.assertGreaterEqual(audits, 3)
            self.assertEqual(load.unexpected, [])
            server.stop(check=True)
            rc, out = server.run_audit()
            self.assertEqual(rc, 0, out)
        finally:
            server.close()


if __name__ == "__main__":
    unittest.main()
