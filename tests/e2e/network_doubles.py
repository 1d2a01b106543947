"""The card networks' test doubles (tests/doubles/) as processes of an e2e test: certificates and
keys made with openssl in a temporary directory, the double started under node over TLS, and the
`[[rails]]` config that points a payoutd at it. The doubles follow the networks' published
references (tests/doubles/README.md); payoutd's connectors are what the tests check."""
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


class MastercardSendDouble:
    """tests/doubles/mastercard_send.mjs over TLS, with the client's RSA signing key."""
    CONSUMER_KEY = "payoutd-e2e!consumer"
    PARTNER_ID = "ptnr_e2e_payoutd"

    def __init__(self, latency_ms=0, extra_args=()):
        self.dir = tempfile.mkdtemp(prefix="mc-double-")
        make_ca_and_server(self.dir)
        _openssl(self.dir,
                 "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out client.key",
                 "openssl pkey -in client.key -pubout -out client.pub")
        os.mkdir(os.path.join(self.dir, "state"))
        self.latency_ms = latency_ms
        self.extra_args = list(extra_args)
        self.proc = None
        self.base_url = None
        self.start()

    def start(self):
        args = [node(), os.path.join(DOUBLES, "mastercard_send.mjs"), "--port",
                str(self.port) if self.base_url else "0",
                "--cert", os.path.join(self.dir, "server.crt"),
                "--key", os.path.join(self.dir, "server.key"),
                "--client-public-key", os.path.join(self.dir, "client.pub"),
                "--state-dir", os.path.join(self.dir, "state"),
                "--consumer-key", self.CONSUMER_KEY, "--partner-id", self.PARTNER_ID,
                "--latency-ms", str(self.latency_ms)] + self.extra_args
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on (https://127\.0\.0\.1:(\d+))", line)
        if not m:
            self.stop()
            raise HarnessError(f"the Mastercard double did not start: {line!r}")
        self.port = int(m.group(2))
        self.base_url = m.group(1) + "/send"

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

    def rail_config(self, name="mastercard", **keys):
        """A `[[rails]]` entry of kind mastercard-send pointing at this double."""
        lines = ["[[rails]]", f'name = "{name}"', 'kind = "mastercard-send"',
                 f'base_url = "{self.base_url}"', f'partner_id = "{self.PARTNER_ID}"',
                 f'consumer_key = "{self.CONSUMER_KEY}"',
                 'sender_account_uri = "acct-ref:payoutd-e2e-funding"',
                 f'signing_key_file = "{os.path.join(self.dir, "client.key")}"',
                 f'ca_file = "{os.path.join(self.dir, "ca.crt")}"']
        lines += [f"{k} = {json.dumps(v)}" for k, v in keys.items()]
        return "\n".join(lines) + "\n"

    def transfers(self, reference=None):
        """The double's record of the person-to-person transfer under a transfer_reference, or of
        every one (a list), from its /_double/ API."""
        return self._recorded("transfers", reference)

    def disbursements(self, reference=None):
        """The same for the Disbursements API (a business paying a person)."""
        return self._recorded("disbursements", reference)

    def _recorded(self, api, reference):
        context = ssl.create_default_context(cafile=os.path.join(self.dir, "ca.crt"))
        query = f"?ref={reference}" if reference is not None else ""
        url = f"https://127.0.0.1:{self.port}/_double/{api}{query}"
        with urllib.request.urlopen(url, context=context, timeout=10) as r:
            body = json.loads(r.read())
        return body if reference is not None else body[api]
