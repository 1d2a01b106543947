"""Maker-checker on money and the operators' hash-chained audit log, over HTTP on the real binary
(docs/admin.md ("The operators' audit log and maker-checker on money")).

A credit or a debit of a funding account at or below [admin] approval_threshold moves money at
once; above it the call answers 202 with a pending request and moves nothing until a second
finance member approves it; the requester never decides their own request. Every mutating admin
call leaves entries in the audit log, and `payoutd audit` finds an entry altered or removed in
the database (SQLite's file, PostgreSQL's table).

The two-person cases need staff with API keys (POST /admin/v1/staff, POST
/admin/v1/staff/{login}/api-keys); on a build without those routes they skip, naming them.
"""
import os
import sqlite3
import sys
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import log_scan  # noqa: E402
from harness import (ADMIN_TOKEN, BONUS, CASHBACK, Api, IsolatedServerTestCase, money,  # noqa: E402
                     unique)

ADMIN = "payoutd-admin"
THRESHOLD_LINE = ('approval_threshold = { RUB = "1000000.00", KZT = "100000000.00", '
                  'EUR = "100000.00", USD = "100000.00" }')
TTL_LINE = "request_ttl_s = 86400"
# These servers: one finance member alone up to 1000.00 RUB; no threshold for KZT.
OPTIONS = {"config_replace": {THRESHOLD_LINE: 'approval_threshold = { RUB = "1000.00" }'}}


def funding(kind, funder, op_id):
    return f"/admin/v1/tenants/qiwi:best-partner/funders/{funder}/{kind}/{op_id}"


def amount(value, currency="RUB"):
    return {"amount": {"value": value, "currency": currency}}


class MakerCheckerCase(IsolatedServerTestCase):

    def new_server(self, start=True, **kw):
        for key, value in OPTIONS.items():
            kw.setdefault(key, dict(value))
        return super().new_server(start=start, **kw)

    def call(self, method, path, body=None, auth=ADMIN_TOKEN, api=None):
        return (api or self.api).request(method, path, body=body, auth=auth)

    def credit(self, funder, op_id, value, auth=ADMIN_TOKEN, api=None):
        return self.call("POST", funding("credits", funder, op_id), amount(value), auth, api)

    def debit(self, funder, op_id, value, auth=ADMIN_TOKEN, api=None):
        return self.call("POST", funding("debits", funder, op_id), amount(value), auth, api)

    def decide(self, request_id, decision, auth=ADMIN_TOKEN, api=None):
        return self.call("POST", f"/admin/v1/requests/{request_id}/{decision}", None, auth, api)

    def balance(self, funder):
        return self.api.funder_balance(funder)

    def audit_entries(self, query=""):
        r = self.call("GET", "/admin/v1/audit" + query)
        self.assertEqual(r.status, 200, r.raw)
        return r.json["entries"]

    def finance_staff(self, count=2, roles=("finance",)):
        """`count` staff members with `roles` and an API key each: their keys."""
        keys = []
        for _ in range(count):
            login = unique("fin")
            r = self.call("POST", "/admin/v1/staff", {"login": login, "name": login,
                                                      "roles": list(roles)})
            self.assertIn(r.status, (200, 201), r.raw)
            r = self.call("POST", f"/admin/v1/staff/{login}/api-keys", {"name": "maker-checker"})
            self.assertIn(r.status, (200, 201), r.raw)
            keys.append(r.json["key"])
        # The keys are secrets: the server's log must never show them.
        for key in keys:
            log_scan.remember_secret(key)
        return keys

    def pending(self, funder, value, auth=ADMIN_TOKEN):
        op_id = unique("big")
        r = self.credit(funder, op_id, value, auth)
        self.assertEqual(r.status, 202, r.raw)
        self.assertEqual(r.json["status"], "pending")
        return op_id, r.json["id"]


class OnePersonTest(MakerCheckerCase):
    """What the config's token (the only actor before staff accounts) meets."""

    def test_threshold_pending_request_and_own_approval_refused(self):
        before = self.balance(CASHBACK)
        r = self.credit(CASHBACK, unique("small"), "1000.00")  # at the threshold: at once
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.json["status"], "SUCCESS")
        self.assertEqual(self.balance(CASHBACK), before + Decimal("1000.00"))

        op_id = unique("big")
        r = self.credit(CASHBACK, op_id, "1000.01")
        self.assertEqual(r.status, 202, r.raw)
        request = r.json
        for key, value in (("status", "pending"), ("kind", "funding.credit"),
                           ("tenant", "qiwi:best-partner"), ("funder", CASHBACK),
                           ("requestedBy", "admin.token"), ("externalId", op_id)):
            self.assertEqual(request[key], value, key)
        self.assertEqual(money(request["amount"]), Decimal("1000.01"))
        self.assertEqual(self.balance(CASHBACK), before + Decimal("1000.00"), "moved before approval")

        again = self.credit(CASHBACK, op_id, "1000.01")
        self.assertEqual((again.status, again.json["id"]), (202, request["id"]))
        other = self.credit(CASHBACK, op_id, "2000.00")
        self.assertEqual((other.status, other.json["errorCode"]), (409, "id.conflict"), other.raw)

        for decision in ("approve", "reject"):
            r = self.decide(request["id"], decision)
            self.assertEqual((r.status, r.json["errorCode"]), (403, "request.own"), r.raw)
        shown = self.call("GET", f"/admin/v1/requests/{request['id']}")
        self.assertEqual((shown.status, shown.json["status"]), (200, "pending"), shown.raw)
        listed = self.call("GET", "/admin/v1/requests?status=pending")
        self.assertIn(request["id"], [q["id"] for q in listed.json["requests"]])
        self.assertEqual(self.balance(CASHBACK), before + Decimal("1000.00"))
        # No threshold for KZT here: any amount waits (a Bereke partner's transit account).
        r = self.call("POST", "/admin/v1/tenants/bereke:sandbox-partner/funders/transit/credits/k1",
                      amount("0.01", "KZT"))
        self.assertEqual((r.status, r.json.get("status")), (202, "pending"), r.raw)
        # Refused before a request is made: nothing waits for a second person then.
        r = self.credit("no-such-funder", unique("x"), "5000.00")
        self.assertEqual((r.status, r.json["errorCode"]), (404, "funder.not.found"), r.raw)
        r = self.decide("999999", "approve")
        self.assertEqual((r.status, r.json["errorCode"]), (404, "request.not.found"), r.raw)
        r = self.decide("abc", "approve")
        self.assertEqual((r.status, r.json["errorCode"]), (400, "validation.error"), r.raw)
        self.assertAuditClean()

    def test_debits_leave_to_the_partners_bank_never_below_zero(self):
        before = self.balance(CASHBACK)
        # More than the account holds is refused at once, above the threshold too: no request
        # is made that could never be carried out as it stands.
        r = self.debit(CASHBACK, unique("d"), str(before + Decimal("0.01")))
        self.assertEqual((r.status, r.json["errorCode"]), (422, "funder.insufficient.funds"), r.raw)
        op_id = unique("d")
        r = self.debit(CASHBACK, op_id, "100.00")
        self.assertEqual((r.status, r.json["status"]), (200, "SUCCESS"), r.raw)
        self.assertEqual(self.balance(CASHBACK), before - Decimal("100.00"))
        self.assertEqual(self.debit(CASHBACK, op_id, "100.00").status, 200)  # a replay
        self.assertEqual(self.balance(CASHBACK), before - Decimal("100.00"))
        r = self.debit(CASHBACK, unique("d"), "900.01")  # more than what is left
        self.assertEqual((r.status, r.json["errorCode"]), (422, "funder.insufficient.funds"), r.raw)
        r = self.debit(BONUS, unique("d"), "5000.00")  # above the threshold: waits
        self.assertEqual((r.status, r.json["kind"]), (202, "funding.debit"), r.raw)
        self.assertEqual(self.balance(CASHBACK), before - Decimal("100.00"))
        self.assertAuditClean()

    def test_every_mutating_call_is_in_the_audit_log(self):
        op_id = unique("c")
        self.assertEqual(self.credit(CASHBACK, op_id, "5.00").status, 200)
        self.assertEqual(self.credit(CASHBACK, op_id, "6.00").status, 409)
        self.assertEqual(self.api.admin("PUT", "/funders/audit-funder",
                                        {"currency": "RUB"}).status, 200)  # a section's route
        entries = self.audit_entries("?actor=admin.token")
        path = funding("credits", CASHBACK, op_id)
        calls = [e for e in entries if e["target"] == path]
        self.assertEqual([e["outcome"] for e in calls if e["action"] == "http.POST"],
                         ["409 id.conflict", "started", "200", "started"], calls)
        intents = {e["seq"] for e in calls if e["outcome"] == "started"}
        self.assertEqual({e["detail"]["intent"] for e in calls if e["outcome"] != "started"}, intents)
        done = self.audit_entries("?action=funding.credit&target=qiwi:best-partner/funders/")
        self.assertEqual(done[0]["detail"]["externalId"], op_id)
        self.assertEqual((done[0]["actor"], done[0]["via"], done[0]["outcome"]),
                         ("admin.token", "token", "done"))
        section = self.audit_entries("?target=/admin/v1/qiwi/products/best-partner/funders/audit-funder")
        self.assertEqual([e["outcome"] for e in section], ["200", "started"])
        # Newest first, pages by before=; GETs are not entries.
        first = self.call("GET", "/admin/v1/audit?limit=2").json
        self.assertEqual(len(first["entries"]), 2)
        second = self.call("GET", f"/admin/v1/audit?limit=2&before={first['nextBefore']}").json
        self.assertLess(second["entries"][0]["seq"], first["entries"][-1]["seq"])
        self.assertFalse([e for e in entries if e["action"] == "http.GET"])
        for e in entries:  # a call's entries never hold its body
            if e["action"].startswith("http."):
                self.assertLessEqual(set(e["detail"]), {"intent"}, e)
        today = time.strftime("%Y-%m-%d", time.gmtime())
        self.assertTrue(self.audit_entries(f"?from={today}&to={today}"))
        self.assertEqual(self.audit_entries("?to=2000-01-01"), [])
        r = self.call("GET", "/admin/v1/audit?from=yesterday")
        self.assertEqual((r.status, r.json["errorCode"]), (400, "validation.error"), r.raw)
        self.assertAuditClean()

    def test_a_pending_request_expires(self):
        server = self.new_server(config_replace={
            THRESHOLD_LINE: 'approval_threshold = { RUB = "1000.00" }', TTL_LINE: "request_ttl_s = 1"})
        api = Api(server)
        self.addCleanup(api.close)
        r = self.credit(CASHBACK, unique("e"), "5000.00", api=api)
        self.assertEqual(r.status, 202, r.raw)
        time.sleep(1.2)
        shown = self.call("GET", f"/admin/v1/requests/{r.json['id']}", api=api)
        self.assertEqual(shown.json["status"], "expired", shown.raw)
        listed = self.call("GET", "/admin/v1/requests?status=expired", api=api).json["requests"]
        self.assertEqual([q["id"] for q in listed], [r.json["id"]])


class TamperTest(MakerCheckerCase):
    """`payoutd audit` finds what was changed in the database behind payoutd's back."""

    def tamper(self, sql):
        if self.server.postgres_url:
            from harness import shared_cluster
            shared_cluster().psql(sql, self.server.postgres_url)
            return
        with sqlite3.connect(os.path.join(self.server.data_dir, "payoutd.db")) as db:
            db.execute(sql)

    def test_an_altered_or_removed_entry_is_found(self):
        for i in range(4):
            self.assertEqual(self.credit(CASHBACK, unique(f"t{i}"), "1.00").status, 200)
        self.server.stop()
        rc, out = self.server.run_audit()
        self.assertEqual(rc, 0, out)
        self.assertIn("operator audit log: 12 entries, head 12", out)
        key = "WHERE kind = 'operator-audit' AND key = '{:020d}'"
        # Each credit: its intent, its own entry, its outcome; entry 3 is the first outcome.
        self.tamper("UPDATE records SET value = replace(value, '\"actor\":\"admin.token\"', "
                    "'\"actor\":\"someone.else\"') " + key.format(3))
        rc, out = self.server.run_audit()
        self.assertEqual(rc, 1, out)
        self.assertIn("operator audit log: entry 3 altered", out)
        self.tamper("DELETE FROM records " + key.format(12))  # the newest
        rc, out = self.server.run_audit()
        self.assertIn("entry 12 removed (the head names it)", out)
        self.tamper("DELETE FROM records " + key.format(7))
        rc, out = self.server.run_audit()
        self.assertEqual(rc, 1, out)
        self.assertIn("entry 7 removed", out)


class TwoPeopleTest(MakerCheckerCase):
    """A second finance member approves (needs staff accounts with API keys)."""

    def test_second_person_approves_once_and_rejection_moves_nothing(self):
        maker, checker = self.finance_staff(2)
        before = self.balance(CASHBACK)
        op_id, request_id = self.pending(CASHBACK, "2500.00", auth=maker)
        r = self.decide(request_id, "approve", auth=maker)
        self.assertEqual((r.status, r.json["errorCode"]), (403, "request.own"), r.raw)
        r = self.decide(request_id, "approve", auth=checker)
        self.assertEqual((r.status, r.json["status"]), (200, "approved"), r.raw)
        self.assertEqual(self.balance(CASHBACK), before + Decimal("2500.00"))
        r = self.decide(request_id, "approve", auth=ADMIN_TOKEN)
        self.assertEqual((r.status, r.json["errorCode"]), (409, "request.decided"), r.raw)
        self.assertEqual(self.balance(CASHBACK), before + Decimal("2500.00"))

        _, rejected = self.pending(CASHBACK, "3000.00", auth=maker)
        r = self.decide(rejected, "reject", auth=checker)
        self.assertEqual((r.status, r.json["status"]), (200, "rejected"), r.raw)
        r = self.decide(rejected, "approve", auth=ADMIN_TOKEN)
        self.assertEqual((r.status, r.json["errorCode"]), (409, "request.decided"), r.raw)
        self.assertEqual(self.balance(CASHBACK), before + Decimal("2500.00"))
        actions = [e["action"] for e in self.audit_entries("?action=request.")]
        self.assertEqual(actions, ["request.reject", "request.create", "request.approve",
                                   "request.create"])
        self.assertAuditClean()

    def test_finance_role_is_needed(self):
        (viewer,) = self.finance_staff(1, roles=("viewer",))
        _, request_id = self.pending(CASHBACK, "2500.00")
        for r in (self.decide(request_id, "approve", auth=viewer),
                  self.credit(CASHBACK, unique("v"), "1.00", auth=viewer),
                  self.debit(CASHBACK, unique("v"), "1.00", auth=viewer)):
            self.assertEqual((r.status, r.json["errorCode"]), (403, "auth.role.missing"), r.raw)

    def test_concurrent_approvals_on_one_node_move_money_once(self):
        keys = self.finance_staff(3)
        self.approve_at_once(keys[0], [(self.api, keys[1]), (self.api, keys[2])] * 5)

    def test_concurrent_approvals_on_two_nodes_move_money_once(self):
        if not self.server.postgres_url:
            self.skipTest("two nodes share a PostgreSQL database (e2e.postgres.test_maker_checker)")
        keys = self.finance_staff(3)
        other = Api(self.new_server(postgres_url=self.server.postgres_url))
        self.addCleanup(other.close)
        self.approve_at_once(keys[0], [(self.api, keys[1]), (other, keys[2])] * 5)

    def approve_at_once(self, maker, approvers):
        """A request of `maker` approved by every (api, key) of `approvers` at once."""
        before = self.balance(BONUS)
        _, request_id = self.pending(BONUS, "4321.00", auth=maker)
        barrier = threading.Barrier(len(approvers))

        def approve(pair):
            api = Api(pair[0].target, keep_alive=False)
            barrier.wait(30)
            return api.request("POST", f"/admin/v1/requests/{request_id}/approve", auth=pair[1])
        with ThreadPoolExecutor(len(approvers)) as pool:
            answers = list(pool.map(approve, approvers))
        statuses = sorted(r.status for r in answers)
        self.assertEqual(statuses, [200] + [409] * (len(approvers) - 1), [r.raw for r in answers])
        self.assertEqual(self.balance(BONUS), before + Decimal("4321.00"))
        self.assertAuditClean()


if __name__ == "__main__":
    unittest.main()
