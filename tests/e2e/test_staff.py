"""Staff accounts and their API keys over HTTP (docs/admin.md ("Staff, roles and API keys")), and the console's sign-in
(docs/console.md): members created with the sandbox token; each member's API key opens the admin
API with that member's roles (a viewer cannot credit, a finance member can); a revoked key and a
disabled member's keys stop at once; wrong keys are throttled per address; no generated secret
reaches the log; a fresh install outside the sandbox bootstraps its first operator with
admin.token, which retires once an admin member holds a key. The console: password, TOTP
enrolment, codes counted once, a published password refused outside the sandbox."""
import base64
import hashlib
import hmac
import os
import re
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import log_scan  # noqa: E402
from harness import (ADMIN_TOKEN, OUTSIDE_ADMIN_TOKEN, IsolatedServerTestCase,  # noqa: E402
                     outside_sandbox)
from test_cabinet import Browser  # noqa: E402

CREDIT = "/admin/v1/tenants/ecommpay:91348/funders/merchant/credits/"
FUNDER = "/admin/v1/tenants/ecommpay:91348/funders/merchant"
KEY_RE = re.compile(r"^pdk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$")
CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')
SECRET_RE = re.compile(r'<code id="secret">([A-Z2-7]+)</code>')
# The sandbox's admin member (config/sandbox.toml, [[admin.staff]]) and its published password.
SANDBOX_ADMIN = ("ops-admin", "sandbox-console-admin")
# A member outside the sandbox whose password is that published one, under a hash of its own (the
# config refuses the published hash itself): the password is refused at sign-in.
PUBLISHED_PASSWORD_MEMBER = """
[[admin.staff]]
login = "published"
name = "Published Password"
roles = ["viewer"]
password_hash = "$argon2id$v=19$m=65536,t=2,p=1$sG8+ya2FQbMx4nJhe7e07w$9kLnvWDLV5SUYqYG+6zo4bmE8tGQt1feqp8sc9tZLlk"
"""


def totp(secret_base32, at_s=None, step_offset=0):
    """RFC 6238's code (HMAC-SHA1, 30 s, 6 digits) of a base32 secret at `at_s` (now)."""
    key = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    step = int((time.time() if at_s is None else at_s) // 30) + step_offset
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return str((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000).zfill(6)


class StaffCase(IsolatedServerTestCase):

    def call(self, method, path, body=None, auth=ADMIN_TOKEN):
        return self.api.request(method, path, body=body, auth=auth)

    def create_member(self, login, roles, auth=ADMIN_TOKEN):
        r = self.call("POST", "/admin/v1/staff", {"login": login, "name": login.title(), "roles": roles}, auth)
        self.assertEqual(r.status, 201, r.raw)
        log_scan.remember_secret(r.json["initialPassword"])
        self.assertEqual(r.json["member"]["roles"], roles)
        return r.json["initialPassword"]

    def create_key(self, login, auth=ADMIN_TOKEN):
        r = self.call("POST", f"/admin/v1/staff/{login}/api-keys", {"name": "laptop"}, auth)
        self.assertEqual(r.status, 201, r.raw)
        log_scan.remember_secret(r.json["key"])
        self.assertRegex(r.json["key"], KEY_RE)
        self.assertIn(r.json["keyId"], r.json["key"])
        return r.json["keyId"], r.json["key"]


class StaffKeysTest(StaffCase):

    def test_keys_act_with_their_members_roles(self):
        self.create_member("fin-1", ["finance"])
        self.create_member("view-1", ["viewer"])
        fin_id, fin = self.create_key("fin-1")
        _, view = self.create_key("view-1")
        body = {"amount": {"value": "5.00", "currency": "EUR"}}
        r = self.call("POST", CREDIT + "by-viewer", body, view)
        self.assertEqual((r.status, r.json["errorCode"]), (403, "auth.role.missing"), r.raw)
        self.assertEqual(self.call("GET", FUNDER, auth=view).status, 200)
        r = self.call("POST", CREDIT + "by-finance", body, fin)
        self.assertEqual(r.status, 200, r.raw)
        # A member sees their own keys (no secret, no hash), not another's; only admins create staff.
        r = self.call("GET", "/admin/v1/staff/fin-1/api-keys", auth=fin)
        self.assertEqual(r.status, 200, r.raw)
        (listed,) = r.json["apiKeys"]
        self.assertEqual((listed["keyId"], listed["name"]), (fin_id, "laptop"))
        self.assertGreater(listed["lastUsedMs"], 0)
        self.assertNotIn(fin.split("_")[-1], r.raw.decode())
        self.assertEqual(set(listed), {"keyId", "name", "createdMs", "lastUsedMs"})
        self.assertEqual(self.call("GET", "/admin/v1/staff/view-1/api-keys", auth=fin).status, 403)
        r = self.call("POST", "/admin/v1/staff", {"login": "x", "name": "X", "roles": ["admin"]}, view)
        self.assertEqual((r.status, r.json["errorCode"]), (403, "auth.role.missing"))
        # Revoked: refused at once.
        self.assertEqual(self.call("DELETE", f"/admin/v1/staff/fin-1/api-keys/{fin_id}").status, 204)
        r = self.call("GET", FUNDER, auth=fin)
        self.assertEqual((r.status, r.json["errorCode"]), (401, "auth.token.invalid"))
        self.assertEqual(self.call("DELETE", f"/admin/v1/staff/fin-1/api-keys/{fin_id}").status, 404)
        # Disabled: every key stops; enabled again, they work again.
        r = self.call("POST", "/admin/v1/staff/view-1/disable")
        self.assertEqual((r.status, r.json["disabled"]), (200, True), r.raw)
        self.assertEqual(self.call("GET", FUNDER, auth=view).status, 401)
        self.assertEqual(self.call("POST", "/admin/v1/staff/view-1/enable").status, 200)
        self.assertEqual(self.call("GET", FUNDER, auth=view).status, 200)
        # No secret in the answers that list members, nor in the log.
        r = self.call("GET", "/admin/v1/staff")
        self.assertEqual(r.status, 200)
        self.assertTrue({"fin-1", "view-1", "ops-admin"} <= {m["login"] for m in r.json["staff"]})
        self.assertNotIn("argon2", r.raw.decode())
        self.assertEqual(self.server.scan_logs(), [])

    def test_roles_change_but_never_ones_own_nor_the_last_admin(self):
        self.create_member("adm-1", ["viewer", "admin"])
        _, adm = self.create_key("adm-1")
        r = self.call("PATCH", "/admin/v1/staff/adm-1", {"roles": ["viewer", "finance", "admin"]}, adm)
        self.assertEqual((r.status, r.json["errorCode"]), (403, "staff.own.roles"), r.raw)
        self.create_member("sup-1", ["viewer"], adm)
        r = self.call("PATCH", "/admin/v1/staff/sup-1", {"roles": ["viewer", "support"], "name": "Sue"}, adm)
        self.assertEqual((r.status, r.json["roles"], r.json["name"]), (200, ["viewer", "support"], "Sue"), r.raw)
        # ops-admin (the config's) and adm-1 hold the admin role: one may go, not both.
        self.assertEqual(self.call("POST", "/admin/v1/staff/ops-admin/disable", auth=adm).status, 200)
        r = self.call("POST", "/admin/v1/staff/adm-1/disable")
        self.assertEqual((r.status, r.json["errorCode"]), (409, "staff.last.admin"), r.raw)
        r = self.call("PATCH", "/admin/v1/staff/adm-1", {"roles": ["viewer"]})
        self.assertEqual((r.status, r.json["errorCode"]), (409, "staff.last.admin"), r.raw)
        self.assertEqual(self.call("GET", FUNDER, auth=adm).status, 200)
        # Refusals of bad input change nothing.
        cases = [({"login": "a b", "name": "A", "roles": ["viewer"]}, 400),
                 ({"login": "new-1", "name": "A", "roles": ["root"]}, 400),
                 ({"login": "new-1", "name": "A", "roles": []}, 400),
                 ({"login": "new-1", "name": "A"}, 400),
                 ({"login": "sup-1", "name": "A", "roles": ["viewer"]}, 409)]
        for body, status in cases:
            self.assertEqual(self.call("POST", "/admin/v1/staff", body).status, status, body)
        self.assertEqual(self.call("GET", "/admin/v1/staff/new-1").status, 404)
        self.assertEqual(self.call("GET", "/admin/v1/staff/nobody/api-keys").status, 404)
        self.assertEqual(self.call("PUT", "/admin/v1/staff/sup-1").status, 405)


class WrongKeysTest(StaffCase):

    def new_server(self, start=True, **kw):
        # Tokens and keys are throttled by the address's failures alone (nobody guesses 256 bits):
        # three failures in a burst, then one a minute.
        kw.setdefault("config_replace", {"address_failures_per_minute = 30": "address_failures_per_minute = 1",
                                         "address_failures_burst = 30": "address_failures_burst = 3"})
        return super().new_server(start, **kw)

    def test_wrong_keys_are_throttled_per_address(self):
        _, key = self.create_key("ops-finance")
        wrong = key[:-1] + ("A" if key[-1] != "A" else "B")
        guesses = [wrong, "pdk_0123456789abcdef_" + "x" * 43, "pdk_short", wrong]
        answers = [self.call("GET", FUNDER, auth=guess) for guess in guesses]
        codes = [(r.status, r.json["errorCode"]) for r in answers]
        self.assertEqual(codes[:3], [(401, "auth.token.invalid")] * 3)
        self.assertEqual(codes[3], (429, "auth.too.many.attempts"))
        r = answers[3]
        # Even the right key waits now: the address is throttled, not the key.
        self.assertEqual(self.call("GET", FUNDER, auth=key).status, 429)
        self.assertIn("retry-after", r.headers)
        self.assertEqual(self.server.scan_logs(), [])


class ConsoleSignInTest(StaffCase):
    """The console's steps over plain HTTP (the browser test walks them in Chromium)."""

    def sign_in(self, b, login, password, expect="/console/code"):
        status, _, page = b.get("/console/login")
        self.assertEqual(status, 200, page)
        status, headers, page = b.request("POST", "/console/login", {
            "csrf": CSRF_RE.search(page).group(1), "login": login, "password": password})
        self.assertEqual((status, headers.get("location")), (303, expect), page)

    def post(self, b, path, page_path, form):
        _, _, page = b.get(page_path)
        return b.request("POST", path, {"csrf": CSRF_RE.search(page).group(1), **form})

    def test_enrolment_then_codes_count_once(self):
        password = self.create_member("ann", ["viewer", "finance"])
        b = Browser(self.server)
        self.sign_in(b, "ann", password, "/console/enrol")
        self.assertIn("console_session=", " ".join(b.set_cookies))
        self.assertTrue(all("Path=/console" in c for c in b.set_cookies if c.startswith("console_")))
        self.assertEqual(b.get("/console")[1].get("location"), "/console/enrol")
        _, _, page = b.get("/console/enrol")
        self.assertIn("<svg", page)
        secret = SECRET_RE.search(page).group(1)
        log_scan.remember_secret(secret)
        status, _, page = self.post(b, "/console/enrol", "/console/enrol", {"code": "000000"})
        self.assertEqual(status, 401, page)
        self.assertEqual(SECRET_RE.search(page).group(1), secret)  # the same secret until confirmed
        # Codes are pinned to the enrolment's step, so a 30 s boundary mid-test changes nothing.
        enrolled_at = time.time()
        enrol_code = totp(secret, at_s=enrolled_at)
        status, headers, page = self.post(b, "/console/enrol", "/console/enrol", {"code": enrol_code})
        self.assertEqual((status, headers.get("location")), (303, "/console/password"), page)
        new_password = "ann-own-password-1"
        log_scan.remember_secret(new_password)
        status, headers, page = self.post(b, "/console/password", "/console/password", {
            "current": password, "next": new_password, "again": new_password})
        self.assertEqual((status, headers.get("location")), (303, "/console"), page)
        status, _, page = b.get("/console")
        self.assertEqual(status, 200, page)
        self.assertIn('id="member-roles">viewer, finance<', page)
        # Signing in again: the password, then a code; the enrolment's code is spent.
        b2 = Browser(self.server)
        self.sign_in(b2, "ann", new_password)
        status, _, page = self.post(b2, "/console/code", "/console/code", {"code": enrol_code})
        self.assertEqual(status, 401, page)
        next_code = totp(secret, at_s=enrolled_at, step_offset=1)
        status, headers, _ = self.post(b2, "/console/code", "/console/code", {"code": next_code})
        self.assertEqual((status, headers.get("location")), (303, "/console"))
        b3 = Browser(self.server)
        self.sign_in(b3, "ann", new_password)
        status, _, _ = self.post(b3, "/console/code", "/console/code", {"code": next_code})
        self.assertEqual(status, 401)
        # Disabled: the session ends at once.
        self.assertEqual(self.call("POST", "/admin/v1/staff/ann/disable").status, 200)
        self.assertEqual(b2.get("/console")[1].get("location"), "/console/login")
        self.assertEqual(self.server.scan_logs(), [])


class FreshInstallTest(StaffCase):
    """Outside the sandbox, admin.token bootstraps the staff and retires once an admin holds a key."""

    def new_server(self, start=True, **kw):
        kw.setdefault("config_replace", outside_sandbox())
        kw.setdefault("extra_config", PUBLISHED_PASSWORD_MEMBER)
        return super().new_server(start, **kw)

    def test_the_token_bootstraps_the_first_operator_then_retires(self):
        token = OUTSIDE_ADMIN_TOKEN
        self.assertEqual(self.call("GET", "/admin/v1/staff", auth=token).status, 200)
        self.create_member("root", ["viewer", "admin"], token)
        key_id, key = self.create_key("root", token)
        r = self.call("GET", "/admin/v1/stats", auth=token)
        self.assertEqual((r.status, r.json["errorCode"]), (401, "auth.token.retired"), r.raw)
        self.assertEqual(self.call("GET", "/admin/v1/stats", auth=key).status, 200)
        # The sandbox's published staff password opens nothing here.
        b = Browser(self.server)
        status, _, page = b.get("/console/login")
        status, _, page = b.request("POST", "/console/login", {
            "csrf": CSRF_RE.search(page).group(1), "login": "published", "password": SANDBOX_ADMIN[1]})
        self.assertEqual(status, 401, page)
        # With no admin key left, the token opens the API again: the config holder's way back in.
        self.assertEqual(self.call("DELETE", f"/admin/v1/staff/root/api-keys/{key_id}", auth=key).status, 204)
        self.assertEqual(self.call("GET", "/admin/v1/stats", auth=token).status, 200)


if __name__ == "__main__":
    unittest.main()
