"""Two payoutd nodes on a Patroni/etcd/haproxy cluster (scripts/ha-cluster.sh) whose primary's
PostgreSQL is killed under a load of QIWI and Bereke card payouts: every answer is what the
database holds, no id moves money twice, the nodes recover by themselves (ha_load.py).

The cluster is this test's own, in a temporary directory; it needs patroni, etcd and haproxy
(scripts/setup.sh test installs them). ha_soak.py runs every fault of the cluster for minutes.
"""
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ha_load import (Checker, FaultDriver, HaCluster, HaLoad, HaRun, Recorder, figures,  # noqa: E402
                     missing_tools)

WARM_UP_SECONDS = 8    # the load before the fault
AFTER_SECONDS = 10     # the load after the cluster is ready again


class FailoverTest(unittest.TestCase):

    def setUp(self):
        missing = missing_tools()
        if missing:
            self.skipTest(f"{', '.join(missing)} not installed (scripts/setup.sh test installs patroni, "
                          f"etcd-server, etcd-client and haproxy)")
        self.cluster = HaCluster()
        self.addCleanup(self.cluster.stop)
        self.cluster.start()
        self.run_ = HaRun(self.cluster)
        self.addCleanup(self.run_.close)
        self.run_.start()
        out = tempfile.NamedTemporaryFile(prefix="payoutd-ha-requests-", suffix=".jsonl", delete=False)
        out.close()
        self.recorder = Recorder(out.name)
        self.addCleanup(self.recorder.close)

    def test_a_killed_primary_under_two_nodes_loses_nothing_and_pays_nothing_twice(self):
        load = HaLoad(self.run_, self.recorder).start()
        try:
            time.sleep(WARM_UP_SECONDS)
            fault = FaultDriver(self.cluster, load.now, log=self.log).run("kill-primary-pg")
            time.sleep(AFTER_SECONDS)
        finally:
            load.stop()
        self.assertEqual(fault["problems"], [])
        [figure] = figures(self.recorder.records, [fault], load.stopped_at)
        checker = Checker(self.run_, self.recorder, load)
        violations = checker.check()
        self.log(f"{fault['detail']}; unavailable {figure['unavailable_s']} s (longest gaps {figure['gap_s']} s), "
                 f"{figure['retryable']} retryable answers, {figure['before_per_s']} payouts/s before, "
                 f"{figure['after_per_s']} after; "
                 f"{checker.totals}; requests in {self.recorder.path}\n")
        self.assertEqual(violations, [], "\n\n".join(violations))
        self.assertGreater(checker.totals["succeeded"], 0)
        # The nodes served payouts again after the failover.
        self.assertTrue(figure["after_per_s"], figure)
        if os.environ.get("PAYOUTD_E2E_KEEP") != "1":
            os.unlink(self.recorder.path)

    @staticmethod
    def log(line):
        sys.stderr.write(f"\n[ha] {line}")


if __name__ == "__main__":
    unittest.main()
