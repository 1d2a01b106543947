"""Malformed and hostile requests: each gets the exact error, none changes anything."""
import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ADMIN_TOKEN, BONUS, CLIENTS, PARTNER_TOKEN, PRODUCT, Raw, ServerTestCase,  # noqa: E402
                     body_limit, dumps, history_path, payout_body, payout_path, raw_exchange,
                     request_head)

CLIENT = "sjrpngawef8770553957"
PAY = "payoutd-payments"


def body(value=Raw("1.00"), currency="RUB", funder=BONUS, client=CLIENT, drop=(), amount=None):
    """A payout body as bytes, with one part replaced or dropped."""
    obj = payout_body(funder, client, value, currency)
    if amount is not None:
        obj["transactionAmount"] = amount
    for key in drop:
        if key in obj:
            del obj[key]
        else:
            del obj["transactionAmount"][key]
    return dumps(obj).encode("utf-8")


GOOD = body()
LIMIT = body_limit()
GOOD_TEXT = GOOD.decode()


def nested(depth):
    return b'{"a":' * depth + b"1" + b"}" * depth


# (name, raw body, expected HTTP status, expected errorCode, word the description must contain)
BODY_CASES = [
    # malformed JSON
    ("truncated", GOOD[:-1], 400, "validation.error", None),
    ("truncated mid-string", GOOD[:20], 400, "validation.error", None),
    ("trailing comma", GOOD[:-1] + b",}", 400, "validation.error", None),
    ("single quotes", GOOD.replace(b'"', b"'"), 400, "validation.error", None),
    ("NaN", body(Raw("NaN")), 400, "validation.error", None),
    ("Infinity", body(Raw("Infinity")), 400, "validation.error", None),
    ("block comment", b"/* c */" + GOOD, 400, "validation.error", None),
    ("line comment", b"// c\n" + GOOD, 400, "validation.error", None),
    ("trailing garbage", GOOD + b"xyz", 400, "validation.error", None),
    ("two objects", GOOD + GOOD, 400, "validation.error", None),
    ("empty body", b"", 400, "validation.error", None),
    ("whitespace body", b"  \n ", 400, "validation.error", None),
    ("array instead of object", b"[" + GOOD + b"]", 400, "validation.error", None),
    ("null body", b"null", 400, "validation.error", None),
    ("string body", b'"hello"', 400, "validation.error", None),
    ("nesting 10000 objects", nested(min(10000, (LIMIT - 1) // 6)), 400, "validation.error", None),
    ("deep array nesting", b"[" * (LIMIT // 2 - 8) + b"]" * (LIMIT // 2 - 8), 400, "validation.error", None),
    ("invalid escape", GOOD.replace(CLIENT.encode(), b"ab\\qcd"), 400, "validation.error", None),
    ("raw control char in string", GOOD.replace(CLIENT.encode(), b"ab\ncd"), 400, "validation.error", None),
    ("invalid UTF-8 in a string", GOOD.replace(CLIENT.encode(), b"sjrp\xff\xfe\xc3"), 400, "validation.error", None),
    ("overlong UTF-8 in a string", GOOD.replace(CLIENT.encode(), b"sjrp\xc0\xaf"), 400, "validation.error", None),
    ("duplicate key", GOOD.replace(b'{"fromFunderId"', b'{"fromFunderId":"cashback-funder","fromFunderId"', 1),
     400, "validation.error", None),
    ("duplicate value key", GOOD.replace(b'"value":1.00', b'"value":1.00,"value":2.00'), 400, "validation.error", None),
    # wrong JSON types
    ("value true", body(True), 400, "validation.error", "value"),
    ("value null", body(None), 400, "validation.error", "value"),
    ("value object", body({"amount": 1}), 400, "validation.error", "value"),
    ("value array", body([Raw("1.00")]), 400, "validation.error", "value"),
    ("currency number", body(currency=643), 400, "validation.error", "currency"),
    ("fromFunderId number", body(funder=123), 400, "validation.error", "fromFunderId"),
    ("toClientId null", body(client=None), 400, "validation.error", "toClientId"),
    ("transactionAmount string", body(amount="100.00 RUB"), 400, "validation.error", "transactionAmount"),
    ("transactionAmount array", body(amount=[]), 400, "validation.error", "transactionAmount"),
    # bad amounts
    ("3 fraction digits", body(Raw("1.005")), 400, "validation.error", "value"),
    ("3 fraction digits string", body("1.005"), 400, "validation.error", "value"),
    ("3 fraction digits, trailing zero", body(Raw("1.000")), 400, "validation.error", "value"),
    ("negative", body(Raw("-1.00")), 400, "validation.error", "value"),
    ("negative string", body("-1.00"), 400, "validation.error", "value"),
    ("zero", body(Raw("0")), 400, "validation.error", "value"),
    ("zero string 0.00", body("0.00"), 400, "validation.error", "value"),
    ("negative zero", body(Raw("-0.00")), 400, "validation.error", "value"),
    ("exponent 1e2", body(Raw("1e2")), 400, "validation.error", "value"),
    ("exponent string 1E2", body("1E2"), 400, "validation.error", "value"),
    ("exponent 1.00E0", body(Raw("1.00E0")), 400, "validation.error", "value"),
    ("huge 10^20", body(Raw("1" + "0" * 20)), 400, "validation.error", "value"),
    ("above 10^13", body("10000000000000.01"), 400, "validation.error", "value"),
    ("400 digits", body(Raw("9" * 400)), 400, "validation.error", "value"),
    ("400 digits string", body("9" * 400 + ".00"), 400, "validation.error", "value"),
    ("leading plus string", body("+1.00"), 400, "validation.error", "value"),
    ("leading plus number", body(Raw("+1.00")), 400, "validation.error", None),
    ("leading zeros string", body("01.00"), 400, "validation.error", "value"),
    ("leading zeros number", body(Raw("01.00")), 400, "validation.error", None),
    ("empty string value", body(""), 400, "validation.error", "value"),
    ("spaces in string value", body(" 1.00"), 400, "validation.error", "value"),
    ("comma decimal", body("1,00"), 400, "validation.error", "value"),
    ("trailing dot", body("1."), 400, "validation.error", "value"),
    ("leading dot", body(".50"), 400, "validation.error", "value"),
    ("hex string", body("0x10"), 400, "validation.error", "value"),
    ("currency lowercase", body(currency="rub"), 400, "validation.error", "currency"),
    ("currency not ISO", body(currency="XYZ"), 400, "validation.error", "currency"),
    ("currency 4 letters", body(currency="RUBB"), 400, "validation.error", "currency"),
    ("currency empty", body(currency=""), 400, "validation.error", "currency"),
    ("currency numeric code string", body(currency="643"), 400, "validation.error", "currency"),
    ("currency mismatch EUR", body(currency="EUR"), 422, "currency.mismatch", None),
    # missing members
    ("missing fromFunderId", body(drop=["fromFunderId"]), 400, "validation.error", "fromFunderId"),
    ("missing toClientId", body(drop=["toClientId"]), 400, "validation.error", "toClientId"),
    ("missing transactionAmount", body(drop=["transactionAmount"]), 400, "validation.error", "transactionAmount"),
    ("missing value", body(drop=["value"]), 400, "validation.error", "value"),
    ("missing currency", body(drop=["currency"]), 400, "validation.error", "currency"),
    ("empty object", b"{}", 400, "validation.error", None),
    # unknown references
    ("unknown funder", body(funder="no-such-funder"), 404, "funder.not.found", None),
    ("a client as funder", body(funder=CLIENT), 404, "funder.not.found", None),
    ("unknown client", body(client="nosuchclient00000000"), 404, "client.not.found", None),
    ("an accountId as client", body(client=CLIENTS[CLIENT]), 404, "client.not.found", None),
    ("a funder as client", body(client=BONUS), 404, "client.not.found", None),
]

# (name, path suffix after /transactions/, expected status, errorCode)
TXN_ID_CASES = [
    ("65 characters", "a" * 65, 400, "validation.error"),
    ("1000 characters", "a" * 1000, 400, "validation.error"),
    ("space %20", "bad%20id", 400, "validation.error"),
    ("encoded slash %2F", "bad%2Fid", 400, "validation.error"),
    ("unicode", "%D1%82%D1%85-1", 400, "validation.error"),
    ("percent itself", "bad%25id", 400, "validation.error"),
    ("colon", "bad:id", 400, "validation.error"),
    ("plus", "bad+id", 400, "validation.error"),
    ("raw slash", "bad/id", 404, "route.not.found"),
    # Dots alone are path segments to every proxy between the partner and us, never an id.
    ("two dots", "..", 400, "validation.error"),
    ("one dot", ".", 400, "validation.error"),
    ("three dots", "...", 400, "validation.error"),
    ("encoded dots %2E%2E", "%2E%2E", 400, "validation.error"),
]


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

    def test_bodies(self):
        self.assertGreaterEqual(len(BODY_CASES), 35)
        for name, raw, status, code, word in BODY_CASES:
            with self.subTest(name):
                r = self.api.request("PUT", payout_path(self.next_id()), raw_body=raw)
                self.assertError(r, status, code, PAY, name)
                if word:
                    self.assertIn(word, r.json["description"], "the description names the field")
        self.check_unchanged()

    def test_transaction_ids(self):
        for name, suffix, status, code in TXN_ID_CASES:
            with self.subTest(name):
                path = payout_path("") + suffix
                r = self.api.request("PUT", path, raw_body=GOOD)
                self.assertError(r, status, code, PAY, name)
                r = self.api.request("GET", path)
                self.assertError(r, status, code, PAY, name + " (GET)")
        self.check_unchanged()

    def test_authentication(self):
        cases = [
            ("no Authorization", {}, None, 401, "auth.token.missing"),
            ("Basic scheme", {"Authorization": "Basic dXNlcjpwYXNz"}, None, 401, "auth.token.missing"),
            ("token without scheme", {"Authorization": PARTNER_TOKEN}, None, 401, "auth.token.missing"),
            ("wrong token", {}, "wrong-token", 401, "auth.token.invalid"),
            ("token with a suffix", {}, PARTNER_TOKEN + "x", 401, "auth.token.invalid"),
            ("token prefix", {}, PARTNER_TOKEN[:-1], 401, "auth.token.invalid"),
            ("admin token on the partner API", {}, ADMIN_TOKEN, 401, "auth.token.invalid"),
        ]
        for name, headers, token, status, code in cases:
            with self.subTest(name):
                r = self.api.request("PUT", payout_path(self.next_id()), raw_body=GOOD, headers=headers, auth=token)
                self.assertError(r, status, code, PAY, name)
        with self.subTest("unknown product with a valid token"):
            r = self.api.request("PUT", payout_path(self.next_id(), "no-such-product"), raw_body=GOOD)
            self.assertError(r, 403, "auth.forbidden", PAY)
        with self.subTest("partner token on the admin API"):
            r = self.api.request("GET", f"/admin/v1/qiwi/products/{PRODUCT}/funders/{BONUS}")
            self.assertEqual(r.status, 401, r.raw)
            self.assertEnvelope(r, ("auth.token.invalid", "auth.token.missing"), "payoutd-admin")
        with self.subTest("partner token crediting a funder"):
            r = self.api.request("POST", f"/admin/v1/qiwi/products/{PRODUCT}/funders/{BONUS}/credits/hostile-credit",
                                 body={"amount": {"value": "100.00", "currency": "RUB"}})
            self.assertEqual(r.status, 401, r.raw)
            self.assertEnvelope(r, ("auth.token.invalid", "auth.token.missing"), "payoutd-admin")
        self.check_unchanged()

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

    def test_methods_and_paths(self):
        cases = [
            ("DELETE payout", "DELETE", payout_path("hostile-method"), 405, "method.not.allowed", PAY),
            ("POST payout", "POST", payout_path("hostile-method"), 405, "method.not.allowed", PAY),
            ("PATCH payout", "PATCH", payout_path("hostile-method"), 405, "method.not.allowed", PAY),
            ("PUT history", "PUT", history_path() + "?accountId=x&limit=1", 405, "method.not.allowed", "payoutd-reports"),
            ("unknown path", "GET", "/partner/openapi-payment-api/v1/nope", 404, "route.not.found", PAY),
            ("unknown reports path", "GET", "/partner/openapi-reports/v1/nope", 404, "route.not.found",
             "payoutd-reports"),
            ("root", "GET", "/", 404, "route.not.found", None),
            ("unknown top-level path", "GET", "/partner/nope", 404, "route.not.found", None),
            ("payout path prefix", "PUT", f"/partner/openapi-payment-api/v1/funder-payouts/products/{PRODUCT}",
             404, "route.not.found", PAY),
            # Seed 001's example URL as printed (doubled prefix) is accepted; acc1 is no wallet.
            ("seed's doubled history prefix", "GET", f"/partner/openapi-reports/v1/products/{PRODUCT}"
             f"/openapi-reports/v1/products/{PRODUCT}/operations/history?accountId=acc1&limit=50", 404,
             "account.not.found", "payoutd-reports"),
            ("dot segments", "GET", payout_path("..") + "/../../../../admin/v1/qiwi/products", 404, "route.not.found",
             PAY),
        ]
        for name, method, path, status, code, service in cases:
            with self.subTest(name):
                r = self.api.request(method, path, raw_body=GOOD if method in ("PUT", "POST", "PATCH") else None)
                self.assertError(r, status, code, service, name)
        self.used_ids.append("hostile-method")
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
