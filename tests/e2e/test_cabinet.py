"""The partner cabinet over HTTP (docs/cabinet.md): sign-in with the sandbox logins, the session
cookie and CSRF tokens, wrong passwords throttled (never locked), the audit log, the balances and the
payouts list (filters, pages, CSV, one payout) of the session's tenant only."""
import csv
import http.client
import io
import os
import re
import subprocess
import sys
import time
import unittest
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import OUTSIDE_CABINET, Api, IsolatedServerTestCase, binary_path, outside_sandbox, unique  # noqa: E402

BEREKE = ("payout_api_username", "payout_api_password")
ECOMMPAY = ("merchant-91348", "sandbox-cabinet-91348")
QIWI = ("best-partner-admin", "sandbox-cabinet-best-partner")
CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')
# A second login of the Bereke partner, to read its audit log.
AUDITOR = ("bereke-auditor", "auditor-pass")
AUDITOR_CONFIG = """
[[cabinet.users]]
login = "bereke-auditor"
tenant = "bereke:sandbox-partner"
password_hash = "$argon2id$v=19$m=65536,t=2,p=1$ZtjFvvVbFYqug2AEvlV4fw$94T7N8TXROnujjNIdJz3OHf4P5Kz1TuG+FPZ5CyamVw"
"""
NAV_RE = re.compile(r'<nav>(.*?)</nav>', re.S)


def nav_paths(page):
    """The paths the page's navigation links to."""
    return re.findall(r'href="([^"]+)"', NAV_RE.search(page).group(1))


class Browser:
    """A client that keeps cookies, as a browser would (one per person)."""

    def __init__(self, server, source="127.0.0.1"):
        """source: the loopback address this person connects from (127.0.0.0/8 is all ours)."""
        self.server = server
        self.source = source
        self.cookies = {}
        self.set_cookies = []  # every Set-Cookie seen, newest last
        self.last_headers = {}

    def request(self, method, path, form=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30,
                                          source_address=(self.source, 0))
        hdrs = dict(headers or {})
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        for c in resp.msg.get_all("Set-Cookie") or []:
            self.set_cookies.append(c)
            name, _, rest = c.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in c:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        conn.close()
        self.last_headers = dict((k.lower(), v) for k, v in resp.getheaders())
        return resp.status, self.last_headers, raw.decode("utf-8")

    def get(self, path):
        return self.request("GET", path)

    def login(self, login, password, expect=303):
        """The page the sign-in answers, checked to have status `expect`; expect=None: (status, page)."""
        status, _, page = self.get("/cabinet/login")
        assert status == 200, page
        csrf = CSRF_RE.search(page).group(1)
        status, headers, page = self.request("POST", "/cabinet/login",
                                             {"csrf": csrf, "login": login, "password": password})
        if expect is None:
            return status, page
        assert status == expect, (status, page)
        return page

    def csrf(self, page):
        return CSRF_RE.search(page).group(1)


class CabinetTest(IsolatedServerTestCase):

    def pay_bereke(self, order_number, pan="4111111111111111", amount=1500):
        r = self.api.perform(order_number, pan=pan, amount=amount)
        self.assertEqual(r.status, 200, r.raw)
        return r.json

    def test_sign_in_see_the_balances_and_sign_out(self):
        b = Browser(self.server)
        status, headers, _ = b.get("/cabinet")
        self.assertEqual((status, headers["location"]), (303, "/cabinet/login"))
        b.login(*BEREKE)
        session = [c for c in b.set_cookies if c.startswith("cabinet_session=")][-1]
        self.assertIn("HttpOnly", session)
        self.assertIn("SameSite=Strict", session)
        self.assertIn("Path=/cabinet", session)
        self.assertNotIn("Secure", session)  # the sandbox runs on plain HTTP
        status, headers, page = b.get("/cabinet")
        self.assertEqual(status, 200, page)
        self.assertIn("default-src 'none'", headers["content-security-policy"])
        self.assertEqual(headers["referrer-policy"], "same-origin")
        self.assertIn('<tr data-code="transit">', page)
        self.assertIn('class="num balance">1000000.00 KZT<', page)
        self.assertIn('<tr data-code="4908a3c3-6c7c-75d3-9707-66ab06c12040">', page)
        self.assertIn("499252.00 KZT", page)
        self.assertEqual(re.findall(r"<script[^>]*>", page), ['<script src="/static/payment.js" defer>'])
        # In Russian, by choice; the choice is remembered.
        _, _, page = b.get("/cabinet?lang=ru")
        self.assertIn('<html lang="ru">', page)
        self.assertIn("Балансы", page)
        _, _, page = b.get("/cabinet/payouts")
        self.assertIn("Выплаты", page)
        # Signing out ends the session, for this cookie everywhere.
        token = b.cookies["cabinet_session"]
        status, headers, _ = b.request("POST", "/cabinet/logout", {"csrf": b.csrf(page)})
        self.assertEqual((status, headers["location"]), (303, "/cabinet/login"))
        other = Browser(self.server)
        other.cookies["cabinet_session"] = token
        self.assertEqual(other.get("/cabinet")[0], 303)
        _, _, page = self.signed_in(BEREKE).get("/cabinet/audit")
        self.assertEqual(re.findall(r'class="action">([^<]+)<', page)[:3], ["login", "logout", "login"])

    def signed_in(self, who):
        b = Browser(self.server)
        b.login(*who)
        return b

    def test_forms_need_their_csrf_token_and_our_origin(self):
        b = Browser(self.server)
        _, _, page = b.get("/cabinet/login")
        csrf = b.csrf(page)
        # The login form: no token, another token, another site.
        for form, headers in (({"login": BEREKE[0], "password": BEREKE[1]}, {}),
                              ({"csrf": "x" * len(csrf), "login": BEREKE[0], "password": BEREKE[1]}, {}),
                              ({"csrf": csrf, "login": BEREKE[0], "password": BEREKE[1]},
                               {"Origin": "https://evil.example"}),
                              ({"csrf": csrf, "login": BEREKE[0], "password": BEREKE[1]}, {"Origin": "null"})):
            status, _, _ = b.request("POST", "/cabinet/login", form, headers)
            self.assertEqual(status, 403, form)
            self.assertNotIn("cabinet_session", b.cookies)
        # Signed in: sign-out without the session's token, or from another site, does nothing.
        b = self.signed_in(BEREKE)
        status, _, page = b.get("/cabinet")
        self.assertEqual(b.request("POST", "/cabinet/logout", {"csrf": "wrong"})[0], 403)
        self.assertEqual(b.request("POST", "/cabinet/logout", {"csrf": b.csrf(page)},
                                   {"Origin": "http://evil.example"})[0], 403)
        self.assertEqual(b.get("/cabinet")[0], 200, "still signed in")
        # Without a session, a POST is refused, not redirected.
        self.assertEqual(Browser(self.server).request("POST", "/cabinet/logout", {"csrf": "x"})[0], 403)

    def slow_throttle(self):
        """This test's server waits a minute after the free failures (the sandbox: a second), so
        that a slow machine cannot let a delay run out between two attempts."""
        self.server.stop()
        self.server = self.new_server(extra_config=AUDITOR_CONFIG,
                                      config_replace={"delay_first_ms = 1000": "delay_first_ms = 60000"})

    def test_wrong_passwords_slow_down_their_address_and_never_lock_the_login(self):
        self.slow_throttle()
        stranger = Browser(self.server, source="127.0.0.3")
        statuses = [stranger.login(BEREKE[0], f"wrong-{i}", expect=None)[0] for i in range(10)]
        # Three free failures, a fourth, then "try again in": never "locked", never a 503.
        self.assertEqual(statuses, [401] * 4 + [429] * 6, statuses)
        status, page = stranger.login(*BEREKE, expect=None)  # the right password waits as well
        self.assertEqual(status, 429)
        self.assertIn("Too many wrong passwords: try again in a while (seconds): ", page)
        self.assertIn(int(stranger.last_headers["retry-after"]), range(1, 61))
        self.assertNotIn("cabinet_session", stranger.cookies)
        # The partner, from its own address, signs in at once: a stranger cannot lock it out.
        self.signed_in(BEREKE)
        # The tenant's audit log shows what happened, and from where.
        _, _, page = self.signed_in(AUDITOR).get("/cabinet/audit")
        actions = re.findall(r'<td>(payout_api_username)</td><td class="action">([^<]+)</td><td>[^<]*</td><td>([^<]+)<',
                             page)
        self.assertEqual(actions, [("payout_api_username", "login", "127.0.0.1")] +
                         [("payout_api_username", "login.failed", "127.0.0.3")] * 4)

    def test_an_unknown_login_is_answered_exactly_as_a_wrong_password(self):
        # The same statuses in the same order: 401 and 429 never tell which logins exist.
        self.slow_throttle()
        known = Browser(self.server, source="127.0.0.4")
        unknown = Browser(self.server, source="127.0.0.5")
        seen = {}
        for who, b in ((BEREKE[0], known), ("nobody-at-all", unknown)):
            seen[who] = [b.login(who, f"wrong-{i}", expect=None)[0] for i in range(8)]
        self.assertEqual(seen[BEREKE[0]], seen["nobody-at-all"])
        self.assertEqual(seen["nobody-at-all"], [401] * 4 + [429] * 4)

    def test_a_crowd_of_bad_sign_ins_does_not_deny_sign_in_to_others(self):
        # 80 clients from one address post wrong passwords at once: that address is throttled
        # before a single argon2id check more is queued, and the partner elsewhere signs in.
        def attack(i):
            b = Browser(self.server, source="127.0.0.6")
            return b.login(f"guess-{i % 5}", "wrong", expect=None)[0]
        with ThreadPoolExecutor(max_workers=80) as pool:
            attacking = [pool.submit(attack, i) for i in range(80)]
            self.signed_in(BEREKE)
            statuses = Counter(f.result() for f in attacking)
        self.assertEqual(set(statuses) - {401, 429, 503}, set(), statuses)
        self.assertLessEqual(statuses[401], 10, statuses)  # the address's burst of checks
        self.signed_in(ECOMMPAY)

    def test_a_browser_that_signed_in_before_gets_in_through_a_crowd(self):
        # A crowd from a hundred addresses at once (an IPv6 /56 is 256 of the /64s the budgets
        # count) fills the queue of password checks; the partner's browser, which signed in
        # before, carries its device cookie and is checked ahead of all of them.
        self.server.stop()
        self.server = self.new_server(config_replace={"pending_checks_max = 256": "pending_checks_max = 16"})
        partner = self.signed_in(BEREKE)
        device = [c for c in partner.set_cookies if c.startswith("cabinet_device=")][-1]
        self.assertIn("HttpOnly", device)
        self.assertIn("Max-Age=7776000", device)  # 90 days
        _, _, page = partner.get("/cabinet")
        partner.request("POST", "/cabinet/logout", {"csrf": partner.csrf(page)})
        self.assertIn("cabinet_device", partner.cookies)  # signing out keeps it

        def attack(i):
            return Browser(self.server, source=f"127.0.3.{i + 1}").login(BEREKE[0], f"guess-{i}", expect=None)[0]
        with ThreadPoolExecutor(max_workers=100) as pool:
            crowd = [pool.submit(attack, i) for i in range(100)]
            time.sleep(0.3)  # the crowd is in
            status, page = partner.login(*BEREKE, expect=None)
            statuses = Counter(f.result() for f in crowd)
        self.assertEqual(status, 303, page)
        self.assertIn(503, statuses, "the crowd did fill the queue")

    def test_payouts_filters_pages_csv_and_one_payout(self):
        for i in range(3):
            self.pay_bereke(f"cab-ok-{i}", amount=1000 + i)
        self.pay_bereke("cab-declined", pan="4000000000000002", amount=5000)
        b = self.signed_in(BEREKE)
        _, _, page = b.get("/cabinet/payouts")
        ids = re.findall(r'<tr data-id="([^"]+)" data-status="([a-z]+)"', page)
        self.assertEqual(ids, [("cab-declined", "declined"), ("cab-ok-2", "success"),
                               ("cab-ok-1", "success"), ("cab-ok-0", "success")])
        _, _, page = b.get("/cabinet/payouts?status=declined")
        self.assertEqual(re.findall(r'<tr data-id="([^"]+)"', page), ["cab-declined"])
        _, _, page = b.get("/cabinet/payouts?min=10.01&max=10.02")
        self.assertEqual(re.findall(r'<tr data-id="([^"]+)"', page), ["cab-ok-2", "cab-ok-1"])
        _, _, page = b.get("/cabinet/payouts?id=cab-ok-0")
        self.assertEqual(re.findall(r'<tr data-id="([^"]+)"', page), ["cab-ok-0"])
        _, _, page = b.get("/cabinet/payouts?from=2000-01-01&to=2000-01-02")
        self.assertIn('id="none"', page)
        for bad in ("from=2026-13-01", "to=yesterday", "min=1,5", "status=lost", "before=x"):
            status, _, page = b.get("/cabinet/payouts?" + bad)
            self.assertEqual(status, 400, bad)
            self.assertIn('id="error"', page)
        # CSV of the filtered list.
        status, headers, text = b.get("/cabinet/payouts.csv?status=success")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/csv; charset=utf-8")
        self.assertIn("attachment", headers["content-disposition"])
        rows = list(csv.DictReader(io.StringIO(text)))
        self.assertEqual([r["partner_id"] for r in rows], ["cab-ok-2", "cab-ok-1", "cab-ok-0"])
        self.assertEqual((rows[0]["amount"], rows[0]["currency"], rows[0]["type"]), ("10.02", "KZT", "card"))
        _, _, page = b.get("/cabinet/audit")
        self.assertIn('class="action">payouts.export</td><td>3 rows, status=success<', page)
        # One payout: its card masked, the rail's reference and approval, its timeline, KNP.
        _, _, page = b.get("/cabinet/payout?kind=card&id=cab-ok-0")
        self.assertIn('id="masked-pan">411111XXXXXX1111<', page)
        self.assertRegex(page, r'id="approval">\d{12}<')
        self.assertIn('id="knp">710<', page)
        self.assertNotIn("4111111111111111", page)
        order_id = self.api.bereke_status("cab-ok-0").json["orderId"]
        self.assertIn(f'id="rail-reference">{order_id}<', page)

    def test_pages_stay_stable_while_payouts_arrive(self):
        for i in range(55):
            self.pay_bereke(f"page-{i:02d}", amount=100 + i)
        b = self.signed_in(BEREKE)
        _, _, first = b.get("/cabinet/payouts")
        ids = re.findall(r'<tr data-id="([^"]+)"', first)
        self.assertEqual(len(ids), 50)
        self.assertEqual(ids[0], "page-54")
        older = re.search(r'id="older" href="([^"]+)"', first).group(1).replace("&amp;", "&")
        self.pay_bereke("page-new")  # arrives between the two pages
        _, _, second = b.get(older)
        self.assertEqual(re.findall(r'<tr data-id="([^"]+)"', second),
                         ["page-04", "page-03", "page-02", "page-01", "page-00"])
        self.assertNotIn('id="older"', second)
        self.assertIn('id="newest"', second)

    def test_a_tenant_never_sees_another_tenants_data(self):
        self.pay_bereke("only-bereke")
        e = self.signed_in(ECOMMPAY)
        _, _, page = e.get("/cabinet")
        self.assertNotIn("transit", page)
        self.assertIn('data-code="merchant"', page)
        self.assertIn("1000000.00 EUR", page)
        _, _, page = e.get("/cabinet/payouts")
        self.assertNotIn("only-bereke", page)
        self.assertEqual(e.get("/cabinet/payout?kind=card&id=only-bereke")[0], 404)
        _, _, text = e.get("/cabinet/payouts.csv")
        self.assertNotIn("only-bereke", text)
        _, _, page = e.get("/cabinet/audit")
        self.assertNotIn("payout_api_username", page)
        q = self.signed_in(QIWI)
        _, _, page = q.get("/cabinet")
        self.assertIn("qiwi:best-partner", page)
        self.assertNotIn("only-bereke", q.get("/cabinet/payouts")[2])

    # --- Bereke: "My cards" and "KNP value" ---

    def sms_code(self, masked, timeout=10.0):
        """The code of the newest SMS about the card `masked`, from the SMS sink."""
        deadline = time.monotonic() + timeout
        sink = os.path.join(self.server.data_dir, "sms")
        while time.monotonic() < deadline:
            # A message is written under a dot-name, then renamed: read only whole ones.
            names = [n for n in (os.listdir(sink) if os.path.isdir(sink) else [])
                     if n.endswith(".sms") and not n.startswith(".")]
            for name in sorted(names, reverse=True):
                with open(os.path.join(sink, name), encoding="utf-8") as f:
                    text = f.read()
                if masked in text:
                    return re.search(r": (\d{6})\.", text).group(1), text
            time.sleep(0.05)
        raise AssertionError("no SMS in the sink")

    def add_card(self, b, pan, expiry="12/39", holder="Ivan Petrov", phone="+77011234567", expect=200):
        _, _, page = b.get("/cabinet/cards")
        status, _, page = b.request("POST", "/cabinet/cards/add", {"csrf": b.csrf(page), "pan": pan, "expiry": expiry,
                                                                   "holder": holder, "phone": phone})
        self.assertEqual(status, expect, page)
        return page

    def confirm_card(self, b, page, code):
        enrolment = re.search(r'name="enrolment" value="([^"]+)"', page).group(1)
        return b.request("POST", "/cabinet/cards/confirm", {"csrf": b.csrf(page), "enrolment": enrolment, "code": code})

    def test_a_corporate_card_is_added_with_the_sms_code_and_funds_payouts(self):
        b = self.signed_in(BEREKE)
        # The partner's own login has every role: both pages are in its navigation.
        self.assertEqual(nav_paths(b.get("/cabinet")[2]),
                         ["/cabinet", "/cabinet/payouts", "/cabinet/statements", "/cabinet/cards", "/cabinet/knp", "/cabinet/audit"])
        # Refused before any SMS: each field is checked.
        for pan, fields, why in (("4111111111111112", {}, "Check the card number"),
                                 ("4242424242424242", {}, "issued in Kazakhstan"),
                                 ("4999990000000007", {}, "not known to the bank"),
                                 ("4111111111111111", {"expiry": "01/20"}, "expiry date"),
                                 ("4111111111111111", {"expiry": "13/30"}, "expiry date"),
                                 ("4111111111111111", {"holder": "Иван"}, "Latin letters"),
                                 ("4111111111111111", {"phone": "87011234567"}, "phone")):
            page = self.add_card(b, pan, expect=422, **fields)
            self.assertIn(why, page, (pan, fields))
        self.assertEqual([f for f in os.listdir(os.path.join(self.server.data_dir, "sms")) if f.endswith(".sms")], [],
                         "no SMS was sent")
        # The sandbox's own corporate card is there already.
        self.assertIn("already among your cards", self.add_card(b, "5555555555554444", expect=409))
        # A new card: the SMS, a wrong password, then the right one.
        page = self.add_card(b, "4111 1111 1111 1111")
        self.assertIn("+7701***4567", page)
        code, sms = self.sms_code("411111XXXXXX1111")
        self.assertIn("To: +77011234567", sms)
        self.assertNotIn("4111111111111111", sms)
        status, _, again = self.confirm_card(b, page, "000000" if code != "000000" else "111111")
        self.assertEqual(status, 422)
        self.assertIn("The password is wrong", again)
        status, headers, _ = self.confirm_card(b, again, code)
        self.assertEqual(status, 303)
        binding = urllib.parse.parse_qs(urllib.parse.urlsplit(headers["location"]).query)["added"][0]
        _, _, page = b.get(headers["location"])
        self.assertIn(f"its binding ID is {binding}", page)
        self.assertIn(f'<tr data-binding="{binding}">', page)
        self.assertIn('value="%s"' % binding, page)
        self.assertIn('data-copy="binding-2"', page)
        # performPayout with the copied binding ID pays from the card.
        r = self.api.perform("from-new-card", pan="5555555555554444", amount=2500, source=binding)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.json["orderStatus"], "2")
        self.assertEqual(self.api.bereke_balance(binding), 100000000 - 2500)
        # Primary: payouts naming no source are funded by it.
        transit = self.api.bereke_balance()
        self.assertEqual(transit, 100000000)
        _, _, page = b.get("/cabinet/cards")
        form_csrf = b.csrf(page)
        status, headers, _ = b.request("POST", "/cabinet/cards/primary", {"csrf": form_csrf, "binding": binding})
        self.assertEqual((status, headers["location"]), (303, "/cabinet/cards?done=primary"))
        _, _, page = b.get("/cabinet/cards")
        self.assertIn(f'<tr data-binding="{binding}" data-primary="1">', page)
        self.assertEqual(self.api.perform("from-primary", pan="4111111111111111", amount=1000).json["orderStatus"], "2")
        self.assertEqual(self.api.bereke_balance(binding), 100000000 - 3500)  # without source: the primary card
        self.assertEqual(self.api.bereke_status("from-primary").json["source"]["bindingId"], binding)
        # Deleted: it funds nothing any more, and no longer is the primary.
        status, _, _ = b.request("POST", "/cabinet/cards/delete", {"csrf": form_csrf, "binding": binding})
        self.assertEqual(status, 303)
        _, _, page = b.get("/cabinet/cards")
        self.assertNotIn(binding, page)
        r = self.api.perform("from-deleted", pan="5555555555554444", amount=100, source=binding)
        self.assertNotEqual(r.json.get("orderStatus"), "2", r.raw)
        self.assertEqual(self.api.perform("after-delete", pan="4111111111111111", amount=100).json["orderStatus"], "2")
        self.assertEqual(self.api.bereke_balance(), 100000000 - 100)  # the transit account again
        # Another tenant's cabinet has no such page, and cannot act on the card.
        e = self.signed_in(ECOMMPAY)
        self.assertEqual(e.get("/cabinet/cards")[0], 404)
        _, _, page = b.get("/cabinet/audit")
        actions = re.findall(r'class="action">([^<]+)<', page)
        self.assertEqual(actions[:4], ["cards.delete", "cards.primary", "cards.add", "cards.add.requested"])
        rc, out = self.server.run_audit()
        self.assertEqual(rc, 0, out)

    def test_one_time_codes_are_never_shown_nor_kept_in_clear(self):
        # A payout whose orderNumber spells the start of the enrolment SMS's event id once showed
        # every enrolment code of the tenant on its page: a partner user could bind a card without
        # owning its phone, then pay out from it.
        self.pay_bereke("card-enrolment")
        b = self.signed_in(BEREKE)
        page = self.add_card(b, "4111 1111 1111 1111")
        code, _ = self.sms_code("411111XXXXXX1111")
        _, _, detail = b.get("/cabinet/payout?kind=card&id=card-enrolment")
        self.assertIn('id="payout"', detail)
        self.assertNotIn(code, detail)
        self.assertNotIn("sms:", detail)
        self.assertNotIn('id="notifications"', detail, "the payout has no messages of its own")
        # At rest the SMS is sealed, and its body is gone once sent; the enrolment keeps a keyed
        # MAC of the code, not a hash anyone could invert over a million codes.
        stored = self.server.stored_bytes()
        self.assertIn(b"card-enrolment:", stored, "the store was read")
        self.assertNotIn(f"Card confirmation code: {code}".encode(), stored)
        self.assertNotIn(b"confirmation code", stored)
        import hashlib
        for blake in (hashlib.blake2b(f"{e}:{code}".encode(), digest_size=32).hexdigest()
                      for e in re.findall(r'name="enrolment" value="([^"]+)"', page)):
            self.assertNotIn(blake.encode(), self.server.stored_bytes())
        # The admin API, an operator's, shows a sealed body as null.
        r = self.api.request("GET", "/admin/v1/outbox?tenant=bereke:sandbox-partner&event=card-enrolment:",
                             auth="sandbox-admin-token")
        self.assertEqual(r.status, 200, r.raw)
        [m] = r.json["messages"]
        self.assertEqual((m["body"], m["sealed"], m["state"]), (None, True, "DELIVERED"))
        self.assertNotIn(code.encode(), r.raw)
        # The card is still added with the code: sealing changed nothing for its owner.
        status, _, _ = self.confirm_card(b, page, code)
        self.assertEqual(status, 303)

    def test_sms_codes_to_one_phone_are_bounded(self):
        # Each code is an SMS to a phone the user typed (and paid for): three an hour to a phone.
        b = self.signed_in(BEREKE)
        for pan in ("4111111111111111", "4000000000000002", "4000000000000119"):
            self.add_card(b, pan, phone="+77019998877")
        page = self.add_card(b, "4000000000000341", phone="+77019998877", expect=429)
        self.assertIn("Too many SMS codes", page)
        self.add_card(b, "4000000000000341", phone="+77019998866")  # another phone is not slowed
        sent = [n for n in os.listdir(os.path.join(self.server.data_dir, "sms")) if n.endswith(".sms")]
        deadline = time.monotonic() + 10
        while len(sent) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
            sent = [n for n in os.listdir(os.path.join(self.server.data_dir, "sms")) if n.endswith(".sms")]
        self.assertEqual(len(sent), 4)

    def test_a_card_the_network_refuses_is_not_added(self):
        b = self.signed_in(BEREKE)
        page = self.add_card(b, "4000000000000002")  # declined by the issuer
        code, _ = self.sms_code("400000XXXXXX0002")
        status, _, page = self.confirm_card(b, page, code)
        self.assertEqual(status, 422, page)
        self.assertIn("could not be verified", page)
        self.assertNotIn("400000XXXXXX0002</td>", page)
        # Three wrong passwords end an enrolment.
        page = self.add_card(b, "4000000000000119")
        for i in range(3):
            status, _, answer = self.confirm_card(b, page, f"00000{i}")
        self.assertIn("add the card again", answer)

    def test_the_knp_chosen_is_carried_by_the_next_payouts(self):
        b = self.signed_in(BEREKE)
        _, _, page = b.get("/cabinet/knp")
        self.assertIn('id="knp-current">710<', page)
        self.assertIn('<option value="710" selected>', page)
        self.assertIn('<option value="119">119 — Прочие безвозмездные переводы денег</option>', page)
        self.pay_bereke("knp-before")
        self.assertEqual(b.request("POST", "/cabinet/knp", {"csrf": b.csrf(page), "knp": "999"})[0], 422)
        status, headers, _ = b.request("POST", "/cabinet/knp", {"csrf": b.csrf(page), "knp": "119"})
        self.assertEqual((status, headers["location"]), (303, "/cabinet/knp?saved=1"))
        self.pay_bereke("knp-after")
        self.assertIn('id="knp">119<', b.get("/cabinet/payout?kind=card&id=knp-after")[2])
        self.assertIn('id="knp">710<', b.get("/cabinet/payout?kind=card&id=knp-before")[2])
        # A replay of the earlier order is still a replay (its KNP is what it was).
        r = self.api.perform("knp-before", pan="4111111111111111", amount=1500)
        self.assertEqual(r.status, 200, r.raw)
        self.assertIn('class="action">knp.change</td><td>710 -&gt; 119<', b.get("/cabinet/audit")[2])

    def test_outside_the_sandbox_cookies_are_secure_and_cards_need_an_sms_gateway(self):
        self.server.stop()
        self.server = self.new_server(config_replace=outside_sandbox())
        b = Browser(self.server)
        _, _, page = b.get("/cabinet/login")
        self.assertIn("Secure", [c for c in b.set_cookies if c.startswith("cabinet_login=")][-1])
        # Our client sends cookies over plain HTTP anyway, as a test; a browser would not.
        b.login(BEREKE[0], OUTSIDE_CABINET[BEREKE[0]][0])
        session = [c for c in b.set_cookies if c.startswith("cabinet_session=")][-1]
        self.assertIn("; Secure", session)
        _, _, page = b.get("/cabinet/cards")
        self.assertIn("no SMS gateway is configured", page)
        self.assertIn('id="save-card" type="submit" disabled', page)
        status, _, page = b.request("POST", "/cabinet/cards/add", {"csrf": b.csrf(page), "pan": "4111111111111111",
                                                                  "expiry": "12/39", "holder": "A B",
                                                                  "phone": "+77011234567"})
        self.assertEqual(status, 503, page)
        self.assertFalse(os.path.isdir(os.path.join(self.server.data_dir, "sms")))

    def test_hash_password_prints_an_argon2id_hash(self):
        out = subprocess.run([binary_path(), "hash-password"], input="s3cret\n", capture_output=True,
                             text=True, check=True).stdout.strip()
        self.assertTrue(out.startswith("$argon2id$v=19$"), out)
        self.assertNotIn("s3cret", out)


if __name__ == "__main__":
    unittest.main()
