"""A throwaway public-key infrastructure for the TLS tests, made with the `openssl` command line in
a directory of the caller's: a test CA, server certificates it issues (for 127.0.0.1 and
localhost), and client certificates from it or from another CA. Standard library only.

Pins are the SHA-256 of a certificate's DER SubjectPublicKeyInfo in base64 (what payoutd's
client_cert_spki_sha256 lists, and Chromium's --ignore-certificate-errors-spki-list takes),
computed here with openssl and hashlib, independently of the server's code.
"""
import base64
import hashlib
import os
import shutil
import ssl
import subprocess
import tempfile

DAYS = "2"


def _openssl(*args, stdin=None):
    return subprocess.run(["openssl", *args], input=stdin, check=True, capture_output=True).stdout


def _new_key(path):
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)


class Pki:
    """Files under `directory`; every method returns paths (or a pin)."""

    def __init__(self, directory, ca_name="payoutd test CA"):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self._serial = 0
        self.ca_cert, self.ca_key = self.new_ca("ca", ca_name)

    def path(self, name):
        return os.path.join(self.dir, name)

    def new_ca(self, name, common_name):
        key, cert = self.path(f"{name}.key"), self.path(f"{name}.crt")
        _new_key(key)
        _openssl("req", "-x509", "-new", "-key", key, "-out", cert, "-days", DAYS,
                 "-subj", f"/CN={common_name}",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        return cert, key

    def _issue(self, name, subject, extensions, ca=None, key=None):
        ca_cert, ca_key = ca or (self.ca_cert, self.ca_key)
        csr, cert, ext = (self.path(f"{name}.{x}") for x in ("csr", "crt", "ext"))
        if key is None:
            key = self.path(f"{name}.key")
            _new_key(key)
        _openssl("req", "-new", "-key", key, "-out", csr, "-subj", subject)
        with open(ext, "w", encoding="utf-8") as f:
            f.write("\n".join(extensions) + "\n")
        self._serial += 1
        _openssl("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-out", cert,
                 "-days", DAYS, "-set_serial", str(1000 + self._serial), "-extfile", ext)
        return cert, key

    def server_cert(self, name="server", common_name="payoutd test server"):
        """A certificate for 127.0.0.1 and localhost; returns (chain file, key file): the chain
        holds the certificate and the CA's, as an operator's full chain would."""
        cert, key = self._issue(name, f"/CN={common_name}", [
            "basicConstraints=critical,CA:FALSE",
            "keyUsage=critical,digitalSignature",
            "extendedKeyUsage=serverAuth",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ])
        chain = self.path(f"{name}.chain.pem")
        with open(chain, "wb") as out:
            for part in (cert, self.ca_cert):
                with open(part, "rb") as f:
                    out.write(f.read())
        return chain, key

    def client_cert(self, name, subject, ca=None, key=None):
        """A client certificate for `subject` ("/O=Partner/CN=best-partner"), issued by this CA
        or by `ca` ((cert, key) of new_ca), for a new key or `key` (a key file: the same public
        key, hence the same pin). Returns (cert file, key file)."""
        return self._issue(name, subject, [
            "basicConstraints=critical,CA:FALSE",
            "keyUsage=critical,digitalSignature",
            "extendedKeyUsage=clientAuth",
        ], ca=ca, key=key)

    def client_context(self, cert_and_key=None, ca_file=None):
        """A Python TLS 1.3 client context trusting this CA, with a client certificate if given."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        context.load_verify_locations(ca_file or self.ca_cert)
        context.set_alpn_protocols(["http/1.1"])
        if cert_and_key:
            context.load_cert_chain(*cert_and_key)
        return context


def rfc2253_subject(cert_file):
    """The subject as payoutd compares it: openssl's RFC 2253 form."""
    out = _openssl("x509", "-in", cert_file, "-noout", "-subject", "-nameopt", "RFC2253")
    return out.decode().strip().removeprefix("subject=")


def spki_pin(cert_file):
    der = _openssl("x509", "-in", cert_file, "-noout", "-pubkey")
    der = _openssl("pkey", "-pubin", "-outform", "DER", stdin=der)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def fingerprint(cert_file):
    """The certificate's SHA-256 fingerprint (hex, lower case): tells two certificates apart."""
    with open(cert_file, encoding="utf-8") as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return hashlib.sha256(der).hexdigest()


class PkiServerCase:
    """Mixed in before a harness ServerTestCase: the class gets a fresh test CA (`pki`, its files in
    `tmp`), and its server the options `server_options_with(pki)` returns; the directory is removed
    after the class, or when its server could not start."""

    @classmethod
    def server_options_with(cls, pki):
        return {}

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="payoutd-pki-")
        try:
            cls.pki = Pki(cls.tmp)
            cls.server_options = cls.server_options_with(cls.pki)
            super().setUpClass()
        except BaseException:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)
