"""The card networks' test doubles (tests/doubles/) as processes of an e2e test: certificates and
keys made with openssl in a temporary directory, the double started under node over TLS, and the
`[[rails]]` config that points a payoutd at it. The doubles follow the networks' published
references (tests/doubles/README.md); payoutd's connectors are what the tests check."""
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import urllib.request
import ssl

from harness import HarnessError

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DOUBLES = os.path.join(ROOT, "tests", "doubles")


def node():
    path = shutil.which("node") or shutil.which("nodejs")
    if not path:
        raise HarnessError("node is not installed (scripts/setup.sh installs it)")
    return path


def _openssl(directory, *commands):
    for command in commands:
        subprocess.run(command, shell=True, cwd=directory, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca_and_server(directory):
    """A throwaway CA (ca.crt) and a server certificate for 127.0.0.1 (server.crt/.key)."""
    _openssl(directory,
             "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 "
             "-subj '/CN=payoutd e2e CA'",
             "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
             "-subj /CN=127.0.0.1",
             "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext",
             "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
             "-out server.crt -days 1 -extfile san.ext")


def toml_keys(keys):
    """`key = value` lines of a `[[rails]]` entry (strings and integers as TOML writes them)."""
    return [f"{k} = {json.dumps(v)}" for k, v in keys.items()]


class NetworkDouble:
    """One double's process in a directory of its own: a CA and the server certificate the double
    serves (the connector trusts that CA through `ca_file`), its durable record in state/, and
    `start()` again on the same port after `stop()` (a network that went down and came back).
    A subclass names the script, makes its own keys in `make_keys` and gives its own arguments."""
    SCRIPT = None    # tests/doubles/<SCRIPT>
    PREFIX = None    # of the temporary directory
    PATH = ""        # the base URL's path after https://127.0.0.1:<port>

    def __init__(self, latency_ms=0, extra_args=()):
        self.dir = tempfile.mkdtemp(prefix=self.PREFIX)
        self.proc = None
        self.port = None
        self.base_url = None
        try:
            make_ca_and_server(self.dir)
            self.make_keys()
            os.mkdir(self.file("state"))
            self.latency_ms = latency_ms
            self.extra_args = list(extra_args)
            self.start()
        except BaseException:
            self.close()
            raise

    def file(self, name):
        return os.path.join(self.dir, name)

    def make_keys(self):
        """The client's keys, beside ca.crt/server.crt (none by default)."""

    def arguments(self):
        """The double's own command-line arguments (its credentials)."""
        return []

    def start(self):
        args = [node(), os.path.join(DOUBLES, self.SCRIPT), "--port", str(self.port or 0),
                "--cert", self.file("server.crt"), "--key", self.file("server.key"),
                "--state-dir", self.file("state"), "--latency-ms", str(self.latency_ms)]
        self.proc = subprocess.Popen(args + self.arguments() + self.extra_args,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on (https://127\.0\.0\.1:(\d+))", line)
        if not m:
            self.stop()
            raise HarnessError(f"the double {self.SCRIPT} did not start: {line!r}")
        self.port = int(m.group(2))
        self.base_url = m.group(1) + self.PATH

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def tls_context(self):
        """What a client of the double needs to reach it: the test CA (and a client certificate
        where the double requires one)."""
        return ssl.create_default_context(cafile=self.file("ca.crt"))

    def admin(self, path):
        """GET /_double/<path>: the double's record, for the test's assertions."""
        url = f"https://127.0.0.1:{self.port}/_double/{path}"
        with urllib.request.urlopen(url, context=self.tls_context(), timeout=10) as r:
            return json.loads(r.read())


class MastercardSendDouble(NetworkDouble):
    """tests/doubles/mastercard_send.mjs over TLS, with the client's RSA signing key."""
    SCRIPT = "mastercard_send.mjs"
    PREFIX = "mc-double-"
    PATH = "/send"
    CONSUMER_KEY = "payoutd-e2e!consumer"
    PARTNER_ID = "ptnr_e2e_payoutd"

    def make_keys(self):
        _openssl(self.dir,
                 "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out client.key",
                 "openssl pkey -in client.key -pubout -out client.pub")

    def arguments(self):
        return ["--client-public-key", self.file("client.pub"),
                "--consumer-key", self.CONSUMER_KEY, "--partner-id", self.PARTNER_ID]

    def rail_config(self, name="mastercard", **keys):
        """A `[[rails]]` entry of kind mastercard-send pointing at this double."""
        lines = ["[[rails]]", f'name = "{name}"', 'kind = "mastercard-send"',
                 f'base_url = "{self.base_url}"', f'partner_id = "{self.PARTNER_ID}"',
                 f'consumer_key = "{self.CONSUMER_KEY}"',
                 'sender_account_uri = "acct-ref:payoutd-e2e-funding"',
                 f'signing_key_file = "{self.file("client.key")}"',
                 f'ca_file = "{self.file("ca.crt")}"']
        return "\n".join(lines + toml_keys(keys)) + "\n"

    def transfers(self, reference=None):
        """The double's record of the person-to-person transfer under a transfer_reference, or of
        every one (a list), from its /_double/ API."""
        return self._recorded("transfers", reference)

    def disbursements(self, reference=None):
        """The same for the Disbursements API (a business paying a person)."""
        return self._recorded("disbursements", reference)

    def _recorded(self, api, reference):
        if reference is not None:
            return self.admin(f"{api}?ref={reference}")
        return self.admin(api)[api]


def visa_identifiers(reference):
    """(STAN, RRN) of a payout's push, as docs/rails.md ("Visa Direct", "The transaction's key")
    specifies them from the engine's reference: SHA-256 of it; the STAN is the first 8 bytes mod
    10^6; the RRN `ydddhhnnnnnn` is taken from the next 8 bytes (y mod 10, ddd 1 + mod 365, hh
    mod 24, nnnnnn mod 10^6, each from what the previous left)."""
    digest = hashlib.sha256(reference.encode()).digest()
    stan_word = int.from_bytes(digest[:8], "big")
    rrn_word = int.from_bytes(digest[8:16], "big")
    year, rrn_word = rrn_word % 10, rrn_word // 10
    day, rrn_word = 1 + rrn_word % 365, rrn_word // 365
    hour, rrn_word = rrn_word % 24, rrn_word // 24
    return f"{stan_word % 1_000_000:06d}", f"{year}{day:03d}{hour:02d}{rrn_word % 1_000_000:06d}"


class VisaDirectDouble(NetworkDouble):
    """tests/doubles/visa_direct.mjs over two-way TLS: the test CA signs the double's server
    certificate and the project's client certificate (client.crt/.key), which the double requires;
    then HTTP Basic with USER_ID and PASSWORD, which payoutd reads from `password_file`."""
    SCRIPT = "visa_direct.mjs"
    PREFIX = "visa-double-"
    USER_ID = "payoutd-e2e-visa-user"
    PASSWORD = "e2e:Visa pass-w0rd"  # a colon and a space: Basic must carry them as they are
    ACQUIRING_BIN = "408999"

    def make_keys(self):
        _openssl(self.dir,
                 "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr "
                 "-subj /CN=payoutd-e2e-visa-project",
                 "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
                 "-out client.crt -days 1")
        with open(self.file("password"), "w", encoding="utf-8") as f:
            f.write(self.PASSWORD + "\n")

    def arguments(self):
        return ["--client-ca", self.file("ca.crt"), "--user-id", self.USER_ID,
                "--password", self.PASSWORD]

    def tls_context(self):
        context = super().tls_context()
        context.load_cert_chain(self.file("client.crt"), self.file("client.key"))
        return context

    def rail_config(self, name="visa", **keys):
        """A `[[rails]]` entry of kind visa-direct pointing at this double: the project's
        certificate and Basic credentials, the acquirer and the card acceptor (the originator), and
        the sender a disbursement names when the order has none. `keys` add or override keys."""
        entry = {"name": name, "kind": "visa-direct", "base_url": self.base_url,
                 "ca_file": self.file("ca.crt"), "client_cert_file": self.file("client.crt"),
                 "client_key_file": self.file("client.key"), "user_id": self.USER_ID,
                 "password_file": self.file("password"), "acquiring_bin": self.ACQUIRING_BIN,
                 "acquirer_country_code": "398", "card_acceptor_name": "payoutd e2e originator",
                 "card_acceptor_terminal_id": "E2E-0001", "card_acceptor_id_code": "PAYOUTD-E2E-01",
                 "card_acceptor_country": "KAZ", "sender_name": "Payoutd E2E Merchant",
                 "sender_country_code": "KAZ"}
        entry.update(keys)
        return "\n".join(["[[rails]]"] + toml_keys(entry)) + "\n"

    def transactions(self, reference=None):
        """The double's record under a payout's key (acquiringBin/RRN/STAN, derived from the
        engine's reference): {key, received: {POST, status, query, reset}, credited,
        transactions: [...]}; without a reference, the list of every key's record."""
        if reference is None:
            return self.admin("transactions")["transactions"]
        stan, rrn = visa_identifiers(reference)
        return self.admin(f"transactions?key={self.ACQUIRING_BIN}/{rrn}/{stan}")
