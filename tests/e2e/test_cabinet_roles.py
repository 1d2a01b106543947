"""Cabinet roles over HTTP (docs/cabinet.md, "Roles"): the sandbox's read-only login reads the
balances, the payouts, their CSV and the audit log, and every page and form of cards and KNP
answers it 403, written to the audit log; roles combine; a login whose config lists none keeps
every right."""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import IsolatedServerTestCase  # noqa: E402
from test_cabinet import AUDITOR, AUDITOR_CONFIG, BEREKE, NAV_RE, Browser, nav_paths  # noqa: E402

VIEWER = ("bereke-viewer", "sandbox-cabinet-viewer")  # the sandbox's read-only Bereke login
SANDBOX_CARD = "4908a3c3-6c7c-75d3-9707-66ab06c12040"  # the Bereke partner's corporate card
# Logins of the Bereke partner with one role each besides viewing (the auditor's password).
ONE_ROLE_CONFIG = """
[[cabinet.users]]
login = "bereke-cards"
tenant = "bereke:sandbox-partner"
password_hash = "$argon2id$v=19$m=65536,t=2,p=1$ZtjFvvVbFYqug2AEvlV4fw$94T7N8TXROnujjNIdJz3OHf4P5Kz1TuG+FPZ5CyamVw"
roles = ["cards"]

[[cabinet.users]]
login = "bereke-settings"
tenant = "bereke:sandbox-partner"
password_hash = "$argon2id$v=19$m=65536,t=2,p=1$ZtjFvvVbFYqug2AEvlV4fw$94T7N8TXROnujjNIdJz3OHf4P5Kz1TuG+FPZ5CyamVw"
roles = ["settings"]
"""
DENIED = "Your login has no right to do this"


def denied_lines(audit_page):
    """(login, detail) of each "denied" line of an audit log page, newest first."""
    return re.findall(r'<td>([^<]+)</td><td class="action">denied</td><td>([^<]*)</td>', audit_page)


class CabinetRolesTest(IsolatedServerTestCase):

    def signed_in(self, who):
        b = Browser(self.server)
        b.login(*who)
        return b

    def test_a_viewer_reads_everything_and_changes_nothing(self):
        self.assertEqual(self.api.perform("viewer-reads", pan="4111111111111111", amount=1500).status, 200)
        v = self.signed_in(VIEWER)
        # Balances, payouts, one payout, the CSV and the audit log: as any login of the partner.
        status, _, page = v.get("/cabinet")
        self.assertEqual(status, 200, page)
        self.assertIn('<tr data-code="transit">', page)
        self.assertIn(f'<tr data-code="{SANDBOX_CARD}">', page)
        self.assertIn("bereke-viewer · bereke:sandbox-partner", page)
        # Its navigation has no page it may not open.
        self.assertEqual(nav_paths(page), ["/cabinet", "/cabinet/payouts", "/cabinet/statements", "/cabinet/audit"])
        self.assertNotIn("/cabinet/cards", page)
        self.assertNotIn("/cabinet/knp", page)
        _, _, page = v.get("/cabinet/payouts")
        self.assertIn('<tr data-id="viewer-reads" data-status="success"', page)
        self.assertIn('id="csv"', page)
        status, _, text = v.get("/cabinet/payouts.csv")
        self.assertEqual(status, 200)
        self.assertIn(",viewer-reads,", text)
        status, _, page = v.get("/cabinet/payout?kind=card&id=viewer-reads")
        self.assertEqual(status, 200)
        self.assertIn('id="knp">710<', page)
        # Cards and KNP: their pages and every form are refused, in the cabinet's own page.
        csrf = v.csrf(page)
        refused = [("GET", "/cabinet/cards", None), ("GET", "/cabinet/cards?add=1", None),
                   ("GET", "/cabinet/knp", None),
                   ("POST", "/cabinet/cards/add", {"pan": "4111111111111111", "expiry": "12/39",
                                                   "holder": "Ivan Petrov", "phone": "+77011234567"}),
                   ("POST", "/cabinet/cards/confirm", {"enrolment": "x", "code": "123456"}),
                   ("POST", "/cabinet/cards/primary", {"binding": SANDBOX_CARD}),
                   ("POST", "/cabinet/cards/delete", {"binding": SANDBOX_CARD}),
                   ("POST", "/cabinet/knp", {"knp": "119"})]
        for method, path, form in refused:
            status, headers, page = v.request(method, path, None if form is None else {"csrf": csrf, **form})
            self.assertEqual(status, 403, (path, page))
            self.assertIn("text/html", headers["content-type"])
            self.assertIn(DENIED, page, path)
            self.assertIn('id="who"', page, "the cabinet's page, with its header")
            self.assertNotIn("/cabinet/cards", NAV_RE.search(page).group(1))
        _, _, page = v.get("/cabinet?lang=ru")
        self.assertIn("нет прав", v.get("/cabinet/knp")[2])
        # Nothing changed: no SMS, the card is there and not primary, KNP is 710.
        self.assertEqual([f for f in os.listdir(os.path.join(self.server.data_dir, "sms")) if f.endswith(".sms")], [])
        partner = self.signed_in(BEREKE)
        _, _, page = partner.get("/cabinet/cards")
        self.assertIn(f'<tr data-binding="{SANDBOX_CARD}">', page)
        self.assertIn('id="knp-current">710<', partner.get("/cabinet/knp")[2])
        # Each attempt is in the partner's audit log: who tried what, from where.
        _, _, audit = v.get("/cabinet/audit")
        self.assertEqual(denied_lines(audit), [
            ("bereke-viewer", "GET /cabinet/knp (needs settings)"),  # in Russian
            ("bereke-viewer", "POST /cabinet/knp (needs settings)"),
            ("bereke-viewer", "POST /cabinet/cards/delete (needs cards)"),
            ("bereke-viewer", "POST /cabinet/cards/primary (needs cards)"),
            ("bereke-viewer", "POST /cabinet/cards/confirm (needs cards)"),
            ("bereke-viewer", "POST /cabinet/cards/add (needs cards)"),
            ("bereke-viewer", "GET /cabinet/knp (needs settings)"),
            ("bereke-viewer", "GET /cabinet/cards (needs cards)"),
            ("bereke-viewer", "GET /cabinet/cards (needs cards)"),
        ])
        self.assertIn('<td>bereke-viewer</td><td class="action">denied</td><td>GET /cabinet/knp (needs settings)</td>'
                      '<td>127.0.0.1</td>', audit)
        # A forged form (no CSRF token) is refused before the role is looked at, and not logged as
        # the viewer's attempt.
        self.assertEqual(v.request("POST", "/cabinet/knp", {"knp": "119"})[0], 403)
        self.assertEqual(len(denied_lines(v.get("/cabinet/audit")[2])), 9)

    def test_roles_combine_and_a_login_that_lists_none_keeps_every_right(self):
        self.server.stop()
        self.server = self.new_server(extra_config=AUDITOR_CONFIG + ONE_ROLE_CONFIG)
        cards = self.signed_in(("bereke-cards", AUDITOR[1]))
        _, _, page = cards.get("/cabinet")
        self.assertEqual(nav_paths(page), ["/cabinet", "/cabinet/payouts", "/cabinet/statements", "/cabinet/cards", "/cabinet/audit"])
        self.assertEqual(cards.get("/cabinet/cards")[0], 200)
        self.assertEqual(cards.get("/cabinet/knp")[0], 403)
        status, headers, _ = cards.request("POST", "/cabinet/cards/primary", {"csrf": cards.csrf(page),
                                                                              "binding": SANDBOX_CARD})
        self.assertEqual((status, headers["location"]), (303, "/cabinet/cards?done=primary"))
        self.assertEqual(cards.request("POST", "/cabinet/knp", {"csrf": cards.csrf(page), "knp": "119"})[0], 403)
        settings = self.signed_in(("bereke-settings", AUDITOR[1]))
        _, _, page = settings.get("/cabinet")
        self.assertEqual(nav_paths(page), ["/cabinet", "/cabinet/payouts", "/cabinet/statements", "/cabinet/knp", "/cabinet/audit"])
        self.assertEqual(settings.get("/cabinet/cards")[0], 403)
        self.assertEqual(settings.request("POST", "/cabinet/cards/delete", {"csrf": settings.csrf(page),
                                                                            "binding": SANDBOX_CARD})[0], 403)
        status, headers, _ = settings.request("POST", "/cabinet/knp", {"csrf": settings.csrf(page), "knp": "119"})
        self.assertEqual((status, headers["location"]), (303, "/cabinet/knp?saved=1"))
        # The auditor's config lists no roles: it may do everything, as every login could before.
        auditor = self.signed_in(AUDITOR)
        _, _, page = auditor.get("/cabinet")
        self.assertEqual(nav_paths(page),
                         ["/cabinet", "/cabinet/payouts", "/cabinet/statements", "/cabinet/cards", "/cabinet/knp", "/cabinet/audit"])
        self.assertEqual(auditor.get("/cabinet/cards")[0], 200)
        status, _, _ = auditor.request("POST", "/cabinet/knp", {"csrf": auditor.csrf(page), "knp": "710"})
        self.assertEqual(status, 303)
        _, _, audit = auditor.get("/cabinet/audit")
        self.assertEqual(denied_lines(audit), [
            ("bereke-settings", "POST /cabinet/cards/delete (needs cards)"),
            ("bereke-settings", "GET /cabinet/cards (needs cards)"),
            ("bereke-cards", "POST /cabinet/knp (needs settings)"),
            ("bereke-cards", "GET /cabinet/knp (needs settings)"),
        ])
        actions = re.findall(r'<td>([^<]+)</td><td class="action">(cards\.primary|knp\.change)</td>', audit)
        self.assertEqual(actions, [("bereke-auditor", "knp.change"), ("bereke-settings", "knp.change"),
                                   ("bereke-cards", "cards.primary")])


if __name__ == "__main__":
    unittest.main()
