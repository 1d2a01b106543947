"""The Debian package (make deb, packaging/deb/), built from the binary under test: lintian finds
neither an error nor a warning, systemd accepts its unit and rates its hardening OK, the binary it
installs serves the sandbox, and the configuration it installs refuses to start until its
secrets are set, naming each, and starts once they are."""
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import unittest
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BONUS, CLIENTS, REPO_ROOT, Api, Server, binary_path,  # noqa: E402
                     config_path)

UNIT = "lib/systemd/system/payoutd.service"
CONFIG = "etc/payoutd/payoutd.toml"
# systemd-analyze security's exposure, in tenths (0 = fully confined, 100 = none): the unit's is
# 1.8; above 2.0 a hardening setting was lost.
EXPOSURE_TENTHS_MAX = 20


def project_version():
    text = (REPO_ROOT / "CMakeLists.txt").read_text(encoding="utf-8")
    return re.search(r"^project\(payoutd VERSION ([0-9.]+) ", text, re.M).group(1)


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=120, **kw)


class PackageTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="payoutd-deb-"))
        built = run(["bash", REPO_ROOT / "packaging" / "deb" / "build.sh", binary_path(), cls.tmp])
        if built.returncode != 0:
            shutil.rmtree(cls.tmp)
            raise AssertionError(f"packaging/deb/build.sh failed:\n{built.stderr}")
        cls.deb = Path(built.stdout.strip())
        cls.root = cls.tmp / "root"
        subprocess.run(["dpkg-deb", "-x", str(cls.deb), str(cls.root)], check=True)
        cls.control = cls.tmp / "control"
        subprocess.run(["dpkg-deb", "-e", str(cls.deb), str(cls.control)], check=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def packaged_server(self, config):
        server = Server(backend="sqlite")
        server.binary = self.root / "usr" / "bin" / "payoutd"
        server.config = config
        self.addCleanup(server.close)
        self.addCleanup(lambda: server.running() and server.stop(check=True))
        return server

    def test_the_package_carries_the_projects_version_and_its_config_as_a_conffile(self):
        version = project_version()
        self.assertRegex(self.deb.name, rf"^payoutd_{re.escape(version)}-[0-9]+_amd64\.deb$")
        got = run([self.root / "usr" / "bin" / "payoutd", "--version"])
        self.assertEqual((got.returncode, got.stdout.strip()), (0, version), got.stderr)
        conffiles = (self.control / "conffiles").read_text(encoding="utf-8").split()
        self.assertEqual(conffiles, ["/" + CONFIG])
        self.assertEqual((self.root / CONFIG).read_bytes(),
                         (REPO_ROOT / "config" / "production.toml").read_bytes())
        # Stripped: the build directory keeps the symbols.
        sections = run(["readelf", "-S", self.root / "usr" / "bin" / "payoutd"]).stdout
        self.assertNotIn(".debug_info", sections)
        self.assertNotIn(".symtab", sections)

    def test_lintian_finds_neither_an_error_nor_a_warning(self):
        got = run(["lintian", "--fail-on", "error,warning", self.deb])
        self.assertEqual(got.returncode, 0, got.stdout + got.stderr)
        tags = [line for line in got.stdout.splitlines() if re.match(r"^[EW]: ", line)]
        self.assertEqual(tags, [])

    def unit_for_analysis(self):
        """The packaged unit, its ExecStart pointing at the extracted binary: systemd-analyze
        checks that every command exists on this machine, where the package is not installed."""
        unit = (self.root / UNIT).read_text(encoding="utf-8")
        self.assertIn("\nExecStart=/usr/bin/payoutd serve --config /" + CONFIG + " ", unit)
        directory = self.tmp / "unit"
        directory.mkdir(exist_ok=True)
        copy = directory / "payoutd.service"
        copy.write_text(unit.replace("=/usr/bin/payoutd ", f"={self.root}/usr/bin/payoutd "),
                        encoding="utf-8")
        return copy

    def test_systemd_accepts_the_unit_and_rates_its_confinement_ok(self):
        unit = self.unit_for_analysis()
        # --man=no: the page is in the package, not installed on this machine.
        got = run(["systemd-analyze", "verify", "--man=no", unit])
        self.assertEqual((got.returncode, got.stdout + got.stderr), (0, ""))
        got = run(["systemd-analyze", "security", "--offline=yes",
                   f"--threshold={EXPOSURE_TENTHS_MAX}", unit])
        self.assertEqual(got.returncode, 0, got.stdout + got.stderr)
        self.assertRegex(got.stdout, r"Overall exposure level for payoutd\.service: [0-9.]+ OK")

    def test_the_packaged_binary_serves_the_sandbox(self):
        server = self.packaged_server(config_path()).start()
        api = Api(server)
        self.addCleanup(api.close)
        client = next(iter(CLIENTS))
        before = api.funder_balance(BONUS)
        r = api.payout("deb-1", BONUS, client, "100.50")
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.json["status"], "SUCCESS", r.raw)
        self.assertEqual(api.funder_balance(BONUS), before - Decimal("100.50"))
        self.assertEqual(server.stop(), 0)

    def test_the_installed_config_refuses_to_start_until_its_secrets_are_set(self):
        data_dir = self.tmp / "refused"
        got = run([self.root / "usr" / "bin" / "payoutd", "serve", "--config", self.root / CONFIG,
                   "--data-dir", data_dir, "--listen", "127.0.0.1:0"])
        self.assertEqual(got.returncode, 1, got.stdout + got.stderr)
        self.assertIn("config admin.token, vault.kek: still the template's placeholder CHANGE-ME",
                      got.stderr)
        self.assertNotIn("listening on", got.stdout)
        self.assertFalse(data_dir.exists(), "a refused config created the data directory")

        # The same file with its secrets set is a configuration that serves.
        text = (self.root / CONFIG).read_text(encoding="utf-8")
        text = re.sub(r'^token = "CHANGE-ME[^"]*"', f'token = "{secrets.token_hex(24)}"', text,
                      count=1, flags=re.M)
        text = re.sub(r'^kek = "CHANGE-ME[^"]*"', f'kek = "{secrets.token_hex(32)}"', text,
                      count=1, flags=re.M)
        self.assertNotRegex(text, r'(?m)^[^#]*CHANGE-ME')
        config = self.tmp / "set.toml"
        config.write_text(text, encoding="utf-8")
        server = self.packaged_server(config).start()
        self.assertEqual(server.health(), 200)
        self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main()
