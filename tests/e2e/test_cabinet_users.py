"""Cabinet users created at run time (docs/cabinet.md ("Users at run time"), docs/admin.md ("Cabinet users")):
created through the admin API with a generated password shown once, they sign in to the cabinet
as the config's users do, must choose their own password first, are held to their roles (changed at
the next request), end their sessions when disabled or reset, and are refused when their partner is
closed (read only when it is suspended). Logins are unique across every user, the config's too; the
config's users are read only; bad bodies get precise errors; support is the role that suffices. On
PostgreSQL a user created through one node signs in through another at once."""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import log_scan  # noqa: E402
from harness import (ADMIN_TOKEN, Api, HarnessError, IsolatedServerTestCase, Server,  # noqa: E402
                     default_backend, unique)
from test_cabinet import Browser  # noqa: E402

BEREKE_TENANT = "bereke:sandbox-partner"
USERS = f"/admin/v1/tenants/{BEREKE_TENANT}/cabinet-users"
PASSWORD_RE = re.compile(r"^[A-Za-z0-9_-]{20}$")
QIWI_SETTINGS = {
    "funders": [{"id": "main-funder", "displayName": "Main programme", "currency": "RUB"}],
    "clients": [{"clientId": "client-1", "accountId": "account-1", "currency": "RUB"}],
}
# Many sign-ins from 127.0.0.1 within a minute: more password checks than one address may start
# by default (the throttle of wrong passwords is left as it is).
MORE_CHECKS = {"checks_per_address_burst = 10": "checks_per_address_burst = 200"}
SLOW_POLL = "[tenants]\nrefresh_ms = 60000\n"


def audit_actions(page):
    """(login, action) of each line of a cabinet audit log page, newest first."""
    return re.findall(r'<td>([^<]+)</td><td class="action">([^<]+)</td>', page)


class CabinetUsersCase(IsolatedServerTestCase):

    def new_server(self, start=True, **kw):
        kw.setdefault("config_replace", MORE_CHECKS)
        return super().new_server(start=start, **kw)

    def call(self, method, path, body=None, auth=ADMIN_TOKEN, api=None, **kw):
        return (api or self.api).request(method, path, body=body, auth=auth, **kw)

    def create(self, login, roles, users=USERS, api=None, auth=ADMIN_TOKEN):
        """The created user and its initial password (noted for the log scan)."""
        r = self.call("POST", users, {"login": login, "roles": roles}, api=api, auth=auth)
        self.assertEqual(r.status, 201, r.raw)
        password = r.json["initialPassword"]
        self.assertRegex(password, PASSWORD_RE)
        log_scan.remember_secret(password)
        return r.json["user"], password

    def first_sign_in(self, login, password, chosen, server=None):
        """A browser signed in with a generated password, which it replaces by `chosen`."""
        b = Browser(server or self.server)
        b.login(login, password)
        self.assertEqual(b.last_headers["location"], "/cabinet/password")
        status, _, page = b.get("/cabinet/password")
        self.assertEqual(status, 200, page)
        self.assertIn('id="required"', page)
        status, headers, page = b.request("POST", "/cabinet/password", {
            "csrf": b.csrf(page), "current": password, "next": chosen, "again": chosen})
        self.assertEqual((status, headers.get("location")), (303, "/cabinet/password?done=1"), page)
        log_scan.remember_secret(chosen)
        return b


class CabinetUsersTest(CabinetUsersCase):

    def test_a_created_user_chooses_a_password_then_reads_within_its_roles(self):
        user, password = self.create("anna-viewer", ["viewer"])
        self.assertEqual(user, {"login": "anna-viewer", "tenant": BEREKE_TENANT, "source": "runtime",
                                "roles": ["viewer"], "disabled": False, "mustChangePassword": True,
                                "created": user["created"], "updated": user["updated"], "revision": 1})
        # Shown once: neither the user's page nor the list carries it.
        r = self.call("GET", f"{USERS}/anna-viewer")
        self.assertEqual((r.status, r.json), (200, user))
        self.assertNotIn(password, self.call("GET", USERS).raw.decode())

        b = Browser(self.server)
        b.login("anna-viewer", password)
        self.assertEqual(b.last_headers["location"], "/cabinet/password")
        # Every other page leads to the password page, and no form but it (and signing out) is taken.
        status, headers, _ = b.get("/cabinet/payouts")
        self.assertEqual((status, headers["location"]), (303, "/cabinet/password"))
        status, _, page = b.get("/cabinet/password")
        self.assertIn("chosen by someone else", page)
        csrf = b.csrf(page)
        self.assertEqual(b.request("POST", "/cabinet/knp", {"csrf": csrf, "knp": "119"})[0], 403)
        # Too short, typed twice differently, the same as the given one: refused; a wrong current one too.
        for current, nxt, again, status in [(password, "short-pass", "short-pass", 422),
                                            (password, "a-long-password-1", "a-long-password-2", 422),
                                            (password, password, password, 422),
                                            ("not-the-password", "a-long-password-1", "a-long-password-1", 403)]:
            got, _, page = b.request("POST", "/cabinet/password",
                                     {"csrf": csrf, "current": current, "next": nxt, "again": again})
            self.assertEqual(got, status, page)
        self.assertEqual(b.get("/cabinet")[0], 303)
        status, headers, _ = b.request("POST", "/cabinet/password", {
            "csrf": csrf, "current": password, "next": "anna's own password", "again": "anna's own password"})
        self.assertEqual((status, headers["location"]), (303, "/cabinet/password?done=1"))
        log_scan.remember_secret("anna's own password")
        self.assertIn('id="notice"', b.get("/cabinet/password?done=1")[2])
        self.assertFalse(self.call("GET", f"{USERS}/anna-viewer").json["mustChangePassword"])

        # Now the pages open, within the viewer's role.
        status, _, page = b.get("/cabinet")
        self.assertEqual(status, 200, page)
        self.assertIn("anna-viewer · bereke:sandbox-partner", page)
        self.assertEqual(b.get("/cabinet/knp")[0], 403)
        # A role given applies at the next request, and taken away likewise.
        r = self.call("PATCH", f"{USERS}/anna-viewer", {"roles": ["settings"]})
        self.assertEqual((r.status, r.json["roles"]), (200, ["viewer", "settings"]), r.raw)
        self.assertEqual(b.get("/cabinet/knp")[0], 200)
        self.assertEqual(b.get("/cabinet/cards")[0], 403)
        self.call("PATCH", f"{USERS}/anna-viewer", {"roles": ["viewer"]})
        self.assertEqual(b.get("/cabinet/knp")[0], 403)

        # The generated password opens nothing any more; the chosen one does, straight to the cabinet.
        other = Browser(self.server)
        self.assertEqual(other.login("anna-viewer", password, expect=None)[0], 401)
        other.login("anna-viewer", "anna's own password")
        self.assertEqual(other.last_headers["location"], "/cabinet")
        actions = audit_actions(other.get("/cabinet/audit")[2])
        for expected in [("anna-viewer", "user.created"), ("anna-viewer", "password.changed"),
                         ("anna-viewer", "user.roles"), ("anna-viewer", "denied")]:
            self.assertIn(expected, actions)
        # The operators' audit log has the calls, never a password.
        log = self.call("GET", "/admin/v1/audit?limit=100").raw.decode()
        self.assertIn(f"{USERS}/anna-viewer", log)
        self.assertNotIn(password, log)

    def test_disabling_ends_the_sessions_and_a_reset_gives_a_new_password(self):
        _, password = self.create("boris", ["viewer", "cards"])
        b = self.first_sign_in("boris", password, "boris chosen password")
        self.assertEqual(b.get("/cabinet/cards")[0], 200)
        r = self.call("POST", f"{USERS}/boris/disable")
        self.assertEqual((r.status, r.json["disabled"]), (200, True), r.raw)
        # The open session ends at its next request; the right password is answered as a wrong one.
        status, headers, _ = b.get("/cabinet")
        self.assertEqual((status, headers["location"]), (303, "/cabinet/login"))
        self.assertEqual(Browser(self.server).login("boris", "boris chosen password", expect=None)[0], 401)
        r = self.call("POST", f"{USERS}/boris/enable")
        self.assertEqual((r.status, r.json["disabled"]), (200, False), r.raw)
        self.assertEqual(b.get("/cabinet")[0], 303)  # the old session stays ended
        b = Browser(self.server)
        b.login("boris", "boris chosen password")
        self.assertEqual(b.get("/cabinet")[0], 200)

        r = self.call("POST", f"{USERS}/boris/reset-password")
        self.assertEqual(r.status, 200, r.raw)
        reset = r.json["initialPassword"]
        log_scan.remember_secret(reset)
        self.assertRegex(reset, PASSWORD_RE)
        self.assertNotEqual(reset, password)
        self.assertTrue(r.json["user"]["mustChangePassword"])
        self.assertEqual(b.get("/cabinet")[0], 303)  # a reset ends the sessions too
        self.assertEqual(Browser(self.server).login("boris", "boris chosen password", expect=None)[0], 401)
        # Until boris chooses again, his own pages lead to the password page and his forms are refused.
        held = Browser(self.server)
        held.login("boris", reset)
        status, headers, _ = held.get("/cabinet/cards")
        self.assertEqual((status, headers["location"]), (303, "/cabinet/password"))
        csrf = held.csrf(held.get("/cabinet/password")[2])
        status, _, page = held.request("POST", "/cabinet/cards/delete", {"csrf": csrf, "binding": "x"})
        self.assertEqual(status, 403, page)
        b = self.first_sign_in("boris", reset, "boris second password")
        self.assertEqual(b.get("/cabinet/cards")[0], 200)
        actions = [a for _, a in audit_actions(b.get("/cabinet/audit")[2])]
        for expected in ["user.disabled", "user.enabled", "user.password.reset"]:
            self.assertIn(expected, actions)

    def test_logins_are_unique_and_the_config_users_read_only(self):
        self.create("carol", ["viewer"])
        # Another tenant, the same login; a login of the config: both taken.
        for users, login in [("/admin/v1/tenants/qiwi:best-partner/cabinet-users", "carol"),
                             (USERS, "carol"), (USERS, "bereke-viewer"), (USERS, "merchant-91348")]:
            r = self.call("POST", users, {"login": login, "roles": ["viewer"]})
            self.assertEqual(r.status, 409, r.raw)
            self.assertEnvelope(r, "cabinet-user.exists", "payoutd-admin")
        # The list holds the config's users (without times) and the runtime ones.
        r = self.call("GET", USERS)
        self.assertEqual(r.status, 200, r.raw)
        listed = {u["login"]: u for u in r.json["users"]}
        self.assertEqual(listed["bereke-viewer"]["source"], "config")
        self.assertEqual(listed["bereke-viewer"]["roles"], ["viewer"])
        self.assertIsNone(listed["bereke-viewer"]["created"])
        self.assertEqual(listed["payout_api_username"]["roles"], ["viewer", "cards", "settings"])
        self.assertEqual(listed["carol"]["source"], "runtime")
        # An ecommpay project of the config has users too.
        r = self.call("GET", "/admin/v1/tenants/ecommpay:91348/cabinet-users")
        self.assertEqual([u["login"] for u in r.json["users"]], ["merchant-91348"])
        # The config's users change only in the config.
        for method, path, body in [("PATCH", f"{USERS}/bereke-viewer", {"roles": ["cards"]}),
                                   ("POST", f"{USERS}/bereke-viewer/disable", None),
                                   ("POST", f"{USERS}/bereke-viewer/reset-password", None)]:
            r = self.call(method, path, body)
            self.assertEqual(r.status, 409, r.raw)
            self.assertEnvelope(r, "cabinet-user.config", "payoutd-admin")
        # A user is found under its own tenant only.
        for path in ["/admin/v1/tenants/qiwi:best-partner/cabinet-users/carol", f"{USERS}/nobody"]:
            r = self.call("GET", path)
            self.assertEqual(r.status, 404, r.raw)
            self.assertEnvelope(r, "cabinet-user.not.found", "payoutd-admin")
        r = self.call("POST", "/admin/v1/tenants/qiwi:best-partner/cabinet-users/carol/disable")
        self.assertEnvelope(r, "cabinet-user.not.found", "payoutd-admin")
        r = self.call("GET", "/admin/v1/tenants/bereke:nobody/cabinet-users")
        self.assertEqual(r.status, 404, r.raw)
        self.assertEnvelope(r, "tenant.not.found", "payoutd-admin")

    def test_bad_bodies_get_precise_errors_and_change_nothing(self):
        cases = [
            ("POST", USERS, b"not json", "body"),
            ("POST", USERS, b"[]", "object"),
            ("POST", USERS, {"roles": ["viewer"]}, "login: is required"),
            ("POST", USERS, {"login": "has space", "roles": ["viewer"]}, "login: must be 1 to 64 characters"),
            ("POST", USERS, {"login": "x" * 65, "roles": ["viewer"]}, "login"),
            ("POST", USERS, {"login": 7, "roles": ["viewer"]}, "login"),
            ("POST", USERS, {"login": "dave"}, "roles: is required (viewer, cards, settings)"),
            ("POST", USERS, {"login": "dave", "roles": "viewer"}, "roles: must be an array of roles"),
            ("POST", USERS, {"login": "dave", "roles": [1]}, "roles: must be an array of roles"),
            ("POST", USERS, {"login": "dave", "roles": []}, "roles: at least one role"),
            ("POST", USERS, {"login": "dave", "roles": ["admin"]}, 'roles: "admin" is not a role'),
            ("POST", USERS, {"login": "dave", "roles": ["viewer"], "password": "mine-mine-mine"},
             "password: is not a member of this body (login, roles); the password is generated"),
            ("PATCH", f"{USERS}/payout_api_username", {}, "roles: is required"),
            ("PATCH", f"{USERS}/payout_api_username", {"roles": ["viewer"], "login": "x"}, "login: is not a member"),
        ]
        for method, path, body, words in cases:
            raw = body if isinstance(body, bytes) else None
            r = self.call(method, path, None if raw else body, raw_body=raw)
            self.assertEqual(r.status, 400, f"{body!r}: {r.raw}")
            self.assertEnvelope(r, "validation.error", "payoutd-admin")
            self.assertIn(words, r.json["description"], f"{body!r}")
        r = self.call("GET", f"{USERS}/{'y' * 65}")
        self.assertEqual(r.status, 400, r.raw)
        r = self.call("DELETE", f"{USERS}/payout_api_username")
        self.assertEqual(r.status, 405, r.raw)
        self.assertEnvelope(r, "method.not.allowed", "payoutd-admin")
        logins = [u["login"] for u in self.call("GET", USERS).json["users"]]
        self.assertNotIn("dave", logins)

    def test_support_manages_users_and_a_viewer_only_reads(self):
        keys = {}
        for login, roles in [("staff-viewer", ["viewer"]), ("staff-support", ["support"])]:
            r = self.call("POST", "/admin/v1/staff", {"login": login, "name": login, "roles": roles})
            self.assertEqual(r.status, 201, r.raw)
            log_scan.remember_secret(r.json["initialPassword"])
            r = self.call("POST", f"/admin/v1/staff/{login}/api-keys", {"name": "laptop"})
            log_scan.remember_secret(r.json["key"])
            keys[login] = r.json["key"]
        viewer, support = keys["staff-viewer"], keys["staff-support"]
        self.assertEqual(self.call("GET", USERS, auth=viewer).status, 200)
        r = self.call("POST", USERS, {"login": "erin", "roles": ["viewer"]}, auth=viewer)
        self.assertEqual(r.status, 403, r.raw)
        self.assertEnvelope(r, "auth.role.missing", "payoutd-admin")
        self.create("erin", ["viewer"], auth=support)
        for method, path, body in [("PATCH", f"{USERS}/erin", {"roles": ["cards"]}),
                                   ("POST", f"{USERS}/erin/disable", None),
                                   ("POST", f"{USERS}/erin/enable", None),
                                   ("POST", f"{USERS}/erin/reset-password", None)]:
            r = self.call(method, path, body, auth=viewer)
            self.assertEqual(r.status, 403, r.raw)
            r = self.call(method, path, body, auth=support)
            self.assertEqual(r.status, 200, r.raw)
            if "initialPassword" in (r.json or {}):
                log_scan.remember_secret(r.json["initialPassword"])

    def test_a_suspended_partner_reads_and_a_closed_one_signs_in_no_more(self):
        _, password = self.create("frank", ["viewer", "settings"])
        b = self.first_sign_in("frank", password, "frank's own password")
        self.assertEqual(self.call("POST", f"/admin/v1/tenants/{BEREKE_TENANT}/suspend").status, 200)
        status, _, page = b.get("/cabinet/knp")
        self.assertEqual(status, 200, page)
        status, _, page = b.request("POST", "/cabinet/knp", {"csrf": b.csrf(page), "knp": "119"})
        self.assertEqual(status, 403, page)
        self.assertIn("suspended", page)
        self.assertEqual(self.call("POST", f"/admin/v1/tenants/{BEREKE_TENANT}/resume").status, 200)

        # A partner onboarded at run time, with nothing in its accounts, is closed.
        product = unique("cu")
        r = self.call("POST", "/admin/v1/tenants", {"provider": "qiwi", "id": product, "settings": QIWI_SETTINGS})
        self.assertEqual(r.status, 201, r.raw)
        log_scan.remember_secret(r.json["issuedCredentials"][0]["secret"])
        users = f"/admin/v1/tenants/qiwi:{product}/cabinet-users"
        _, password = self.create("gina", ["viewer"], users=users)
        b = self.first_sign_in("gina", password, "gina's own password")
        self.assertEqual(b.get("/cabinet")[0], 200)
        r = self.call("POST", f"/admin/v1/tenants/qiwi:{product}/close")
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(b.get("/cabinet")[0], 303)  # its session ends
        status, page = Browser(self.server).login("gina", "gina's own password", expect=None)
        self.assertEqual(status, 403, page)
        self.assertIn("closed", page)
        # Its users are listed still, and no one is added.
        self.assertEqual([u["login"] for u in self.call("GET", users).json["users"]], ["gina"])
        r = self.call("POST", users, {"login": "hank", "roles": ["viewer"]})
        self.assertEqual(r.status, 409, r.raw)
        self.assertEnvelope(r, "tenant.closed", "payoutd-admin")

    def test_a_config_login_taken_at_run_time_is_refused_at_start(self):
        self.create("later-config", ["viewer"])
        self.server.stop()
        config = """
[[cabinet.users]]
login = "later-config"
tenant = "bereke:sandbox-partner"
password_hash = "$argon2id$v=19$m=65536,t=2,p=1$ZtjFvvVbFYqug2AEvlV4fw$94T7N8TXROnujjNIdJz3OHf4P5Kz1TuG+FPZ5CyamVw"
"""
        again = Server(data_dir=self.server.data_dir, postgres_url=self.server.postgres_url, extra_config=config)
        try:
            with self.assertRaises(HarnessError) as caught:
                again.start()
            self.assertIn("cabinet.users: login later-config is also a cabinet user created through the "
                          "admin API", str(caught.exception))
        finally:
            again.close()


@unittest.skipUnless(default_backend() == "postgres", "two nodes share a PostgreSQL database")
class CabinetUsersTwoNodesTest(CabinetUsersCase):
    """Node A is self.server; node B shares its database and polls the tenant directory once a
    minute only: what B knows of the user it reads from the store at each request."""

    def new_server(self, start=True, **kw):
        kw.setdefault("extra_config", SLOW_POLL)
        return super().new_server(start=start, **kw)

    def test_a_user_created_on_one_node_signs_in_on_the_other_at_once(self):
        node_b = self.new_server(postgres_url=self.server.postgres_url)
        api_b = Api(node_b)
        self.addCleanup(api_b.close)
        _, password = self.create("ivan", ["viewer"])
        b = self.first_sign_in("ivan", password, "ivan's own password", server=node_b)
        self.assertEqual(b.get("/cabinet")[0], 200)
        self.call("PATCH", f"{USERS}/ivan", {"roles": ["cards"]})
        self.assertEqual(b.get("/cabinet/cards")[0], 200)
        self.call("POST", f"{USERS}/ivan/disable")
        self.assertEqual(b.get("/cabinet")[0], 303)
        # And the other way round: B creates, A signs in.
        _, password = self.create("jane", ["viewer"], api=api_b)
        b = self.first_sign_in("jane", password, "jane's own password", server=self.server)
        self.assertEqual(b.get("/cabinet")[0], 200)


if __name__ == "__main__":
    unittest.main()
