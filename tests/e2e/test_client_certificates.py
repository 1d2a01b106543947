"""Client certificates (docs/tls.md): with [server.tls] client_ca_file the server asks for a
certificate and never fails a handshake over it; a tenant (QIWI product, Bereke partner, ecommpay
project) or the admin API that names subjects or key pins then takes only calls presenting a
verified certificate of one of them, besides its credentials, and refuses the others with the
dialect's own authentication error: missing, from another CA (same subject, or even the same key),
another subject, or over plain HTTP. Failures count in the throttle of wrong credentials.
The certificates come from a test CA made per class with openssl (pki.py); curl is one client."""
import json
import shutil
import signal
import subprocess
import time
import unittest

from harness import (ADMIN_TOKEN, BEREKE_PASSWORD, BONUS, CLIENTS, ECOMMPAY_DISABLED, PARTNER_TOKEN, Api,
                     ServerTestCase)
from pki import PkiServerCase, rfc2253_subject, spki_pin

CLIENT_ID = next(iter(CLIENTS))
QIWI_SUBJECT = "/O=Best Partner/CN=best-partner"
QIWI_SUBJECT_RFC2253 = "CN=best-partner,O=Best Partner"


class MtlsCase(PkiServerCase, ServerTestCase):
    """A sandbox with a TLS listener asking for client certificates of a fresh test CA, and a
    policy for one tenant of each dialect and the admin API: QIWI and ecommpay by subject,
    Bereke and the admin API by key pin."""

    @classmethod
    def server_options_with(cls, pki):
        other_ca = pki.new_ca("other-ca", "another CA")
        cls.qiwi = pki.client_cert("qiwi", QIWI_SUBJECT)
        cls.qiwi_other_ca = pki.client_cert("qiwi-other-ca", QIWI_SUBJECT, ca=other_ca)
        cls.stranger = pki.client_cert("stranger", "/O=Best Partner/CN=someone-else")
        cls.bereke = pki.client_cert("bereke", "/CN=sandbox-partner")
        # The pinned key itself, certified by another CA: the pin matches, the chain does not.
        cls.bereke_other_ca = pki.client_cert("bereke-other-ca", "/CN=sandbox-partner", ca=other_ca,
                                              key=cls.bereke[1])
        cls.ecommpay = pki.client_cert("ecommpay", "/CN=merchant-91348")
        cls.operator = pki.client_cert("operator", "/CN=payoutd operator")
        assert rfc2253_subject(cls.qiwi[0]) == QIWI_SUBJECT_RFC2253
        chain, key = pki.server_cert()
        cls.client_ca = pki.path("client-ca.pem")  # a copy: ClientCaReloadTest replaces it
        shutil.copyfile(pki.ca_cert, cls.client_ca)
        return {
            "tls": {"cert_file": chain, "key_file": key, "client_ca_file": cls.client_ca},
            "config_replace": {
                'tokens = ["sandbox-best-partner-token"]':
                    f'tokens = ["sandbox-best-partner-token"]\nclient_cert_subjects = ["{QIWI_SUBJECT_RFC2253}"]',
                f'password = "{BEREKE_PASSWORD}"':
                    f'password = "{BEREKE_PASSWORD}"\nclient_cert_spki_sha256 = ["{spki_pin(cls.bereke[0])}"]',
                'secret_key = "sandbox-secret-91348"':
                    'secret_key = "sandbox-secret-91348"\nclient_cert_subjects = ["CN=merchant-91348"]',
                f'token = "{ADMIN_TOKEN}"':
                    f'token = "{ADMIN_TOKEN}"\nclient_cert_spki_sha256 = ["{spki_pin(cls.operator[0])}"]',
            },
        }

    def client(self, certificate=None, source="127.0.0.1"):
        """An HTTPS client from `source`, presenting `certificate` ((cert, key)) or none."""
        api = Api(self.server, source=source, tls=self.pki.client_context(certificate))
        self.addCleanup(api.close)
        return api

    def plain(self, source="127.0.0.1"):
        api = Api(self.server, source=source)
        self.addCleanup(api.close)
        return api

    def refused_clients(self, good_subject_other_ca):
        return {"no certificate": self.client(), "another CA": self.client(good_subject_other_ca),
                "another subject": self.client(self.stranger), "plain HTTP": self.plain()}


class ClientCertificateTest(MtlsCase):

    # -- QIWI: 401 in its envelope, as for a wrong token --
    def test_qiwi(self):
        r = self.client(self.qiwi).payout(f"mtls-{time.monotonic_ns()}", BONUS, CLIENT_ID, "1.00")
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.json["status"], "SUCCESS")
        for name, api in self.refused_clients(self.qiwi_other_ca).items():
            with self.subTest(name):
                r = api.payout(f"mtls-{time.monotonic_ns()}", BONUS, CLIENT_ID, "1.00")
                self.assertError(r, 401, "auth.certificate.invalid", "payoutd-payments")
                self.assertError(api.history(CLIENTS[CLIENT_ID]), 401, "auth.certificate.invalid",
                                 "payoutd-reports")

    def test_qiwi_with_curl(self):
        url = f"https://127.0.0.1:{self.server.tls_port}/partner/openapi-reports/v1/products/best-partner/" \
              f"operations/history?accountId={CLIENTS[CLIENT_ID]}&limit=1"
        base = ["curl", "-sS", "--tlsv1.3", "--cacert", self.pki.ca_cert, "-H", f"Authorization: Bearer {PARTNER_TOKEN}",
                "-o", "/dev/stdout", "-w", "\n%{http_code}"]
        with_certificate = subprocess.run(base + ["--cert", self.qiwi[0], "--key", self.qiwi[1], url],
                                          capture_output=True, text=True, timeout=30)
        self.assertEqual(with_certificate.stdout.rsplit("\n", 1)[1], "200", with_certificate)
        without = subprocess.run(base + [url], capture_output=True, text=True, timeout=30)
        body, status = without.stdout.rsplit("\n", 1)
        self.assertEqual(status, "401")
        self.assertEqual(json.loads(body)["errorCode"], "auth.certificate.invalid")

    def test_qiwi_refusals_count_as_wrong_tokens(self):
        # QIWI throttles an address's failures (30 a minute after a burst of 30), whatever failed.
        api = self.client(source="127.0.0.31")
        statuses = [api.history(CLIENTS[CLIENT_ID]).status for _ in range(31)]
        self.assertEqual(statuses, [401] * 30 + [429])
        r = self.client(self.qiwi, source="127.0.0.31").history(CLIENTS[CLIENT_ID])
        self.assertEqual(r.status, 429, "the certificate does not lift the address's wait")

    # -- Bereke: errorCode 90 "User not authenticated", as for a wrong password --
    def test_bereke_pinned_key(self):
        r = self.client(self.bereke).bereke("getAmount.do", {})
        self.assertEqual(r.status, 200, r.raw)
        refused = {"no certificate": self.client(), "the pinned key from another CA": self.client(self.bereke_other_ca),
                   "another key": self.client(self.stranger), "plain HTTP": self.plain()}
        for name, api in refused.items():
            with self.subTest(name):
                r = api.bereke("getAmount.do", {})
                self.assertEqual(r.status, 401, r.raw)
                self.assertEqual((r.json["errorCode"], r.json["errorMessage"]), ("90", "User not authenticated"))

    def test_bereke_refusals_count_as_wrong_passwords(self):
        api = self.client(source="127.0.0.32")
        statuses = [api.bereke("getAmount.do", {}).status for _ in range(5)]
        self.assertEqual(statuses, [401] * 4 + [429])
        r = self.client(self.bereke, source="127.0.0.32").bereke("getAmount.do", {})
        self.assertEqual(r.status, 429, r.raw)
        self.assertEqual(r.json["errorCode"], "90")

    # -- ecommpay: 403 "access denied", as for an address off the allowlist --
    def test_ecommpay(self):
        r = self.client(self.ecommpay).ecommpay_register(f"mtls-{time.monotonic_ns()}")
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.json["status"], "success")
        for name, api in self.refused_clients(self.qiwi_other_ca).items():
            with self.subTest(name):
                r = api.ecommpay_register(f"mtls-{time.monotonic_ns()}")
                self.assertEqual(r.status, 403, r.raw)
                self.assertEqual((r.json["status"], r.json["code"]), ("error", 403))
                self.assertIn("client certificate", r.json["message"])
        other = self.client().ecommpay_register(f"mtls-{time.monotonic_ns()}", project=ECOMMPAY_DISABLED)
        self.assertEqual(other.status, 200, "a project without a policy takes any caller")

    # -- admin API: 401 in payoutd's envelope --
    def test_admin(self):
        r = self.client(self.operator).request("GET", "/admin/v1/stats", auth=ADMIN_TOKEN)
        self.assertEqual(r.status, 200, r.raw)
        for name, api in self.refused_clients(self.qiwi_other_ca).items():
            with self.subTest(name):
                r = api.request("GET", "/admin/v1/stats", auth=ADMIN_TOKEN)
                self.assertEqual(r.status, 401, r.raw)
                self.assertEqual(r.json["errorCode"], "auth.certificate.invalid")



class ClientCaReloadTest(MtlsCase):

    def test_sighup_reads_the_client_ca_again(self):
        # The client CA becomes another one: the partner's certificate no longer verifies, the
        # same subject's from that other CA now does.
        shutil.copyfile(self.pki.path("other-ca.crt"), self.client_ca)
        self.server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while True:
            r = self.client(self.qiwi).history(CLIENTS[CLIENT_ID])
            if r.status == 401:
                self.assertEqual(r.json["errorCode"], "auth.certificate.invalid", r.raw)
                break
            self.assertLess(time.monotonic(), deadline, "the new client CA was not taken")
            time.sleep(0.05)
        self.assertEqual(self.client(self.qiwi_other_ca).history(CLIENTS[CLIENT_ID]).status, 200)

if __name__ == "__main__":
    unittest.main()
