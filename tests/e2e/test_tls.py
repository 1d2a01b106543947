"""HTTPS (docs/tls.md): the TLS listener beside the plain one, with real clients (curl, Python's
ssl, the openssl command line): TLS 1.3 and 1.2 with AEAD suites only, TLS 1.0/1.1 refused by the
server, ALPN http/1.1, session resumption, the handshake's deadline; the public origin and Secure
cookies; the plain listener refused outside the sandbox; the certificate reloaded on SIGHUP under
load without a failed request.

Every class makes its own test CA and certificates (pki.py) in a temporary directory."""
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import warnings

from harness import (BEREKE_PASSWORD, BEREKE_USER, CLIENTS, BONUS, OUTSIDE_BEREKE_PASSWORD, OUTSIDE_LISTEN,
                     OUTSIDE_PARTNER_TOKEN, OUTSIDE_PUBLIC_URL, SANDBOX_LISTEN_LINE, Api, HarnessError,
                     Server, ServerTestCase, free_port, outside_sandbox)
from pki import Pki, PkiServerCase, fingerprint
import openapi_check

TLS13_SUITES = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}
PUBLIC_URL_LINE = '# public_url = "https://payouts.example.org"'
CLIENT_ID = next(iter(CLIENTS))


def tls_options(pki, name="server", client_ca=False):
    chain, key = pki.server_cert(name)
    options = {"cert_file": chain, "key_file": key}
    if client_ca:
        options["client_ca_file"] = pki.ca_cert
    return options


def handshake(port, context, session=None, timeout=10):
    """A TLS connection to 127.0.0.1:port (closed by the caller)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        return context.wrap_socket(raw, server_hostname="127.0.0.1", session=session)
    except BaseException:
        raw.close()
        raise


def get(tls_socket, path="/healthz"):
    """One keep-alive GET over an open TLS socket: (status, its Set-Cookie values, body)."""
    conn = http.client.HTTPConnection("127.0.0.1")
    conn.sock = tls_socket
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    openapi_check.check("GET", path, r.status, {k.lower(): v for k, v in r.getheaders()}, body)
    return r.status, r.msg.get_all("set-cookie") or [], body


def s_client(port, *args):
    """openssl s_client's output (stdout and stderr) of a handshake with 127.0.0.1:port."""
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-brief", *args],
                       input=b"", capture_output=True, timeout=30)
    return r.returncode, (r.stdout + r.stderr).decode("utf-8", "replace")


def form_url(api):
    """formUrl of a Bereke hosted-page order registered through `api`."""
    body = {"userName": BEREKE_USER, "password": BEREKE_PASSWORD,
            "orderNumber": f"tls-{time.monotonic_ns()}", "amount": 100, "currency": "398"}
    r = api.bereke("registerPayout.do", body)
    assert r.status == 200, r.raw
    return r.json["formUrl"]


class PkiCase(PkiServerCase, ServerTestCase):
    """A ServerTestCase whose server gets the TLS options of a fresh test CA (tls_server())."""

    @classmethod
    def tls_server(cls, pki):
        return {"tls": tls_options(pki)}

    @classmethod
    def server_options_with(cls, pki):
        return dict(cls.tls_server(pki))

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tls = cls.pki.client_context()
        cls.https = Api(cls.server, tls=cls.tls)

    @classmethod
    def tearDownClass(cls):
        cls.https.close()
        super().tearDownClass()


class HttpsListenerTest(PkiCase):
    """The sandbox serving both: plain HTTP on [server] listen and HTTPS on [server.tls]."""

    @classmethod
    def tls_server(cls, pki):
        return {"tls": tls_options(pki), "config_replace": {"read_timeout_s = 10 ": "read_timeout_s = 2 "}}

    def test_curl_over_tls13_gets_http11_by_alpn(self):
        r = subprocess.run(["curl", "-sS", "-v", "--tlsv1.3", "--cacert", self.pki.ca_cert,
                            f"https://127.0.0.1:{self.server.tls_port}/healthz"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), {"status": "ok"})
        self.assertRegex(r.stderr, r"SSL connection using TLSv1\.3 / TLS_(AES_\d+_GCM|CHACHA20_POLY1305)_SHA\d+")
        self.assertIn("ALPN: server accepted http/1.1", r.stderr)
        self.assertEqual(self.api.request("GET", "/healthz", auth=None).status, 200, "plain HTTP still served")

    def test_python_over_tls13_pays_out(self):
        with handshake(self.server.tls_port, self.tls) as s:
            self.assertEqual(s.version(), "TLSv1.3")
            self.assertEqual(s.selected_alpn_protocol(), "http/1.1")
            self.assertIn(s.cipher()[0], TLS13_SUITES)
        r = self.https.payout(f"tls-{time.monotonic_ns()}", BONUS, CLIENT_ID, "1.00")
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.json["status"], "SUCCESS")

    def test_alpn_without_http11_is_refused(self):
        context = self.pki.client_context()
        context.set_alpn_protocols(["h2"])
        with self.assertRaisesRegex(ssl.SSLError, "(?i)no.application.protocol"):
            handshake(self.server.tls_port, context).close()

    def test_tls12_takes_ecdhe_with_aead_only(self):
        context = self.pki.client_context()
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers("ECDHE-ECDSA-CHACHA20-POLY1305")
        with handshake(self.server.tls_port, context) as s:
            self.assertEqual((s.version(), s.cipher()[0]), ("TLSv1.2", "ECDHE-ECDSA-CHACHA20-POLY1305"))
            self.assertEqual(get(s)[0], 200)
        for cbc in ("ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384"):
            with self.subTest(cbc):
                context.set_ciphers(cbc)
                with self.assertRaisesRegex(ssl.SSLError, "HANDSHAKE_FAILURE"):
                    handshake(self.server.tls_port, context).close()

    def test_tls10_and_tls11_clients_are_refused_by_the_server(self):
        # The client is made able to speak the old versions (OpenSSL 3 and Debian forbid them by
        # default: security level 0). A control server of openssl's own, allowing them, proves it
        # is; payoutd then answers the same ClientHello with a protocol_version alert.
        chain, key = tls_options(self.pki, "control")["cert_file"], self.pki.path("control.key")
        for flag, version in (("-tls1", "TLSv1"), ("-tls1_1", "TLSv1.1")):
            with self.subTest(version):
                port = free_port()
                control = subprocess.Popen(["openssl", "s_server", "-accept", str(port), "-cert", chain,
                                            "-key", key, flag, "-cipher", "DEFAULT@SECLEVEL=0"],
                                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                           stderr=subprocess.DEVNULL)
                try:
                    while control.stdout.readline().strip() != b"ACCEPT":  # ready
                        self.assertIsNone(control.poll(), "openssl s_server did not start")
                    rc, out = s_client(port, flag, "-cipher", "DEFAULT@SECLEVEL=0")
                    self.assertRegex(out, rf"(?m)^Protocol version: {re.escape(version)}$",
                                     "the client cannot speak it")
                finally:
                    control.kill()
                    control.wait(10)
                    control.stdin.close()
                    control.stdout.close()
                rc, out = s_client(self.server.tls_port, flag, "-cipher", "DEFAULT@SECLEVEL=0")
                self.assertNotEqual(rc, 0, out)
                self.assertIn("alert protocol version", out)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.set_ciphers("DEFAULT@SECLEVEL=0")
        with warnings.catch_warnings():  # deprecated: what this test is about
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
        with self.assertRaisesRegex(ssl.SSLError, "TLSV1_ALERT_PROTOCOL_VERSION"):
            handshake(self.server.tls_port, context).close()

    def test_sessions_resume(self):
        for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            with self.subTest(version.name):
                context = self.pki.client_context()
                context.minimum_version = context.maximum_version = version
                with handshake(self.server.tls_port, context) as first:
                    self.assertEqual(get(first)[0], 200)  # TLS 1.3's tickets come after the handshake
                    session = first.session
                    self.assertFalse(first.session_reused)
                with handshake(self.server.tls_port, context, session=session) as again:
                    self.assertTrue(again.session_reused)
                    self.assertEqual(get(again)[0], 200)

    def test_a_silent_handshake_is_cut_at_read_timeout(self):
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.server.tls_port), timeout=30) as s:
            self.assertEqual(recv_until_closed(s), b"")
        waited = time.monotonic() - started
        self.assertGreaterEqual(waited, 1.5)
        self.assertLess(waited, 10)
        self.assertEqual(self.api.request("GET", "/healthz", auth=None).status, 200)

    def test_plain_http_to_the_tls_port_gets_no_answer(self):
        with socket.create_connection(("127.0.0.1", self.server.tls_port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertNotIn(b"HTTP/1.1", recv_until_closed(s))

    def test_public_origin_is_the_tls_listener_by_default(self):
        self.assertTrue(form_url(self.api).startswith(f"https://127.0.0.1:{self.server.tls_port}/payouts/payment/"))

    def test_cabinet_cookies_are_secure_over_tls_only(self):
        with handshake(self.server.tls_port, self.tls) as s:
            status, cookies, _ = get(s, "/cabinet/login?lang=en")
        self.assertEqual(status, 200)
        self.assertEqual(len(cookies), 2, cookies)  # the login form's, the language's
        for cookie in cookies:
            self.assertTrue(cookie.endswith("; Secure"), cookie)
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            status, cookies, _ = get(s, "/cabinet/login?lang=en")
        self.assertEqual(len(cookies), 2, cookies)
        for cookie in cookies:
            self.assertNotIn("Secure", cookie, "a sandbox over plain HTTP")


def recv_until_closed(s):
    """What the server sends until it closes (by FIN or reset)."""
    received = b""
    try:
        while chunk := s.recv(4096):
            received += chunk
    except ConnectionResetError:
        pass
    return received


class PublicUrlTest(ServerTestCase):
    """[server] public_url: the base of formUrl, and Secure cookies over plain HTTP (a proxy
    terminates TLS in front)."""

    server_options = {"config_replace": {PUBLIC_URL_LINE: 'public_url = "https://payouts.example.org/"'}}

    def test_form_url_takes_the_public_url(self):
        self.assertTrue(form_url(self.api).startswith("https://payouts.example.org/payouts/payment/"))

    def test_cookies_are_secure_behind_an_https_origin(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            status, cookies, _ = get(s, "/cabinet/login?lang=en")
        self.assertEqual(len(cookies), 2, cookies)
        for cookie in cookies:
            self.assertTrue(cookie.endswith("; Secure"), cookie)


class ListenerRulesTest(unittest.TestCase):
    """Outside the sandbox: HTTPS, or plain HTTP only behind a proxy, and an https public origin."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="payoutd-tls-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.pki = Pki(self.tmp)

    def refused(self, key, **options):
        server = Server(**options)
        try:
            with self.assertRaises(HarnessError) as caught:
                server.start()
            self.assertIn(key, str(caught.exception))
        finally:
            server.close()

    def test_plain_listener_is_refused_outside_the_sandbox_unless_behind_a_proxy(self):
        no_proxy = outside_sandbox({SANDBOX_LISTEN_LINE: SANDBOX_LISTEN_LINE + f'\npublic_url = "{OUTSIDE_PUBLIC_URL}"'})
        self.refused("server.plain_http_behind_proxy", config_replace=no_proxy)
        # --listen alone (the config names no plain listener) is refused as well.
        self.refused("server.plain_http_behind_proxy", config_replace=no_proxy, tls=tls_options(self.pki),
                     extra_args=["--listen", "127.0.0.1:0"], listen=None)

    def test_public_url_outside_the_sandbox_is_required_and_https(self):
        without = outside_sandbox({SANDBOX_LISTEN_LINE: SANDBOX_LISTEN_LINE + "\nplain_http_behind_proxy = true"})
        self.refused("server.public_url", config_replace=without)
        http_origin = outside_sandbox({SANDBOX_LISTEN_LINE: OUTSIDE_LISTEN.replace("https://", "http://")})
        self.refused("server.public_url", config_replace=http_origin)

    def test_unreadable_or_mismatched_tls_files_are_refused(self):
        options = tls_options(self.pki)
        self.refused("[server.tls] cert_file", tls=dict(options, cert_file=self.pki.path("missing.pem")))
        other_key = tls_options(self.pki, "other")["key_file"]
        self.refused("[server.tls] key_file", tls=dict(options, key_file=other_key))

    def test_https_only_outside_the_sandbox(self):
        server = Server(config_replace=outside_sandbox(), tls=tls_options(self.pki), listen=None)
        try:
            server.start()
            self.assertIsNone(server.port)
            api = Api(server, tls=self.pki.client_context())
            self.addCleanup(api.close)
            r = api.payout(f"tls-{time.monotonic_ns()}", BONUS, CLIENT_ID, "1.00", auth=OUTSIDE_PARTNER_TOKEN)
            self.assertEqual(r.status, 200, r.raw)
            r = api.bereke("registerPayout.do", {"userName": BEREKE_USER, "password": OUTSIDE_BEREKE_PASSWORD,
                                                 "orderNumber": "tls-only", "amount": 100, "currency": "398"})
            self.assertEqual(r.status, 200, r.raw)
            self.assertTrue(r.json["formUrl"].startswith(OUTSIDE_PUBLIC_URL + "/payouts/payment/"))
            server.stop()
        finally:
            server.close()


class ReloadTest(PkiCase):
    """SIGHUP reads the certificate again while clients keep calling: keep-alive connections keep
    theirs, new connections get the new one, no request fails; a bad file keeps the current one."""

    def new_connection_certificate(self):
        with handshake(self.server.tls_port, self.tls) as s:
            return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()

    def install(self, name):
        """Writes certificate `name` (issued by the same CA) over the configured files."""
        fresh = tls_options(self.pki, name)
        for key in ("cert_file", "key_file"):
            staged = self.server.tls[key] + ".new"
            shutil.copyfile(fresh[key], staged)
            os.replace(staged, self.server.tls[key])
        return fingerprint(self.pki.path(f"{name}.crt"))

    def test_reload_under_load_drops_nothing(self):
        first = fingerprint(self.pki.path("server.crt"))
        self.assertEqual(self.new_connection_certificate(), first)
        load = Load(self.server.tls_port, self.tls)
        load.start()
        try:
            time.sleep(0.5)
            second = self.install("server-2")
            self.server.proc.send_signal(signal.SIGHUP)
            self.wait_certificate(second)
            time.sleep(0.5)
            with open(self.server.tls["cert_file"], "w", encoding="utf-8") as f:
                f.write("not a certificate\n")
            self.server.proc.send_signal(signal.SIGHUP)
            self.wait_log("TLS reload failed")
            self.assertEqual(self.new_connection_certificate(), second, "a bad file replaced the certificate")
            time.sleep(0.5)
        finally:
            load.stop()
        self.assertEqual(load.failures, [])
        self.assertGreater(load.keep_alive_requests, 20)
        self.assertGreater(load.new_connection_requests, 10)
        self.assertEqual(load.keep_alive_certificates, {first}, "a kept connection changed certificate")
        self.assertEqual(load.new_connection_certificates, {first, second})

    def wait_certificate(self, wanted, timeout=10):
        deadline = time.monotonic() + timeout
        while self.new_connection_certificate() != wanted:
            self.assertLess(time.monotonic(), deadline, "new connections never got the new certificate")
            time.sleep(0.05)

    def wait_log(self, text, timeout=10):
        deadline = time.monotonic() + timeout
        while text not in self.server.log_tail(200):
            self.assertLess(time.monotonic(), deadline, f"no {text!r} in the log")
            time.sleep(0.05)


class Load:
    """Threads calling GET /healthz over TLS: two on one keep-alive connection each (never
    reopened: a dropped connection is a failure), two on a new connection per request."""

    def __init__(self, port, context):
        self.port, self.context = port, context
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.failures = []
        self.keep_alive_requests = self.new_connection_requests = 0
        self.keep_alive_certificates, self.new_connection_certificates = set(), set()
        self.threads = [threading.Thread(target=self.keep_alive, daemon=True) for _ in range(2)] + \
                       [threading.Thread(target=self.new_connections, daemon=True) for _ in range(2)]

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(30)

    def note(self, certificates, s, counter):
        with self.lock:
            certificates.add(hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest())
            setattr(self, counter, getattr(self, counter) + 1)

    def keep_alive(self):
        try:
            with handshake(self.port, self.context) as s:
                while not self.stopping.is_set():
                    status, _, _ = get(s)
                    if status != 200:
                        self.failures.append(f"keep-alive: {status}")
                    self.note(self.keep_alive_certificates, s, "keep_alive_requests")
                    time.sleep(0.01)
        except Exception as e:  # noqa: BLE001: every failure is the test's finding
            self.failures.append(f"keep-alive: {e!r}")

    def new_connections(self):
        while not self.stopping.is_set():
            try:
                with handshake(self.port, self.context) as s:
                    status, _, _ = get(s)
                    if status != 200:
                        self.failures.append(f"new connection: {status}")
                    self.note(self.new_connection_certificates, s, "new_connection_requests")
            except Exception as e:  # noqa: BLE001
                self.failures.append(f"new connection: {e!r}")


if __name__ == "__main__":
    unittest.main()
