"""What the card network connectors' end-to-end tests share (test_bereke_*_rail.py and
test_ecommpay_*_rail.py): a payoutd whose tenant routes one card scheme to the `[[rails]]` entry of
a network double (network_doubles.py), payouts through the Bereke API with the recipient's name,
the admin API's counters of a rail, and a kill -9 of payoutd
while a payout is on the wire."""
import threading
import time

from harness import ADMIN_TOKEN, ECOMMPAY_PROJECT, Api, IsolatedServerTestCase
from test_ecommpay_page import PageTestCase
from test_ecommpay_registration import Receiver

BEREKE_TENANT = "bereke:sandbox-partner"
ECOMMPAY_TENANT = f"ecommpay:{ECOMMPAY_PROJECT}"


def scheme_routing(tenant, scheme, rail):
    """The tenant's payouts to cards of `scheme` (the BIN table's) go to `rail`; the others to the
    sandbox network."""
    return f"""
[[routing.tenants]]
tenant = "{tenant}"
default = "sandbox"
[[routing.tenants.rules]]
schemes = ["{scheme}"]
rail = "{rail}"
"""



class BerekeRailTestCase(IsolatedServerTestCase):
    """A fresh double (DOUBLE, answering after LATENCY_MS) and payoutd per test, the sandbox
    partner's SCHEME cards routed to its rail RAIL (the entry's keys plus RAIL_KEYS)."""
    DOUBLE = None
    RAIL = None
    SCHEME = None
    RAIL_KEYS = {}
    LATENCY_MS = 0
    CLIENT = {"clientId": "rail-client-1", "name": "IVAN PETROV"}  # the recipient's name

    def setUp(self):
        self.double = self.DOUBLE(latency_ms=self.LATENCY_MS)
        self.addCleanup(self.double.close)
        config = self.double.rail_config(self.RAIL, **self.RAIL_KEYS)
        self.server = self.new_server(
            extra_config=config + scheme_routing(BEREKE_TENANT, self.SCHEME, self.RAIL))
        self.api = Api(self.server)
        self.addCleanup(self.api.close)

    def perform(self, order, pan, amount, api=None, **fields):
        fields.setdefault("client", self.CLIENT)
        return (api or self.api).perform(order, pan, amount=amount, **fields)

    def rail_stats(self, name=None):
        """The admin API's stats of one rail (RAIL by default)."""
        stats = self.api.request("GET", "/admin/v1/stats", auth=ADMIN_TOKEN)
        self.assertEqual(stats.status, 200, stats.raw)
        [rail] = [r for r in stats.json["rails"] if r["name"] == (name or self.RAIL)]
        return rail

    def kill_during_perform(self, order, pan, amount, after_s):
        """Performs the payout on a connection of its own and kills payoutd (-9) `after_s` later,
        while the double holds the network's answer; starts it again: a new Api to it."""
        def perform():
            api = Api(self.server)
            try:
                self.perform(order, pan, amount, api=api)
            except Exception:  # the connection dies with the server
                pass
            finally:
                api.close()
        t = threading.Thread(target=perform)
        t.start()
        time.sleep(after_s)
        self.api.close()
        self.server.kill9()
        t.join()
        self.server.start()
        api = Api(self.server)
        self.addCleanup(api.close)
        return api


class EcommpayRailTestCase(PageTestCase):
    """A fresh double (DOUBLE) and payoutd per test, the ecommpay projects' (TENANTS) SCHEME cards
    routed to its rail RAIL, and a receiver of the projects' callbacks."""
    DOUBLE = None
    RAIL = None
    SCHEME = None
    TENANTS = (ECOMMPAY_TENANT,)  # the projects routed

    def setUp(self):
        self.double = self.DOUBLE()
        self.addCleanup(self.double.close)
        config = self.double.rail_config(self.RAIL)
        for tenant in self.TENANTS:
            config += scheme_routing(tenant, self.SCHEME, self.RAIL)
        self.server = self.new_server(extra_config=config)
        self.api = Api(self.server)
        self.addCleanup(self.api.close)
        self.receiver = Receiver()
        self.addCleanup(self.receiver.close)
