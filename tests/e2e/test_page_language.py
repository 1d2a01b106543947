"""The language of the hosted pages over HTTP (seed 002, page parameters item 6; docs/ecommpay.md,
docs/bereke.md): the parameter the partner gave wins; without one, the browser's Accept-Language
chooses among the page's languages; every later page of the form stays in the one the recipient
saw; and an answer the header chose says so (Vary: Accept-Language)."""
import http.client
import os
import re
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerTestCase, unique  # noqa: E402
from test_ecommpay_page import form, page_query  # noqa: E402

RUSSIAN_CHROME = "ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7"
ENGLISH_CHROME = "en-US,en;q=0.9"


def html_lang(r):
    m = re.search(rb'<html lang="([a-z]+)">', r.raw)
    return m.group(1).decode() if m else None


def form_lang(r):
    """The language a page's form carries on to the next page."""
    m = re.search(rb'<input type="hidden" name="lang" value="([a-z]+)">', r.raw)
    return m.group(1).decode() if m else None


class PageLanguageTest(ServerTestCase):
    def get(self, path, accept_language=None):
        headers = {"Accept-Language": accept_language} if accept_language is not None else {}
        return self.api.request("GET", path, headers=headers, auth=None)

    def assertVaries(self, r, varies):
        self.assertEqual(r.headers.get("vary"), "Accept-Language" if varies else None, r.headers)

    # -- ecommpay's Payment Page --

    def register(self):
        """A registered payout: its payment_id and the uuid of its registration callback."""
        payment_id = unique("lang")
        self.assertEqual(self.api.ecommpay_register(payment_id).status, 200)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for c in self.api.sandbox_callbacks():
                if c["general"]["payment_id"] == payment_id and c.get("uuid"):
                    return payment_id, c["uuid"]
            time.sleep(0.05)
        self.fail(f"no registration callback for {payment_id}")

    def test_a_russian_browser_without_language_code_sees_russian(self):
        payment_id, uuid = self.register()
        r = self.get("/payment?" + page_query(payment_id, uuid), RUSSIAN_CHROME)
        self.assertEqual(r.status, 200, r.raw[:300])
        self.assertEqual((html_lang(r), form_lang(r)), ("ru", "ru"))
        self.assertIn("Номер карты".encode(), r.raw)
        self.assertVaries(r, True)
        self.assertIn("no-store", r.headers["cache-control"])
        for header, lang in (("ru-RU", "ru"), ("RU", "ru"), ("de-DE, ru;q=0.5, en;q=0.4", "ru"),
                             (ENGLISH_CHROME, "en"), ("en;q=0.5, ru;q=0.6", "ru"), ("ru;q=0, *", "en"),
                             ("de-DE", "en"), ("", "en"), ("ru_RU, ru;q=7, ;;,", "en"), (None, "en")):
            r = self.get("/payment?" + page_query(payment_id, uuid), header)
            self.assertEqual((r.status, html_lang(r), form_lang(r)), (200, lang, lang), header)
            self.assertVaries(r, True)

    def test_language_code_wins_over_the_browser(self):
        payment_id, uuid = self.register()
        for code, header, lang in (("en", RUSSIAN_CHROME, "en"), ("ru", ENGLISH_CHROME, "ru"),
                                   ("RU", None, "ru")):
            r = self.get("/payment?" + page_query(payment_id, uuid, language_code=code), header)
            self.assertEqual((r.status, html_lang(r), form_lang(r)), (200, lang, lang), code)
            self.assertVaries(r, False)
        # A language the page does not have is as if none was given: the browser chooses.
        r = self.get("/payment?" + page_query(payment_id, uuid, language_code="de"), RUSSIAN_CHROME)
        self.assertEqual((r.status, html_lang(r)), (200, "ru"))
        self.assertVaries(r, True)

    def test_the_form_stays_in_the_language_the_recipient_saw(self):
        payment_id, uuid = self.register()
        query = page_query(payment_id, uuid)
        lang = form_lang(self.get("/payment?" + query, RUSSIAN_CHROME))
        self.assertEqual(lang, "ru")
        # The browser's header changes (another device's settings, a proxy): the form's pages do not.
        r = form(self.api, "/payment/card", {"uuid": uuid, "lang": lang, "link": query,
                                             "pan": "5555555555554444", "cardholder": "A B"})
        self.assertEqual(r.status, 200, r.raw[:300])
        self.assertEqual((html_lang(r), form_lang(r)), ("ru", "ru"))
        self.assertIn("Проверочный код".encode(), r.raw)
        r = form(self.api, "/payment/code", {"uuid": uuid, "lang": lang, "link": query, "code": "x"})
        self.assertEqual((r.status, html_lang(r)), (422, "ru"))
        self.assertIn("Неверный код".encode(), r.raw)
        r = self.get(f"/payment/result?uuid={uuid}&lang={lang}", ENGLISH_CHROME)
        self.assertEqual((r.status, html_lang(r)), (200, "ru"))
        self.assertVaries(r, False)
        # The result page without its lang (a bookmark) asks the browser.
        r = self.get(f"/payment/result?uuid={uuid}", RUSSIAN_CHROME)
        self.assertEqual((r.status, html_lang(r)), (200, "ru"))
        self.assertVaries(r, True)
        r = self.get(f"/payment/result?uuid={uuid}", ENGLISH_CHROME)
        self.assertEqual((r.status, html_lang(r)), (200, "en"))

    def test_a_page_that_has_ended_redirects_in_the_chosen_language(self):
        payment_id, uuid = self.register()
        query = page_query(payment_id, uuid)
        lang = form_lang(self.get("/payment?" + query, RUSSIAN_CHROME))
        form(self.api, "/payment/card", {"uuid": uuid, "lang": lang, "link": query,
                                         "pan": "5555555555554444", "cardholder": "A B"})
        # Declined by the merchant's decision is not reachable here; a confirmed order is: the
        # sandbox's mail sink holds the code.
        code = self.code_of(uuid)
        r = form(self.api, "/payment/code", {"uuid": uuid, "lang": lang, "link": query, "code": code})
        self.assertEqual(r.status, 303, r.raw[:300])
        self.assertTrue(r.headers["location"].endswith("&lang=ru"), r.headers["location"])
        r = self.get("/payment?" + query, RUSSIAN_CHROME)
        self.assertEqual(r.status, 303)
        self.assertTrue(r.headers["location"].endswith("&lang=ru"), r.headers["location"])
        self.assertVaries(r, True)

    def code_of(self, uuid, timeout=10.0):
        pattern = re.compile(r"Your verification code: (\d{6})")
        deadline = time.monotonic() + timeout
        mail = os.path.join(self.server.data_dir, "mail")
        while time.monotonic() < deadline:
            for name in sorted(os.listdir(mail)) if os.path.isdir(mail) else []:
                if not name.endswith(".eml") or name.startswith("."):
                    continue
                with open(os.path.join(mail, name), encoding="utf-8") as f:
                    text = f.read()
                m = pattern.search(text)
                if m and f"Message-ID: <{uuid}." in text:
                    return m.group(1)
            time.sleep(0.05)
        self.fail(f"no code mailed for {uuid}")

    def test_a_header_in_several_field_lines_is_one_list(self):
        payment_id, uuid = self.register()
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        self.addCleanup(conn.close)
        conn.putrequest("GET", "/payment?" + page_query(payment_id, uuid))
        conn.putheader("Accept-Language", "de-DE")
        conn.putheader("Accept-Language", "ru;q=0.5")
        conn.endheaders()
        r = conn.getresponse()
        body = r.read()
        self.assertEqual(r.status, 200)
        self.assertIn(b'<html lang="ru">', body)

    # -- Bereke's hosted pages --

    def bereke_order(self, **fields):
        r = self.api.bereke("registerPayout.do", {"orderNumber": unique("lang"), "amount": 1234, "currency": "398",
                                                  "urls": {"returnUrl": "https://partner.example/ok"}, **fields})
        self.assertEqual(r.status, 200, r.raw)
        url = urllib.parse.urlsplit(r.json["formUrl"])
        return url.path + "?" + url.query, r.json["orderId"]

    def test_bereke_without_a_language_sends_the_browser_to_its_language(self):
        path, order_id = self.bereke_order()
        self.assertTrue(path.startswith("/payouts/payment/payment_ru.html?"), path)  # as the seed shows
        for header, lang in ((ENGLISH_CHROME, "en"), ("kk-KZ,kk;q=0.9,ru;q=0.8", "kk"),
                             ("de, en;q=0.3, kk;q=0.2", "en")):
            r = self.get(path, header)
            self.assertEqual(r.status, 303, (header, r.raw[:300]))
            self.assertEqual(r.headers["location"], f"/payouts/payment/payment_{lang}.html?mdOrder={order_id}")
            self.assertVaries(r, True)
            page = self.get(r.headers["location"], header)
            self.assertEqual((page.status, html_lang(page), form_lang(page)), (200, lang, lang), header)
        for header in (RUSSIAN_CHROME, None, "", "de", "en;q=0, *"):
            r = self.get(path, header)
            self.assertEqual((r.status, html_lang(r), form_lang(r)), (200, "ru", "ru"), header)
            self.assertVaries(r, True)
        # The form's POST and the finish page stay in the language of the page that was shown.
        r = self.api.request("POST", "/payouts/payment/confirm", auth=None,
                             headers={"Content-Type": "application/x-www-form-urlencoded",
                                      "Accept-Language": RUSSIAN_CHROME},
                             raw_body=urllib.parse.urlencode({"mdOrder": order_id, "lang": "en", "pan": "4111111111111111",
                                                              "cardholder": "A B"}).encode())
        self.assertEqual(r.status, 303, r.raw[:300])
        self.assertEqual(r.headers["location"], f"/payouts/payment/finish_en.html?mdOrder={order_id}")
        r = self.get(r.headers["location"], RUSSIAN_CHROME)
        self.assertEqual((r.status, html_lang(r)), (200, "en"))

    def test_bereke_language_parameter_wins_over_the_browser(self):
        for language, lang in (("ru", "ru"), ("EN", "en"), ("kk", "kk")):
            path, _ = self.bereke_order(language=language)
            self.assertTrue(path.startswith(f"/payouts/payment/payment_{lang}.html?"), path)
            r = self.get(path, ENGLISH_CHROME if lang != "en" else RUSSIAN_CHROME)
            self.assertEqual((r.status, html_lang(r), form_lang(r)), (200, lang, lang), language)
            self.assertVaries(r, False)
        # A language the pages do not have is as if none was given.
        path, order_id = self.bereke_order(language="de")
        r = self.get(path, ENGLISH_CHROME)
        self.assertEqual((r.status, r.headers["location"]), (303, f"/payouts/payment/payment_en.html?mdOrder={order_id}"))


if __name__ == "__main__":
    unittest.main()
