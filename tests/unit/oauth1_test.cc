// Mastercard's OAuth 1.0a signing (rails/oauth1.h), checked against Mastercard's own signer.
//
// The expected values were produced once by mastercard-oauth1-signer 1.2.0 (tests/doubles/
// node_modules, the package the Mastercard double verifies with), run from tests/doubles with
// node: OAuth.getNonce and OAuth.getTimestamp replaced by functions returning the nonce and the
// timestamp below, then OAuth.getAuthorizationHeader(url, method, body, kConsumerKey, kTestKey)
// for each request, OAuth.getBodyHash('') and, for the GET, getSignatureBaseString(
// 'GET', getBaseUriString(url), toOAuthParamString(extractQueryParams(url), getOAuthParams(...))).
// RSASSA-PKCS1-v1_5 is deterministic, so the whole header must match byte for byte. kTestKey is a
// throwaway 2048-bit key made for this test with `openssl genpkey -algorithm RSA`.
#include "rails/oauth1.h"

#include <gtest/gtest.h>

namespace payoutd::rails {
namespace {

constexpr const char* kTestKey =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDggc757UDEMYoT\n"
    "SZ70tU36NqMqs4C5Dcu30tLHBYX3EC6pMsOJtU5c9dE/bQmaErSKcXZ3KD/ofXCs\n"
    "AS02Ax0TsQEKZOV6Hr3EOdU1cDHM93dTqb8Fsr0WZtM9Hzb2Iy4gU09CD00IPIzl\n"
    "mpt4CLhFjAycdCIVJnmJfLkiWgLvIO667fgXAKN6BSGISXaTuwkldk0D8/NuyJwL\n"
    "V3CPiJ/qde3pkQZY+JhKTdIIvm6spaPapmFickspdZrwujS/nagy9/FwbG1OdB5k\n"
    "FUhBwg4/4XWp2ImgtetpzNEegpippUs301bAOKCsE/x0EcjLEZafcDkw01rgljv1\n"
    "fjILmIPnAgMBAAECggEAKY9eJV4KM0eIa/Gg/2Pgv4UFx43bMmafY7QfWMBpAEd6\n"
    "m8/N6twpWYQX7EnfESqNSWOfrodA7WTrSqwdFnaVF2QY8TekU2sFbiHWmkHetjbJ\n"
    "XC98MS3ZWyBF0nbI0d/JViqV7YCvneq3mnl4dkwG8LjwTLYi6Q9qSE1SaE2JZYK2\n"
    "U0f+THCbYgRO81rIqZnfnovNkujuXpsZMe/J3xNpSYwO1oZ/gWv4EZhPzo9PlHNn\n"
    "y/Io8hly3IyaMnZdRAJENT0/KX2/AKh7wPUlakOP9AV40Q3qH12SiP8+qalj8DbV\n"
    "xuF3DGy6SgTtrZmce5b0coakJbafR7DambatdmOZYQKBgQD7QJVZcrGwrzqHZInG\n"
    "VY7hJJfubVplZBgsq++u/VmLej+eIhzO1VqhOVT6seTfwUMzd7D5O8x7awARd8zk\n"
    "j9UgVxOs/TJRXL9uAhJrnIl0fUFivcP4AenM9KX8bWvedvD3kuEz8knqnOPdUlGb\n"
    "ZUqo9Z1jUcsn0bUHN4pebfRfjQKBgQDkv9jMIH22YyYTmvntbaOQPAxzt3cBmg/m\n"
    "swefftP/0sTHaSVBZCUmeAW5vKkmLZRRK6HTwv/Z6jEyDHRzgJGUG6vKw9CCG5Tc\n"
    "Ev09uTRVZq2lOhjkDo5LZCYUD4lmWaQUOFUvw01bLoTJPRzk8+0/Vgdc/vaJsXDQ\n"
    "lWlATogKQwKBgEFJ6QVTXoUxI55nK74UIYqzvZ9BX0oVloqVKzVntEsgO0PWTXIZ\n"
    "0vEuOrziWT0jtVi8c4pwVZSEm4HuhZmnHpTGy+AZ82ddGIl3lF3OUZGpssH72d6q\n"
    "cJzHvhI4RN2MPtW2nzqmbTrABh5O89HTonEBUiKq8IWqYsY7UoNzQxtJAoGAd31n\n"
    "iCmowW9FYpRf3ZCaEivr7T524dVSXRZD8yLTJx04QVpBZckkRtYHV6CfUxwYD9aU\n"
    "8AM6luBo1lX/Np6AbTePI5np/yzdM6CPvIBUQBAkwNx6SBb6aZNk+LGs+lP1C8Lp\n"
    "bMu+StUf8+cCgu6QjbconYFp0z9nSO3jTv42vfUCgYEAsHqr216mIrQQgqyBKVKk\n"
    "VQGIaAKMJT0IzUG/Lwt/jwmtkdag0YcGdI47Y+a0BhFjkXJzUapu5YD6Thd7yM7I\n"
    "J7lkObT3v4hGQqKWX+FaHWGKvJEXTCcPai/bcfmcYpPXttYYmtVGtNZ+XkFSB3a9\n"
    "v4tCslUz0UiWkLVHmXTwGOo=\n"
    "-----END PRIVATE KEY-----\n";

constexpr const char* kConsumerKey = "payoutd-test!consumer";
constexpr const char* kNonce = "nonce0123456789A";
constexpr std::int64_t kTimestampS = 1700000000;

constexpr const char* kPostUrl =
    "https://Sandbox.API.mastercard.com:8443/send/v1/partners/ptnr_BEeCrYJHh2BXTXPy_PEtp-8DBOo/"
    "transfers/payment?decline_details=true";
constexpr const char* kPostBody =
    R"({"payment_transfer":{"transfer_reference":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",)"
    R"("amount":"1800","currency":"USD"}})";
constexpr const char* kGetUrl =
    "https://sandbox.api.mastercard.com/send/v1/partners/ptnr_X/transfers?ref=0190a1b2-c3d4-7e5f-"
    "8a9b-0c1d2e3f4a5b&Format=JSON";

std::unique_ptr<OAuth1Signer> signer() {
  std::string error;
  auto s = OAuth1Signer::from_pem(kTestKey, kConsumerKey, &error);
  EXPECT_NE(s, nullptr) << error;
  return s;
}

TEST(OAuth1, BodyHashIsBase64OfSha256OfTheExactBytes) {
  EXPECT_EQ(oauth1_body_hash(""), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  // The signer's own test vector (test/OAuth-getBodyHash.test.js).
  EXPECT_EQ(oauth1_body_hash(R"({ my: "payload" })"),
            "Qm/nLCqwlog0uoCDvypgninzNQ25YHgTmUDl/zOgT1s=");
}

TEST(OAuth1, BaseStringOfAGetMatchesTheSigners) {
  const std::string oauth =
      "oauth_body_hash=47DEQpj8HBSa+/"
      "TImW+5JCeuQeRkm5NMpJWZG3hSuFU=&oauth_consumer_key=payoutd-test!"
      "consumer&oauth_nonce=nonce0123456789A&oauth_signature_method=RSA-SHA256&oauth_timestamp="
      "1700000000&oauth_version=1.0";
  EXPECT_EQ(
      oauth1_base_string("GET", kGetUrl, oauth),
      "GET&https%3A%2F%2Fsandbox.api.mastercard.com%2Fsend%2Fv1%2Fpartners%2Fptnr_X%2Ftransfers"
      "&Format%3DJSON%26oauth_body_hash%3D47DEQpj8HBSa%2B%2FTImW%2B5JCeuQeRkm5NMpJWZG3hSuFU%3D%"
      "26oauth_consumer_key%3Dpayoutd-test%21consumer%26oauth_nonce%3Dnonce0123456789A%26oauth_"
      "signature_method%3DRSA-SHA256%26oauth_timestamp%3D1700000000%26oauth_version%3D1.0%26ref"
      "%3D0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
}

TEST(OAuth1, ThePostHeaderMatchesTheSigners) {
  EXPECT_EQ(
      signer()->authorization("POST", kPostUrl, kPostBody, kNonce, kTimestampS),
      "OAuth oauth_body_hash=\"nabBVXotwnTmt5v02tesp/5RuyjZUlu5lV3RVv0kNyU=\",oauth_consumer_key="
      "\"payoutd-test!consumer\",oauth_nonce=\"nonce0123456789A\",oauth_signature_method=\"RSA-"
      "SHA25"
      "6\",oauth_timestamp=\"1700000000\",oauth_version=\"1.0\",oauth_signature="
      "\"FH2PEb0bz1Tdk3FkH0h"
      "1%2FvnXal9PeNiIvKi6sT2jNgzk7Nlm0rSxps%2FwUtSbE%2FwclE%2Bi8cutrOm%2F95B%2F6hgVsXPFsLIPUNL"
      "dvCysycub29he6sgBLVebXhsb%2FllGFjAXJ5IABGlDrVaHxPMccGHeycDH1n3rAJa1hRzx99beghB5q1ftad2kg"
      "1BI05K6QI%2FXhXXjvWGP4eMwAWyQsLR%2ByXWESYO9UNTEgBChR0bcHBoMNAvWYVCu2gOh2bQbgg%2FQ3Q2OL5G"
      "klRhL2Qm65O7Sql6wfWFNWJi4g%2B%2Bwvg8m5tlYjRUIoInfaD7Inz%2FM1YZoHZh%2BemFojc095XJb58S8Pg%"
      "3D%3D\"");
}

TEST(OAuth1, TheGetHeaderHashesTheEmptyBody) {
  EXPECT_EQ(
      signer()->authorization("GET", kGetUrl, "", kNonce, kTimestampS),
      "OAuth oauth_body_hash=\"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\",oauth_consumer_key="
      "\"payoutd-test!consumer\",oauth_nonce=\"nonce0123456789A\",oauth_signature_method=\"RSA-"
      "SHA25"
      "6\",oauth_timestamp=\"1700000000\",oauth_version=\"1.0\",oauth_signature=\"a%"
      "2BIspcx1B0AhBuJ%2"
      "B03gJo%2FlYLhxoEjH0t0MEkanRGJjN0%2Bo81U5AwJSippfh3IZ%2Bm53KgZ10Ai%2F7a2htGEmplWAuulU5eln"
      "PnjHKKupm1OL3AI0pKXPoKI5dLtp19ryQHnesZM0V9F14GpJcmfIHQjtoTWuxHxRZk%2F2R8uUk180Qw6inlsJKk"
      "nmsveSKNYpdudAexHNhashus6%2FR6tH8HDEqrh3DaAt7UCXcdAIOKSOs5KqLo%2B4WL4lYF3HklsALeKIozKHl6"
      "2ZHTQFXTXdbKm9Uq%2B2tYsyVHbygYqXpepKwbZjgtRzuOhNRmpRwW6WS15MZKBZYP2vcLLgVzef14A%3D%3D\"");
}

TEST(OAuth1, FreshNoncesDiffer) {
  auto s = signer();
  const std::string a = s->authorization("GET", kGetUrl, "");
  const std::string b = s->authorization("GET", kGetUrl, "");
  EXPECT_TRUE(a.starts_with("OAuth oauth_body_hash=")) << a;
  EXPECT_NE(a, b);
}

TEST(OAuth1, RefusesWhatIsNotAnRsaPrivateKey) {
  std::string error;
  EXPECT_EQ(OAuth1Signer::from_pem("not a key", "ck", &error), nullptr);
  EXPECT_EQ(error, "no RSA private key in PEM form");
  EXPECT_EQ(OAuth1Signer::from_pem_file("/nonexistent/key.pem", "ck", &error), nullptr);
  EXPECT_NE(error.find("/nonexistent/key.pem"), std::string::npos);
}

TEST(OAuth1, EncodingIsRfc3986s) {
  EXPECT_EQ(oauth1_encode("a-b.c_d~e f!*'()/+="), "a-b.c_d~e%20f%21%2A%27%28%29%2F%2B%3D");
}

}  // namespace
}  // namespace payoutd::rails
