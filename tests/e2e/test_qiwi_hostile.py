"""Hostile requests beyond one request and its answer: oversized bodies and headers answered before
they are read, garbage on the socket, products that must not see each other. None changes
anything. The tables of refused bodies, transactionIds, tokens and paths are scenario files
(scenarios/qiwi/)."""
import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BONUS, CLIENTS, PARTNER_TOKEN, PRODUCT, Raw, ServerTestCase, body_limit, dumps,  # noqa: E402
                     history_path, payout_body, payout_path, raw_exchange, request_head)

CLIENT = "sjrpngawef8770553957"
PAY = "payoutd-payments"


def body(currency="RUB", funder=BONUS, client=CLIENT):
    """A payout body of 1.00 as bytes, with one part replaced."""
    return dumps(payout_body(funder, client, Raw("1.00"), currency)).encode("utf-8")


GOOD = body()
LIMIT = body_limit()


class HostileTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.used_ids = []
        cls.before = cls.api.snapshot()

    def next_id(self):
        txn = f"hostile-{len(self.used_ids):04d}"
        self.used_ids.append(txn)
        return txn

    def check_unchanged(self):
        self.assertEqual(self.api.snapshot(), self.before, "a rejected request changed state")
        for txn in self.used_ids:
            r = self.api.get_payout(txn)
            self.assertError(r, 404, "transaction.not.found", PAY, f"{txn} must not exist")
        self.assertEqual(self.server.health(), 200)

    # ----------------------------------------------------------------------------------------

    def test_size_limits(self):
        def put(pad_body=0, pad_header=0):
            raw = GOOD[:-1] + b',"pad":"' + b"x" * pad_body + b'"}' if pad_body else GOOD
            headers = {"Authorization": f"Bearer {PARTNER_TOKEN}", "Content-Type": "application/json",
                       "Content-Length": str(len(raw))}
            if pad_header:
                headers["X-Pad"] = "y" * pad_header
            return raw_exchange(self.server.port, request_head("PUT", payout_path(self.next_id()), headers), raw)

        for name, kw in (("1 MiB body", dict(pad_body=1 << 20)), ("body over the limit", dict(pad_body=LIMIT)),
                         ("100 KiB header", dict(pad_header=102400))):
            with self.subTest(name):
                r = put(**kw)
                self.assertIsNotNone(r, f"no answer to a {name}")
                self.assertError(r, 413, "request.too.large", PAY, name)
        with self.subTest("a body of exactly the limit is accepted as a request size"):
            # just under the limit: the size is fine, the request is parsed (and then refused
            # for its unknown funder, so that nothing is created)
            small = body(funder="no-such-funder")
            raw = small[:-1] + b',"pad":"' + b"x" * (LIMIT - len(small) - 9) + b'"}'
            self.assertEqual(len(raw), LIMIT)
            r = self.api.request("PUT", payout_path(self.next_id()), raw_body=raw)
            self.assertError(r, 404, "funder.not.found", PAY)
        self.check_unchanged()

    def test_garbage_on_the_socket(self):
        port = self.server.port
        junk = [
            b"\x00\xff\xfe\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(200),  # a TLS hello
            b"GARBAGE\r\n\r\n",
            b"PUT / HTTP/9.9\r\n\r\n",
            b"GET /healthz HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            b"PUT " + payout_path("hostile-junk").encode() + b" HTTP/1.1\r\nContent-Length: 10\r\n"
            b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"\r\n" * 1000,
            os.urandom(4096),
        ]
        self.used_ids.append("hostile-junk")
        for n, data in enumerate(junk):
            with self.subTest(junk=n):
                with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
                    try:  # whatever comes back (an error or nothing) until close or 3 s of silence
                        s.sendall(data)
                        s.shutdown(socket.SHUT_WR)
                        while s.recv(65536):
                            pass
                    except OSError:
                        pass
                self.assertEqual(self.server.health(), 200)
        # a connection that never finishes its request does not block others
        with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
            slow.sendall(b"PUT " + payout_path("hostile-slow").encode() + b" HTTP/1.1\r\nHost: x\r\n")
            self.used_ids.append("hostile-slow")
            self.assertEqual(self.server.health(), 200)
            self.assertEqual(self.api.history(CLIENTS[CLIENT], limit=1).status, 200)
        self.check_unchanged()


OTHER, OTHER_TOKEN = "other-partner", "e2e-other-partner-token"
OTHER_FUNDER, OTHER_EUR_FUNDER = "other-funder", "other-eur-funder"
OTHER_CLIENT, OTHER_ACCOUNT = "otherclient000000001", "otheraccount00000001"
SECOND_PRODUCT = f"""
[[qiwi.products]]
id = "{OTHER}"
tokens = ["{OTHER_TOKEN}"]

  [[qiwi.products.funders]]
  id = "{OTHER_FUNDER}"
  display_name = "Other programme"
  currency = "RUB"
  initial_balance = "500.00"

  [[qiwi.products.funders]]
  id = "{OTHER_EUR_FUNDER}"
  display_name = "Other EUR programme"
  currency = "EUR"
  initial_balance = "500.00"

  [[qiwi.products.clients]]
  client_id = "{OTHER_CLIENT}"
  account_id = "{OTHER_ACCOUNT}"
  currency = "RUB"
"""


class TenantIsolationTest(ServerTestCase):
    """The sandbox config plus a second QIWI product (written to a temporary copy of the
    config): tokens, funders, clients, wallets and transactionIds never cross products."""

    server_options = {"extra_config": SECOND_PRODUCT}

    def snapshot(self):
        state = self.api.snapshot()
        for f in (OTHER_FUNDER, OTHER_EUR_FUNDER):
            state[f"other funder {f}"] = self.api.funder(f, product=OTHER)
        state["other client"] = self.api.client(OTHER_CLIENT, product=OTHER)
        state["other history"] = self.api.history(OTHER_ACCOUNT, limit=200, product=OTHER, auth=OTHER_TOKEN).json
        return state

    def test_tokens_and_references_do_not_cross_products(self):
        before = self.snapshot()
        other_body = body(funder=OTHER_FUNDER, client=OTHER_CLIENT)
        cases = [
            ("best-partner token on the other product", "PUT", payout_path("iso-1", OTHER), other_body,
             PARTNER_TOKEN, 403, "auth.forbidden", PAY),
            ("other token on best-partner", "PUT", payout_path("iso-2"), GOOD, OTHER_TOKEN, 403,
             "auth.forbidden", PAY),
            ("other token on an unknown product", "PUT", payout_path("iso-3", "no-such-product"), GOOD,
             OTHER_TOKEN, 403, "auth.forbidden", PAY),
            ("best-partner token reading the other product's history", "GET",
             history_path(OTHER) + f"?accountId={OTHER_ACCOUNT}&limit=10", None, PARTNER_TOKEN, 403,
             "auth.forbidden", "payoutd-reports"),
            ("other token reading best-partner's history", "GET",
             history_path() + f"?accountId={CLIENTS[CLIENT]}&limit=10", None, OTHER_TOKEN, 403,
             "auth.forbidden", "payoutd-reports"),
            ("other token reading a best-partner payout", "GET", payout_path("iso-4"), None, OTHER_TOKEN, 403,
             "auth.forbidden", PAY),
            ("another product's funder", "PUT", payout_path("iso-5"), body(funder=OTHER_FUNDER), PARTNER_TOKEN,
             404, "funder.not.found", PAY),
            ("another product's client", "PUT", payout_path("iso-6"), body(client=OTHER_CLIENT), PARTNER_TOKEN,
             404, "client.not.found", PAY),
            ("another product's wallet", "GET", history_path() + f"?accountId={OTHER_ACCOUNT}&limit=10", None,
             PARTNER_TOKEN, 404, "account.not.found", "payoutd-reports"),
            ("funder currency EUR to a RUB wallet", "PUT", payout_path("iso-7", OTHER),
             body(funder=OTHER_EUR_FUNDER, client=OTHER_CLIENT, currency="EUR"), OTHER_TOKEN, 422,
             "currency.mismatch", PAY),
            ("RUB amount from a EUR funder", "PUT", payout_path("iso-8", OTHER),
             body(funder=OTHER_EUR_FUNDER, client=OTHER_CLIENT), OTHER_TOKEN, 422, "currency.mismatch", PAY),
        ]
        for name, method, path, raw, token, status, code, service in cases:
            with self.subTest(name):
                r = self.api.request(method, path, raw_body=raw, auth=token)
                self.assertError(r, status, code, service, name)
        self.assertEqual(self.snapshot(), before)
        for n in range(1, 9):
            for product, token in ((PRODUCT, PARTNER_TOKEN), (OTHER, OTHER_TOKEN)):
                r = self.api.get_payout(f"iso-{n}", product=product, auth=token)
                self.assertError(r, 404, "transaction.not.found", PAY, f"iso-{n} in {product}")

    def test_same_transaction_id_in_two_products(self):
        mine = self.api.payout("shared-1", BONUS, CLIENT, "2.00")
        theirs = self.api.payout("shared-1", OTHER_FUNDER, OTHER_CLIENT, "3.00", product=OTHER, auth=OTHER_TOKEN)
        self.assertEqual((mine.status, theirs.status), (200, 200), (mine.raw, theirs.raw))
        self.assertEqual((mine.json["status"], theirs.json["status"]), ("SUCCESS", "SUCCESS"))
        self.assertEqual(theirs.json["productId"], OTHER)
        self.assertEqual(self.api.get_payout("shared-1").json, mine.json)
        self.assertEqual(self.api.get_payout("shared-1", product=OTHER, auth=OTHER_TOKEN).json, theirs.json)
        self.assertMoney(self.api.funder(OTHER_FUNDER, product=OTHER)["balance"], "497.00")
        self.assertMoney(self.api.client(OTHER_CLIENT, product=OTHER)["balance"], "3.00")
        page = self.api.history(OTHER_ACCOUNT, limit=10, product=OTHER, auth=OTHER_TOKEN).json["txnList"]
        self.assertEqual([i["commonTxnInfo"]["productId"] for i in page], [OTHER])
        self.assertAuditClean()


if __name__ == "__main__":
    unittest.main()
