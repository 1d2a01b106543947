"""Real client addresses behind a proxy (docs/proxies.md), through a real haproxy started by the
test: the PROXY protocol (versions 1 and 2) on a `server.proxy_protocol` listener, and
X-Forwarded-For on a plain one, each believed only from `server.trusted_proxies`. The client
address is what the ecommpay allowlist, the cabinet's throttle and its audit log see.

Every client connects from its own loopback address (127.0.0.0/8 is all loopback): haproxy
reports that address, and connects to payoutd from 127.0.0.1, the one trusted proxy."""
import os
import re
import socket
import ssl
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openapi_check  # noqa: E402
from harness import ECOMMPAY_FOREIGN_ONLY, Api, Server, ServerTestCase, parse_head, unique  # noqa: E402
from haproxy import Frontend, Haproxy  # noqa: E402
from pki import PkiServerCase  # noqa: E402
from test_cabinet import BEREKE, Browser  # noqa: E402

PROXY = "127.0.0.1"           # haproxy's address towards payoutd: the trusted proxy
ALLOWLISTED = "127.0.0.2"     # on project ECOMMPAY_FOREIGN_ONLY's allowlist (below)
STRANGER = "127.0.0.3"        # on no allowlist
# The sandbox project that allowlists only a foreign address now allowlists one client on
# loopback; and the cabinet waits a minute after the free failures, so that a slow machine
# cannot let a delay run out between two attempts.
ALLOWLIST = {'allowlist = ["192.0.2.1/32"]': f'allowlist = ["{ALLOWLISTED}/32"]',
             "delay_first_ms = 1000": "delay_first_ms = 60000"}


def with_server_keys(keys):
    """Server options: the config with ALLOWLIST, and `keys` (TOML lines) added to [server]."""
    return {"config_replace": dict(ALLOWLIST, **{"[server]\n": "[server]\n" + keys})}


class Port:
    """What Browser needs of a server: the port to connect to (here: haproxy's)."""

    def __init__(self, port):
        self.port = port


def exchange_or_close(port, source, data):
    """Sends `data` from `source` to payoutd's `port` directly; what comes back until the server
    closes (b"" when it closed without a word)."""
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0)) as s:
        try:
            s.sendall(data)
            while chunk := s.recv(65536):
                received += chunk
        except (ConnectionResetError, BrokenPipeError):
            pass
    if b"\r\n\r\n" in received:  # an answer: to the request after the PROXY line, if any
        head, rest = received.split(b"\r\n\r\n", 1)
        status, headers = parse_head(head)
        request = data.split(b"\r\n", 1)[1] if data.startswith(b"PROXY ") else data
        openapi_check.check_request_head(request, status, headers,
                                         rest[:int(headers.get("content-length", "0") or 0)])
    return received


class ProxyListenerServer(Server):
    """A payoutd whose listener takes only connections that begin with a PROXY header: its health
    is asked as the trusted proxy asks, with the header first."""

    def health(self):
        answer = exchange_or_close(self.port, PROXY, b"PROXY TCP4 127.0.0.1 127.0.0.1 1 2\r\n"
                                   b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status = re.match(rb"HTTP/1\.1 (\d{3}) ", answer)
        return int(status.group(1)) if status else None


class ProxyTestCase(ServerTestCase):
    """The class's payoutd (server_options), behind a haproxy with `frontends(payoutd's port)`."""

    @classmethod
    def frontends(cls, port):
        return []

    @classmethod
    def backend_port(cls):
        """The port of payoutd's haproxy forwards to."""
        return cls.server.port

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.haproxy = Haproxy(cls.frontends(cls.backend_port()))
        except BaseException:
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.haproxy.close()
        super().tearDownClass()

    def through(self, frontend, source):
        """A client at `source` whose requests go through haproxy's `frontend`."""
        api = Api(self.haproxy.port(frontend), keep_alive=False, source=source)
        self.addCleanup(api.close)
        return api

    def assertRegistered(self, api, **kw):
        r = api.ecommpay_register(unique("proxied"), project=ECOMMPAY_FOREIGN_ONLY, **kw)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.json["status"], "success", r.raw)

    def assertNotAllowlisted(self, api, **kw):
        r = api.ecommpay_register(unique("proxied"), project=ECOMMPAY_FOREIGN_ONLY, **kw)
        self.assertEqual(r.status, 403, r.raw)
        self.assertEqual(r.json["code"], 403, r.raw)
        self.assertIn("not allowlisted", r.json["message"], r.raw)


class ProxyProtocolTest(ProxyTestCase):
    server_options = with_server_keys(
        f'trusted_proxies = ["{PROXY}/32", "::1/128"]\nproxy_protocol = true\n')
    server_class = ProxyListenerServer

    @classmethod
    def frontends(cls, port):
        return [Frontend("v2", port, server_options="send-proxy-v2"),
                Frontend("v1", port, server_options="send-proxy")]

    def test_the_allowlist_sees_the_client_haproxy_names_in_version_2(self):
        self.assertRegistered(self.through("v2", ALLOWLISTED))
        self.assertNotAllowlisted(self.through("v2", STRANGER))

    def test_the_allowlist_sees_the_client_haproxy_names_in_version_1(self):
        self.assertRegistered(self.through("v1", ALLOWLISTED))
        self.assertNotAllowlisted(self.through("v1", STRANGER))

    def test_a_relayed_clients_own_forwarding_headers_change_nothing(self):
        # haproxy relays TCP here: these headers are the client's, not the proxy's.
        forged = {"X-Forwarded-For": ALLOWLISTED, "Forwarded": f"for={ALLOWLISTED}"}
        r = self.through("v2", STRANGER).ecommpay_register(
            unique("forged"), project=ECOMMPAY_FOREIGN_ONLY, headers=forged)
        self.assertEqual(r.status, 403, r.raw)

    def test_a_connection_without_the_header_is_closed(self):
        request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        # From a peer that is no trusted proxy: closed at once, whatever it sends.
        self.assertEqual(exchange_or_close(self.server.port, ALLOWLISTED, request), b"")
        self.assertEqual(exchange_or_close(
            self.server.port, ALLOWLISTED, b"PROXY TCP4 127.0.0.2 127.0.0.1 1 2\r\n" + request), b"")
        # From the trusted proxy, without its header: closed too.
        self.assertEqual(exchange_or_close(self.server.port, PROXY, request), b"")
        # With it, and the request in the same segment: answered.
        answer = exchange_or_close(self.server.port, PROXY,
                                   b"PROXY TCP4 127.0.0.2 127.0.0.1 1 2\r\n" + request.replace(
                                       b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        self.assertTrue(answer.startswith(b"HTTP/1.1 200 OK"), answer)

    def test_the_cabinet_throttles_and_audits_each_client_behind_the_proxy(self):
        # A stranger behind the proxy guesses the partner's password and is slowed down ...
        stranger = Browser(Port(self.haproxy.port("v2")), source=STRANGER)
        statuses = [stranger.login(BEREKE[0], f"wrong-{i}", expect=None)[0] for i in range(5)]
        self.assertEqual(statuses, [401] * 4 + [429], statuses)
        # ... while the partner, behind the same proxy, signs in at once.
        partner = Browser(Port(self.haproxy.port("v2")), source=ALLOWLISTED)
        partner.login(*BEREKE)
        # The audit log names each of them, not the proxy.
        _, _, page = partner.get("/cabinet/audit")
        actions = re.findall(r'<td>payout_api_username</td><td class="action">([^<]+)</td><td>[^<]*</td>'
                             r'<td>([^<]+)<', page)
        self.assertEqual(actions[:5], [("login", ALLOWLISTED)] + [("login.failed", STRANGER)] * 4)
        self.assertNotIn(("login", PROXY), actions)


class ForwardedForTest(ProxyTestCase):
    server_options = with_server_keys(f'trusted_proxies = ["{PROXY}/32"]\n')

    @classmethod
    def frontends(cls, port):
        return [Frontend("http", port, mode="http", forwardfor=True)]

    def test_the_allowlist_sees_the_client_haproxy_appends(self):
        self.assertRegistered(self.through("http", ALLOWLISTED))
        self.assertNotAllowlisted(self.through("http", STRANGER))

    def test_a_forged_address_before_haproxys_is_not_the_client(self):
        # haproxy appends what it saw (the stranger) after what the stranger wrote.
        self.assertNotAllowlisted(self.through("http", STRANGER),
                                  headers={"X-Forwarded-For": ALLOWLISTED})

    def test_a_forged_header_from_an_untrusted_peer_changes_nothing(self):
        direct = Api(self.server.port, keep_alive=False, source=STRANGER)
        self.addCleanup(direct.close)
        self.assertNotAllowlisted(direct, headers={"X-Forwarded-For": ALLOWLISTED})
        direct_allowlisted = Api(self.server.port, keep_alive=False, source=ALLOWLISTED)
        self.addCleanup(direct_allowlisted.close)
        self.assertRegistered(direct_allowlisted, headers={"X-Forwarded-For": STRANGER})


class ProxyProtocolTlsTest(PkiServerCase, ProxyTestCase):
    """haproxy relays TLS untouched (mode tcp) behind a PROXY header: payoutd reads the header,
    then hands the bytes that came with it (the ClientHello's beginning) to the handshake; the
    allowlist sees the client haproxy names."""
    server_class = ProxyListenerServer

    @classmethod
    def server_options_with(cls, pki):
        chain, key = pki.server_cert("server")
        return dict(
            with_server_keys(f'trusted_proxies = ["{PROXY}/32"]\nproxy_protocol = true\n'),
            tls={"cert_file": chain, "key_file": key})

    @classmethod
    def backend_port(cls):
        return cls.server.tls_port

    @classmethod
    def frontends(cls, port):
        return [Frontend("v2", port, server_options="send-proxy-v2"),
                Frontend("v1", port, server_options="send-proxy")]

    def through_tls(self, frontend, source):
        api = Api(self.haproxy.port(frontend), keep_alive=True, source=source,
                  tls=self.pki.client_context())
        self.addCleanup(api.close)
        return api

    def test_the_allowlist_sees_the_client_haproxy_names_over_tls(self):
        for frontend in ("v2", "v1"):
            with self.subTest(frontend=frontend):
                allowlisted = self.through_tls(frontend, ALLOWLISTED)
                self.assertRegistered(allowlisted)
                self.assertRegistered(allowlisted)  # the same TLS connection, kept alive
                self.assertNotAllowlisted(self.through_tls(frontend, STRANGER))

    def test_a_tls_client_without_the_header_is_closed(self):
        # From a stranger, and from the trusted proxy itself: a ClientHello is no PROXY header.
        for source in (STRANGER, PROXY):
            with self.subTest(source=source), socket.create_connection(
                    ("127.0.0.1", self.server.tls_port), timeout=10,
                    source_address=(source, 0)) as raw:
                # The handshake itself fails: the server closes (a timeout, an OSError but no
                # ConnectionError, is no refusal and fails the test).
                with self.assertRaises((ssl.SSLError, ConnectionError)):
                    self.pki.client_context().wrap_socket(raw, server_hostname="127.0.0.1").close()


if __name__ == "__main__":
    unittest.main()
