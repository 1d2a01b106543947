"""Hardening: one server per data directory, no clear card numbers stored, malformed and oversized
HTTP outside every dialect, a readable 413, admin credit and client validation, read-your-writes on
one keep-alive connection, config validation at start."""
import glob
import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import shutil
import time
import unittest
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openapi_check  # noqa: E402
from harness import (ADMIN_TOKEN, free_port, BLOCKED_CLIENT, BONUS, CASHBACK, CLIENTS, OUTSIDE_ADMIN_TOKEN,  # noqa: E402
                     OUTSIDE_KEK, PARTNER_TOKEN, PROCESSING_CLIENT, Api, IsolatedServerTestCase, Raw, Response,
                     ServerTestCase, binary_path, Server, config_text, dumps, outside_sandbox, parse_json,
                     payout_body, payout_path, unique)

CLIENT = "sjrpngawef8770553957"
ADMIN = "payoutd-admin"
PAY = "payoutd-payments"
CLEAR_PAN = b"4111111111111111"

# How long a process that must refuse to start may take (the brief: "quickly, within ~10 s").
REFUSE_TIMEOUT = 15


def port_is_closed(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except OSError:
        return True


def run_serve(config, data_dir, listen="127.0.0.1:0", timeout=REFUSE_TIMEOUT):
    """Runs `payoutd serve` expecting it to exit by itself; returns (rc, stdout, stderr).
    rc is None when it was still running after `timeout` seconds (it is killed then)."""
    cmd = [str(binary_path()), "serve", "--config", str(config), "--listen", listen,
           "--data-dir", str(data_dir)]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return None, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def read_response_strict(sock, request_head):
    """Reads one HTTP response (head + Content-Length body) to the request `request_head` (its
    line and headers) from sock, checked against docs/openapi; raises on a reset or an EOF before the
    answer is complete (unlike harness.read_response, which swallows both).
    Returns (status line, headers, body bytes)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"EOF before a complete response head; got {buf[:300]!r}")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"EOF after {len(rest)} of {length} body bytes")
        rest += chunk
    openapi_check.check_request_head(request_head, int(lines[0].split()[1]), headers, rest[:length])
    return lines[0], headers, rest[:length]


def files_containing(root, needle):
    """Paths under root whose bytes contain needle."""
    hits = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            try:
                with open(path, "rb") as f:
                    if needle in f.read():
                        hits.append(path)
            except OSError:
                pass
    return hits


# --------------------------------------------------------------------------------------------

class DataDirLockTest(IsolatedServerTestCase):

    def test_second_server_on_the_same_data_dir_is_refused(self):
        first = self.server
        r = self.api.payout("lock-1", BONUS, CLIENT, "12.34")
        self.assertEqual((r.status, r.json["status"]), (200, "SUCCESS"), r.raw)
        before = self.api.snapshot(clients={CLIENT: CLIENTS[CLIENT]})

        for attempt in (1, 2):  # a refused process does not release the first one's lock
            with self.subTest(attempt=attempt):
                port = free_port()
                rc, out, err = run_serve(first.config, first.data_dir, listen=f"127.0.0.1:{port}")
                self.assertIsNotNone(rc, f"a second payoutd on {first.data_dir} kept running "
                                         f"({REFUSE_TIMEOUT}s)\nstdout: {out}\nstderr: {err}")
                self.assertNotEqual(rc, 0, f"second payoutd exited 0\nstderr: {err}")
                self.assertNotIn("listening on", out)
                self.assertRegex(err.lower(), r"another payoutd|lock",
                                 f"stderr does not say why: {err!r}")
                self.assertTrue(port_is_closed(port), "the refused process left something listening")

        # the first server is not disturbed
        self.assertEqual(first.health(), 200)
        self.assertEqual(self.api.snapshot(clients={CLIENT: CLIENTS[CLIENT]}), before)
        r = self.api.payout("lock-2", BONUS, CLIENT, "1.00")
        self.assertEqual((r.status, r.json["status"]), (200, "SUCCESS"), r.raw)
        lock1 = self.api.get_payout("lock-1").json

        self.assertEqual(first.stop(check=False), 0)
        # after the first stops, a new server on the same directory starts and sees its payouts
        second = self.new_server(data_dir=first.data_dir)
        api = Api(second)
        self.addCleanup(api.close)
        self.assertEqual(api.get_payout("lock-1").json, lock1)
        self.assertEqual(api.get_payout("lock-2").json["status"], "SUCCESS")
        self.assertMoney(api.client(CLIENT)["balance"], "13.34")
        self.assertAuditClean(second)


# --------------------------------------------------------------------------------------------

CARD = {"cardTokenId": "100079217135", "maskedPan": "4153****8772", "merchantType": "5499",
        "merchantId": "498750000011107", "merchantName": "FACEBK ADS>fb.me/adsIE",
        "retrievalReferenceNumber": "001877916339"}


class CardNumberTest(IsolatedServerTestCase):

    @staticmethod
    def card_operation(client, pan, type_="PURCHASE_E_POS", value="1.00"):
        card = dict(CARD, maskedPan=pan)
        if type_ == "BALANCE_INQUIRY":
            return {"type": type_, "clientId": client, "commission": {"value": "0.00", "currency": "RUB"},
                    "card": card}
        return {"type": type_, "clientId": client, "amount": {"value": value, "currency": "RUB"},
                "status": "SUCCESS", "card": card}

    def test_clear_card_numbers_are_refused_and_never_stored(self):
        client, account = "cardclient0000000001", "cardaccount000000001"
        self.assertEqual(self.api.create_client(client, account).status, 200)
        self.assertEqual(self.api.payout("card-fund", BONUS, client, "100.00").json["status"], "SUCCESS")
        clients = {client: account}
        before = self.api.snapshot(clients=clients)

        refused = [("16 digits", "4111111111111111", "PURCHASE_E_POS"),
                   ("12 digits", "411111111111", "PURCHASE_E_POS"),
                   ("16 digits with spaces", "4111 1111 1111 1111", "PURCHASE_E_POS"),
                   ("20 digits", "41111111111111111111", "PURCHASE_E_POS"),
                   ("16 digits in a balance inquiry", "4111111111111111", "BALANCE_INQUIRY")]
        for name, pan, type_ in refused:
            with self.subTest(name):
                op = unique("card")
                body = self.card_operation(client, pan, type_)
                r = self.api.operation(op, body)
                self.assertError(r, 400, "validation.error", ADMIN, name)
                self.assertIn("card.maskedPan", r.json["description"])
                self.assertNotIn(CLEAR_PAN, r.raw, "the answer echoes the clear card number")
                self.assertEqual(self.api.snapshot(clients=clients), before, f"{name}: something was recorded")
                # the refused request did not consume the operation id
                r = self.api.operation(op, dict(body, card=CARD))
                self.assertEqual(r.status, 200, r.raw)
                before = self.api.snapshot(clients=clients)

        n = len(self.api.history_all(account))
        balance = self.api.client_balance(client)
        for pan in ("4153****8772", "411111XXXXXX1111"):
            with self.subTest(pan=pan):
                r = self.api.operation(unique("card"), self.card_operation(client, pan, value="2.00"))
                self.assertEqual(r.status, 200, r.raw)
                self.assertEqual(r.json["status"], "SUCCESS", r.raw)
                item = self.api.history_all(account)[-1]
                self.assertEqual(item["cardTxnInfo"]["maskedPan"], pan)
        self.assertEqual(len(self.api.history_all(account)), n + 2)
        self.assertEqual(balance - self.api.client_balance(client), Decimal("4.00"))

        # the clear number is nowhere: database, its log, logs of the server (while it runs and
        # after a SIGTERM has checkpointed the log into the database)
        self.assertEqual(files_containing(self.server.tmp, CLEAR_PAN), [])
        self.assertEqual(self.server.stop(check=False), 0)
        # control: the scan does see what the operations stored (the accepted masked numbers)
        self.assertTrue(files_containing(self.server.data_dir, b"411111XXXXXX1111"),
                        "the scan found not even the stored masked number")
        self.assertEqual(files_containing(self.server.tmp, CLEAR_PAN), [])


# --------------------------------------------------------------------------------------------

class RawHttpTest(ServerTestCase):

    def exchange(self, data):
        """Sends data, half-closes, reads everything until EOF. Returns (Response or None, reset?)."""
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            buf, reset = b"", False
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
            except ConnectionResetError:
                reset = True
        if b"\r\n\r\n" not in buf:
            return None, reset
        head, rest = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        body = rest[:int(headers.get("content-length", "0") or 0)]
        return Response(int(lines[0].split()[1]), headers, parse_json(body), body), reset

    def test_malformed_request_lines_outside_every_dialect(self):
        cases = [
            b"GET  HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1 extra\r\n\r\n",
            b"NOT A REQUEST LINE\r\n\r\n",
            b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Header Without Colon\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        ]
        for data in cases:
            with self.subTest(data=data[:40]):
                r, _ = self.exchange(data)
                if r is not None:  # closing without an answer is allowed; answering with another code is not
                    self.assertError(r, 400, "validation.error", "payoutd")
                self.assertEqual(self.server.health(), 200)

    def test_unknown_method_outside_every_dialect(self):
        # "GARBAGE" is a syntactically valid method token (RFC 9110: method = token), so this
        # request line is well-formed HTTP; the server routes it and answers 404 route.not.found
        # for "/". Acceptable answers: 400 (refused as malformed), 404 (no such path), 405/501
        # (unknown method), or a close; and the server must stay healthy.
        for data in (b"GARBAGE / HTTP/1.1\r\n\r\n", b"GARBAGE / HTTP/1.1\r\nHost: x\r\n\r\n"):
            with self.subTest(data=data):
                r, _ = self.exchange(data)
                if r is not None:
                    expected = {400: "validation.error", 404: "route.not.found", 405: "method.not.allowed",
                                501: ("method.not.allowed", "method.not.implemented", "validation.error")}
                    self.assertIn(r.status, expected, r.raw)
                    self.assertEnvelope(r, expected[r.status], "payoutd")
                self.assertEqual(self.server.health(), 200)

    def test_oversized_header_outside_every_dialect(self):
        data = (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"y" * 102400 + b"\r\n\r\n")
        r, reset = self.exchange(data)
        self.assertIsNotNone(r, f"no answer to a 100 KiB header (reset: {reset})")
        self.assertError(r, 413, "request.too.large", "payoutd")
        self.assertEqual(self.server.health(), 200)

    def test_413_for_an_oversized_body_is_readable(self):
        size = 2 << 20
        payload = b"{" + b" " * (size - 2) + b"}"
        cases = [("payout path, keep-alive", payout_path("hardening-big"), PARTNER_TOKEN, False, PAY),
                 ("payout path, Connection: close", payout_path("hardening-big"), PARTNER_TOKEN, True, PAY),
                 ("admin path", "/admin/v1/qiwi/products/best-partner/clients/bigclient", ADMIN_TOKEN, False,
                  ADMIN),
                 ("outside every dialect", "/", None, False, "payoutd")]
        for name, path, token, close, service in cases:
            with self.subTest(name):
                lines = [f"PUT {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
                         f"Content-Length: {size}"]
                if token:
                    lines.append(f"Authorization: Bearer {token}")
                if close:
                    lines.append("Connection: close")
                head = ("\r\n".join(lines) + "\r\n\r\n").encode()
                with socket.create_connection(("127.0.0.1", self.server.port), timeout=30) as s:
                    try:
                        s.sendall(head + payload)
                        status, headers, body = read_response_strict(s, head)
                    except ConnectionResetError as e:
                        self.fail(f"{name}: connection reset instead of a readable 413: {e}")
                    except BrokenPipeError as e:
                        self.fail(f"{name}: the server stopped reading the body and reset: {e}")
                    self.assertTrue(status.startswith("HTTP/1.1 413"), status)
                    self.assertTrue(headers.get("content-type", "").startswith("application/json"), headers)
                    self.assertError(Response(413, headers, parse_json(body), body), 413,
                                     "request.too.large", service, name)
                    # the server closes the connection after answering
                    s.shutdown(socket.SHUT_WR)
                    try:
                        rest = s.recv(65536)
                    except ConnectionResetError:
                        rest = b""
                    self.assertEqual(rest, b"", "data after the 413")
                self.assertEqual(self.server.health(), 200)
        r = self.api.get_payout("hardening-big")
        self.assertError(r, 404, "transaction.not.found", PAY)
        r = self.api.admin("GET", "/clients/bigclient")
        self.assertError(r, 404, "client.not.found", ADMIN)


# --------------------------------------------------------------------------------------------

class AdminValidationTest(ServerTestCase):

    def test_credit_validation(self):
        f0 = self.api.funder_balance(CASHBACK)
        b0 = self.api.funder_balance(BONUS)
        cid = "hardening-credit-1"
        cases = [
            ("zero", CASHBACK, cid, {"value": "0.00", "currency": "RUB"}, 400, "validation.error"),
            ("zero number", CASHBACK, cid, {"value": Raw("0"), "currency": "RUB"}, 400, "validation.error"),
            ("negative", CASHBACK, cid, {"value": "-1.00", "currency": "RUB"}, 400, "validation.error"),
            ("3 fraction digits", CASHBACK, cid, {"value": "1.005", "currency": "RUB"}, 400, "validation.error"),
            ("3 fraction digits number", CASHBACK, cid, {"value": Raw("1.005"), "currency": "RUB"}, 400,
             "validation.error"),
            ("EUR on a RUB funder", CASHBACK, cid, {"value": "10.00", "currency": "EUR"}, 422, "currency.mismatch"),
            ("unknown funder", "no-such-funder", cid, {"value": "10.00", "currency": "RUB"}, 404,
             "funder.not.found"),
        ]
        for name, funder, credit_id, amount, status, code in cases:
            with self.subTest(name):
                r = self.api.admin("POST", f"/funders/{funder}/credits/{credit_id}", {"amount": amount})
                self.assertError(r, status, code, ADMIN, name)
                if status == 400:
                    self.assertIn("value", r.json["description"])
        self.assertEqual(self.api.funder_balance(CASHBACK), f0, "a refused credit moved money")

        # the refused credits did not consume the id
        r = self.api.credit_funder(CASHBACK, cid, "10.00")
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(self.api.funder_balance(CASHBACK) - f0, Decimal("10.00"))
        for name, funder, value, currency, status, code in [
                ("same id, other amount", CASHBACK, "11.00", "RUB", 409, "id.conflict"),
                ("same id, other funder", BONUS, "10.00", "RUB", 409, "id.conflict")]:
            with self.subTest(name):
                r = self.api.credit_funder(funder, cid, value, currency)
                self.assertError(r, status, code, ADMIN, name)
        for value in ("10.00", Raw("10.00"), Raw("10.0"), "10"):
            with self.subTest(replay=str(value)):
                r = self.api.credit_funder(CASHBACK, cid, value)
                self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(self.api.funder_balance(CASHBACK) - f0, Decimal("10.00"), "credited more than once")
        self.assertEqual(self.api.funder_balance(BONUS), b0)
        self.assertMoney(self.api.funder(CASHBACK)["reserved"], "0.00")

    def test_client_creation(self):
        client, account = "hardeningclient00001", "hardeningaccount0001"
        for attempt in (1, 2):
            with self.subTest(attempt=attempt):
                r = self.api.create_client(client, account)
                self.assertEqual(r.status, 200, r.raw)
                self.assertEqual((r.json["clientId"], r.json["accountId"], r.json["currency"]),
                                 (client, account, "RUB"))
                self.assertEqual(len(r.json["accounts"]), 1, r.raw)
        got = self.api.client(client)
        self.assertEqual([a["accountId"] for a in got["accounts"]], [account], "one wallet")
        self.assertEqual(got["status"], "ACTIVE")

        cases = [
            ("same accountId, other currency", client, {"accountId": account, "currency": "EUR"}),
            ("second RUB wallet for the client", client, {"accountId": "hardeningaccount0002", "currency": "RUB"}),
            ("same accountId for another client", "hardeningclient00002", {"accountId": account, "currency": "RUB"}),
            ("same client, same wallet, now BLOCKED", client,
             {"accountId": account, "currency": "RUB", "status": "BLOCKED"}),
        ]
        for name, cid, body in cases:
            with self.subTest(name):
                r = self.api.admin("PUT", f"/clients/{cid}", body)
                self.assertError(r, 409, "id.conflict", ADMIN, name)
        got2 = self.api.client(client)
        self.assertEqual(got2, got, "a refused client creation changed the client")
        r = self.api.admin("GET", "/clients/hardeningclient00002")
        self.assertError(r, 404, "client.not.found", ADMIN)
        r = self.api.history("hardeningaccount0002", limit=1)
        self.assertError(r, 404, "account.not.found", "payoutd-reports")

        # a BLOCKED client: its payouts are DECLINED CLIENT_ACCOUNT_BLOCKED, nothing moves
        blocked, blocked_account = "hardeningblocked0001", "hardeningblockedacc1"
        body = {"accountId": blocked_account, "currency": "RUB", "status": "BLOCKED"}
        for attempt in (1, 2):
            r = self.api.admin("PUT", f"/clients/{blocked}", body)
            self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(self.api.client(blocked)["status"], "BLOCKED")
        b0 = self.api.funder_balance(BONUS)
        r = self.api.payout("hardening-blocked-1", BONUS, blocked, "5.00")
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.json["status"], "DECLINED", r.raw)
        self.assertEqual(r.json["declineReason"]["code"], "CLIENT_ACCOUNT_BLOCKED")
        self.assertEqual(self.api.get_payout("hardening-blocked-1").json, r.json)
        self.assertEqual(self.api.funder_balance(BONUS), b0)
        self.assertMoney(self.api.client(blocked)["balance"], "0.00")
        items = self.api.history_all(blocked_account)
        self.assertEqual([i["commonTxnInfo"]["domainTxnId"] for i in items], ["hardening-blocked-1"])
        self.assertEqual(items[0]["commonTxnInfo"]["txnErrorInfo"]["errorCode"], "CLIENT_ACCOUNT_BLOCKED")

    def test_read_your_writes_on_one_keep_alive_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        self.addCleanup(conn.close)
        hdrs = {"Authorization": f"Bearer {PARTNER_TOKEN}", "Content-Type": "application/json"}
        plan = [CLIENT, BLOCKED_CLIENT, PROCESSING_CLIENT, "fciscvrywl9511144790", CLIENT]
        sock = None
        for n in range(50):
            txn = f"ryw-{n:03d}"
            client = plan[n % len(plan)]
            conn.request("PUT", payout_path(txn), body=dumps(payout_body(BONUS, client, "1.00")).encode(),
                         headers=hdrs)
            resp = conn.getresponse()
            raw = resp.read()
            openapi_check.check("PUT", payout_path(txn), resp.status,
                                 {k.lower(): v for k, v in resp.getheaders()}, raw)
            put = parse_json(raw)
            self.assertEqual(resp.status, 200, put)
            sock = sock or conn.sock
            conn.request("GET", payout_path(txn), headers=hdrs)
            resp = conn.getresponse()
            raw = resp.read()
            openapi_check.check("GET", payout_path(txn), resp.status,
                                 {k.lower(): v for k, v in resp.getheaders()}, raw)
            got = parse_json(raw)
            self.assertEqual(resp.status, 200, f"{txn}: GET right after the PUT answered {resp.status} {got}")
            self.assertIs(conn.sock, sock, "the keep-alive connection was closed")
            if put["status"] == "PROCESSING":
                # a processing payout may settle at any time, but never goes back
                self.assertIn(got["status"], ("PROCESSING", "SUCCESS"), txn)
            else:
                self.assertEqual(got, put, f"{txn}: GET differs from the PUT's answer")
            expected = {BLOCKED_CLIENT: "DECLINED", PROCESSING_CLIENT: "PROCESSING"}.get(client, "SUCCESS")
            self.assertEqual(put["status"], expected, txn)


# --------------------------------------------------------------------------------------------

class ConfigValidationTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="payoutd-e2e-config-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.sandbox = config_text()

    def write(self, name, text):
        path = os.path.join(self.tmp, name + ".toml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def replace(self, old, new):
        self.assertEqual(self.sandbox.count(old), 1, f"the sandbox config changed: {old!r}")
        return self.sandbox.replace(old, new)

    def test_invalid_configs_are_refused(self):
        cases = [
            ("io_threads", self.replace("io_threads = 2", "io_threads = 0"), "io_threads"),
            ("body_limit_bytes", self.replace("body_limit_bytes = 65536", "body_limit_bytes = -1"),
             "body_limit_bytes"),
            ("admin token", self.replace('token = "sandbox-admin-token"', 'token = "short"'), "admin.token"),
            ("duplicate product", self.sandbox + '\n[[qiwi.products]]\nid = "best-partner"\n'
             'tokens = ["another-token-of-16-chars"]\n', "qiwi.products"),
            ("sandbox key outside the sandbox", config_text(outside_sandbox()).replace(
                f'kek = "{OUTSIDE_KEK}"', 'kek = "sandbox-only:' + OUTSIDE_KEK + '"'), "vault.kek"),
            ("no SMTP server outside the sandbox", config_text(outside_sandbox(
                {'# smtp_url = "smtp://127.0.0.1:2525"': '# smtp_url = "smtp://127.0.0.1:2525"'})), "mail.smtp_url"),
            ("malformed key", re.sub(r'^kek = ".*"$', 'kek = "sandbox-only:abcd"', self.sandbox, flags=re.M),
             "vault.kek"),
            ("no BIN table", re.sub(r'^bin_table = "[^"]*"', 'bin_table = "/nonexistent/bins.csv"', self.sandbox,
                                    flags=re.M), "BIN table"),
            ("rail latency over its timeout", self.replace("latency_ms = 100 ", "latency_ms = 5000 "),
             "rail.latency_ms"),
            ("unknown rail behaviour", self.replace('"4000000000000002" = "decline"',
                                                    '"4000000000000002" = "explode"'), "rail.cards"),
            ("bereke partner without a password", self.replace('password = "payout_api_password"\n', ""),
             "bereke.partners[0].password"),
            ("bereke card that fails Luhn", self.replace('pan = "4111111111111111"', 'pan = "4111111111111112"'),
             "recipient_bindings[0].pan"),
            ("cabinet password in clear", re.sub(r'^password_hash = ".*"$', 'password_hash = "payout_api_password"',
                                                 self.sandbox, count=1, flags=re.M), "cabinet.users[0].password_hash"),
            ("cabinet user of no tenant", re.sub(r'^tenant = "bereke:sandbox-partner"$', 'tenant = "bereke:nobody"',
                                                 self.sandbox, count=1, flags=re.M), "cabinet.users[0].tenant"),
            ("cabinet role that is not one", self.replace('roles = ["viewer"]', 'roles = ["admin"]'),
             "cabinet.users[1].roles"),
            ("duplicate cabinet login", self.sandbox + '\n[[cabinet.users]]\nlogin = "merchant-91348"\n'
             'tenant = "ecommpay:91348"\npassword_hash = "' +
             re.search(r'^password_hash = "(.*)"$', self.sandbox, flags=re.M).group(1) + '"\n',
             "cabinet.users[4].login"),
        ]
        self.refuse_all(cases)
        with self.subTest("the unmodified copy starts (the cases differ from it only by the key)"):
            path = self.write("valid", self.sandbox)
            port = free_port()
            proc = subprocess.Popen([str(binary_path()), "serve", "--config", path, "--listen",
                                     f"127.0.0.1:{port}", "--data-dir", os.path.join(self.tmp, "data-valid")],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            try:
                seen = ""
                for line in iter(proc.stdout.readline, b""):
                    seen += line.decode("utf-8", "replace")
                    if "listening on" in seen:
                        break
                self.assertIn(f"listening on http://127.0.0.1:{port}", seen)
            finally:
                proc.terminate()
                self.assertEqual(proc.wait(30), 0)
                proc.stdout.close()

    def refuse_all(self, cases):
        """Each (name, config text, key) fails to start, with a message naming the key."""
        for name, text, key in cases:
            with self.subTest(name):
                path = self.write(name.replace(" ", "_"), text)
                data_dir = os.path.join(self.tmp, "data-" + name.replace(" ", "_"))
                port = free_port()
                rc, out, err = run_serve(path, data_dir, listen=f"127.0.0.1:{port}")
                self.assertIsNotNone(rc, f"payoutd kept running with an invalid config ({name})\n{err}")
                self.assertNotEqual(rc, 0, f"{name}: exit 0\n{err}")
                self.assertNotIn("listening on", out)
                self.assertIn(key, err, f"{name}: the message does not name {key}: {err!r}")
                self.assertTrue(port_is_closed(port), f"{name}: something listens on {port}")

    def starts(self, text, name):
        """The config starts a server that answers /healthz."""
        path = self.write(name, text)
        server = Server(data_dir=os.path.join(self.tmp, "data-" + name))
        server.config = path
        try:
            server.start()
            return server.health() == 200
        finally:
            if server.running():
                server.stop(check=True)
            server.close()

    def test_published_sandbox_secrets_are_refused_outside_the_sandbox(self):
        # Every value the sandbox publishes (its config, the spec, the docs, the seeds) opens
        # nothing outside it: each is refused at start, named by its key, whatever its prefix or
        # case. (A sandbox admin token once minted 9,999,999 KZT on a server with sandbox = false.)
        private = config_text(outside_sandbox())
        published = {old: new for old, new in outside_sandbox().items()
                     if "sandbox = " not in old and "smtp" not in old and "listen" not in old}
        self.assertEqual(len(published), 16, "a published secret of the sandbox config is missing from the cases")
        staff_hashes = set(re.findall(r'\[\[admin\.staff\]\](?:\n.*){3}\npassword_hash = "([^"]+)"', self.sandbox))
        self.assertEqual(len(staff_hashes), 4)
        cases = []
        for old, new in published.items():
            key = {"kek": "vault.kek", "token ": "admin.token", "tokens": "qiwi.products[0].tokens[0]",
                   "password ": "bereke.partners[0].password", "secret_key": "ecommpay.projects[",
                   "password_hash": "cabinet.users["}[next(k for k in ("kek", "tokens", "token ", "password ",
                                                                     "secret_key", "password_hash") if k in old)]
            key = "admin.staff[" if any(h in old for h in staff_hashes) else key
            cases.append((f"published {key} {len(cases)}", private.replace(new, old), key))
        kek = re.search(r'sandbox-only:([0-9a-f]+)', self.sandbox).group(1)
        cases += [
            ("published key without its prefix", private.replace(OUTSIDE_KEK, kek), "vault.kek"),
            ("published key in capitals", private.replace(OUTSIDE_KEK, kek.upper()), "vault.kek"),
            ("published admin token in capitals",
             private.replace(OUTSIDE_ADMIN_TOKEN, ADMIN_TOKEN.upper()), "admin.token"),
            ("a short admin token", private.replace(OUTSIDE_ADMIN_TOKEN, "only-20-characters!!"), "admin.token"),
            ("no admin token", private.replace(f'token = "{OUTSIDE_ADMIN_TOKEN}"', 'token = ""'), "admin.token"),
        ]
        self.refuse_all(cases)
        with self.subTest("private secrets start; admin.enabled = false turns the admin API off"):
            self.assertTrue(self.starts(private, "private"))
            self.assertTrue(self.starts(private.replace(f'token = "{OUTSIDE_ADMIN_TOKEN}"',
                                                        'token = ""\nenabled = false'), "admin-off"))


class VaultKeyTest(unittest.TestCase):
    """The vault's key-encryption key: another key does not open an existing vault, and a node
    without card payouts needs none."""

    def test_another_key_does_not_open_the_vault(self):
        server = Server()
        try:
            server.start()
            server.stop()
            other = "sandbox-only:" + "ab" * 32
            env = dict(os.environ, PAYOUTD_VAULT_KEK=other)
            p = subprocess.run([str(binary_path()), "serve", "--config", str(server.config), "--listen",
                                "127.0.0.1:0", "--data-dir", server.data_dir], env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=REFUSE_TIMEOUT)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(b"does not open the stored data key", p.stderr)
            self.assertNotIn(b"listening on", p.stdout)
            server.start()  # the right key still does
        finally:
            server.close()

    def test_a_node_without_card_payouts_needs_no_key(self):
        text = config_text()
        text = re.sub(r'^kek = ".*"$', "", text, flags=re.M)
        text = text[:text.index("[[bereke.partners]]")]
        tmp = tempfile.mkdtemp(prefix="payoutd-e2e-nokek-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "qiwi-only.toml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        server = Server()
        server.config = path
        try:
            server.start()
            api = Api(server)
            self.assertEqual(api.payout(unique("nk"), BONUS, next(iter(CLIENTS)), "1.00").status, 200)
            self.assertEqual(api.bereke("getAmount.do", {}).status, 401)
            api.close()
            server.stop(check=True)
        finally:
            server.close()
        with_partner = path.replace(".toml", "-bereke.toml")
        with open(with_partner, "w", encoding="utf-8") as f:
            f.write(text + '[[bereke.partners]]\nid = "p"\nuser_name = "u"\npassword = "p"\n')
        rc, out, err = run_serve(with_partner, os.path.join(tmp, "data2"))
        self.assertNotEqual(rc, 0)
        self.assertIn("vault.kek", err)


class StatsTest(unittest.TestCase):
    """GET /admin/v1/stats shows the group committer's counters; admin token only."""

    def test_counters_move_with_payouts(self):
        server = Server()
        try:
            server.start()
            api = Api(server)
            before = api.request("GET", "/admin/v1/stats", auth=ADMIN_TOKEN)
            self.assertEqual(before.status, 200, before.raw)
            c0 = before.json["committer"]
            for key in ("jobs", "batches", "failedBatches", "conflicts", "largestBatchJobs", "syncs",
                        "applyUsTotal", "commitUsTotal", "syncUsTotal"):
                self.assertIsInstance(c0[key], int, key)
            for _ in range(5):
                self.assertEqual(api.payout(unique("st"), BONUS, next(iter(CLIENTS)), "1.00").status, 200)
            c1 = api.request("GET", "/admin/v1/stats", auth=ADMIN_TOKEN).json["committer"]
            self.assertGreaterEqual(c1["jobs"] - c0["jobs"], 5)
            self.assertGreaterEqual(c1["syncs"], c0["syncs"] + 1)
            self.assertEqual(c1["failedBatches"], 0)
            self.assertEqual(api.request("GET", "/admin/v1/stats").status, 401)  # partner token
            self.assertEqual(api.request("POST", "/admin/v1/stats", auth=ADMIN_TOKEN).status, 405)
            api.close()
            server.stop(check=True)
        finally:
            server.close()



class PrivateFilesTest(IsolatedServerTestCase):
    """The data directory holds payouts, sealed cards and messages: none of it is readable by
    anyone but payoutd's user, whatever umask started it, and an older release's files are
    tightened at the next start."""

    def setUp(self):
        previous = os.umask(0o022)  # a permissive umask, as a service manager may set
        self.addCleanup(os.umask, previous)
        super().setUp()

    def shared_with_others(self):
        found = []
        for root, dirs, files in os.walk(self.server.data_dir):
            for name in [root] + [os.path.join(root, f) for f in files]:
                mode = os.stat(name).st_mode & 0o777
                if mode & 0o077:
                    found.append(f"{name} {mode:o}")
        return found

    def test_every_file_and_directory_of_the_data_directory_is_private(self):
        from test_ecommpay_page import form  # noqa: E402
        self.assertEqual(self.api.payout(unique("priv"), BONUS, CLIENT, Raw("1.00")).status, 200)
        self.assertEqual(self.api.perform(unique("priv"), pan="4111111111111111").status, 200)  # rail.db
        payment_id = unique("priv")
        self.assertEqual(self.api.ecommpay_register(payment_id).status, 200)
        uuid = None
        deadline = time.monotonic() + 10
        while uuid is None and time.monotonic() < deadline:
            mine = [c for c in self.api.sandbox_callbacks() if c["general"]["payment_id"] == payment_id]
            uuid = mine[0]["uuid"] if mine else None
            time.sleep(0.05)
        r = form(self.api, "/payment/card", {"uuid": uuid, "lang": "en", "pan": "4111111111111111", "cardholder": "A B"})
        self.assertEqual(r.status, 200, r.raw)  # a code's email in the mail sink
        deadline = time.monotonic() + 10
        while not glob.glob(os.path.join(self.server.data_dir, "mail", "*.eml")):
            self.assertLess(time.monotonic(), deadline, "no mail")
            time.sleep(0.05)
        names = {os.path.relpath(os.path.join(root, f), self.server.data_dir)
                 for root, _, files in os.walk(self.server.data_dir) for f in files}
        self.assertTrue({"payoutd.db", "payoutd.db-wal", "rail.db"} <= names, names)
        self.assertEqual(self.shared_with_others(), [])
        # What an older release left readable (directories, databases; its sinks' messages were
        # always 0600) is tightened at the next start.
        self.server.stop()
        for root, dirs, files in os.walk(self.server.data_dir):
            os.chmod(root, 0o755)
            for f in files:
                if not f.endswith(".eml"):
                    os.chmod(os.path.join(root, f), 0o644)
        self.server.start()
        self.assertEqual(self.api.payout(unique("priv"), BONUS, CLIENT, Raw("1.00")).status, 200)
        self.assertEqual(self.shared_with_others(), [])


if __name__ == "__main__":
    unittest.main()
