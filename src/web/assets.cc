#include "web/assets.h"

namespace payoutd::web {
namespace {

constexpr std::string_view kStylesheet = R"css(
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f2f5f3;color:#1b2b22}
.card{max-width:26rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08)}
h1{font-size:1.3rem;margin:0 0 1rem;color:#0a6b3d}
dl.order{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:0 0 1.25rem}
dt{color:#5b6b62}dd{margin:0;font-weight:600}
label{display:block;margin:.9rem 0 .25rem;font-weight:600}
input{width:100%;padding:.7rem;font-size:1.05rem;border:1px solid #b7c4bc;border-radius:8px}
input[aria-invalid=true]{border-color:#b3261e;background:#fff6f5}
fieldset{border:1px solid #d5ddd8;border-radius:8px;margin:0 0 .5rem;padding:.5rem .75rem}
fieldset label,label.check{display:flex;gap:.5rem;align-items:center;font-weight:400;margin:.35rem 0}
fieldset input,label.check input{width:auto}
small{display:block;color:#5b6b62;margin-top:.2rem}
small.problem{color:#b3261e}
button{margin-top:1.25rem;width:100%;padding:.8rem;font-size:1.05rem;border:0;border-radius:8px;background:#0a6b3d;color:#fff;cursor:pointer}
button:disabled{background:#9fb8aa;cursor:not-allowed}
.status{padding:.75rem;border-radius:8px;background:#eef5f0}
.status.declined{background:#fdecea;color:#8c1d18}
.status.success{background:#e6f4ea;color:#0a6b3d}
a.back{display:inline-block;margin-top:1rem;color:#0a6b3d;font-weight:600}
@media (max-width:30rem){.card{margin:0;border-radius:0;min-height:100vh}}
.cab{max-width:72rem;margin:0 auto;padding:0 1rem 2rem}
.cab header{display:flex;flex-wrap:wrap;gap:.5rem 1.25rem;align-items:center;padding:.75rem 0;border-bottom:1px solid #d5ddd8;margin-bottom:1rem}
.cab header .who{margin-left:auto;color:#5b6b62}
.cab nav a,.cab header a{color:#0a6b3d;font-weight:600;text-decoration:none}
.cab nav a[aria-current=page]{text-decoration:underline}
.cab nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem}
.cab form.inline{display:inline}
.cab form.inline button,.cab button.small{width:auto;margin:0;padding:.35rem .8rem;font-size:.95rem}
.cab section{background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.06);padding:1rem;margin-bottom:1rem;overflow-x:auto}
.cab h2{font-size:1.1rem;margin:0 0 .75rem}
.cab table{border-collapse:collapse;width:100%;font-size:.95rem}
.cab th,.cab td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #e4eae6;white-space:nowrap}
.cab td.num,.cab th.num{text-align:right;font-variant-numeric:tabular-nums}
.cab .filters{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.5rem 1rem;align-items:end}
.cab .filters label{margin:0 0 .2rem;font-size:.9rem}
.cab .filters input,.cab .filters select{padding:.45rem;font-size:.95rem;width:100%;border:1px solid #b7c4bc;border-radius:8px}
.cab .filters button{margin:0}
.cab .pager{display:flex;gap:1rem;margin-top:.75rem}
.cab .chart rect.success{fill:#2e9d5b}.cab .chart rect.declined{fill:#c8473e}.cab .chart rect.processing{fill:#9fb8aa}
.cab .chart text{font-size:10px;fill:#5b6b62}
.cab .legend span{display:inline-block;margin-right:1rem}
.cab .legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
.cab .legend i.success{background:#2e9d5b}.cab .legend i.declined{background:#c8473e}.cab .legend i.processing{background:#9fb8aa}
.cab .login{max-width:24rem;margin:3rem auto}
.cab input.binding{width:21rem;padding:.3rem;font:.85rem ui-monospace,monospace}
.cab td form.inline{margin-right:.25rem}
.cab pre{white-space:pre-wrap;word-break:break-all;font-size:.85rem;background:#f6f8f7;padding:.5rem;border-radius:6px}
)css";

// Validation as the user types (digits, length, Luhn; Latin name) and the countdown to expiry.
// The server checks everything again.
constexpr std::string_view kScript = R"js(
"use strict";
(function () {
  function luhn(d) {
    var sum = 0, twice = false;
    for (var i = d.length - 1; i >= 0; i--) {
      var n = d.charCodeAt(i) - 48;
      if (twice) { n *= 2; if (n > 9) n -= 9; }
      sum += n; twice = !twice;
    }
    return sum % 10 === 0;
  }
  function digits(v) { return v.replace(/[\s-]/g, ""); }
  function panValid(v) { var d = digits(v); return /^[0-9]{13,19}$/.test(d) && luhn(d); }
  function holderValid(v) { return /^[A-Za-z .'-]{0,26}$/.test(v); }
  // The countdown to the session's end: at 0:00 the page's form is disabled.
  function countdown(onExpired) {
    var counter = document.getElementById("countdown");
    if (!counter) return;
    var left = parseInt(counter.getAttribute("data-remaining"), 10);
    var tick = function () {
      if (left <= 0) {
        counter.textContent = "0:00";
        document.getElementById("expired").hidden = false;
        var fields = document.querySelectorAll("form input:not([type=hidden]), form select, form button");
        for (var i = 0; i < fields.length; i++) fields[i].disabled = true;
        onExpired();
        return;
      }
      var s = left % 60;
      counter.textContent = Math.floor(left / 60) + ":" + (s < 10 ? "0" : "") + s;
      left -= 1;
      setTimeout(tick, 1000);
    };
    tick();
  }
  document.addEventListener("DOMContentLoaded", function () {
    // The cabinet's copy buttons: data-copy names the field whose value goes to the clipboard.
    var copies = document.querySelectorAll("button[data-copy]");
    for (var c = 0; c < copies.length; c++) {
      copies[c].addEventListener("click", function (e) {
        var button = e.currentTarget;
        var field = document.getElementById(button.getAttribute("data-copy"));
        field.select();
        var done = function () { button.setAttribute("data-copied", "1"); };
        if (navigator.clipboard) navigator.clipboard.writeText(field.value).then(done, done);
        else done();
      });
    }
    var form = document.getElementById("card-form");
    if (!form) { countdown(function () {}); return; }
    var pan = document.getElementById("pan");
    var holder = document.getElementById("cardholder");
    var pay = document.getElementById("pay");
    var panHint = document.getElementById("pan-hint");
    var holderHint = document.getElementById("holder-hint");
    var panHelp = panHint.textContent, holderHelp = holderHint.textContent;
    var expired = false;
    function mark(input, hint, ok, help, shown) {
      input.setAttribute("aria-invalid", ok || !shown ? "false" : "true");
      hint.textContent = ok || !shown ? help : input.getAttribute("data-invalid");
      hint.className = ok || !shown ? "" : "problem";
    }
    function savedChosen() {
      var t = form.querySelector("input[name=token]:checked");
      return !!(t && t.value);
    }
    function update() {
      var d = digits(pan.value);
      var panOk = savedChosen() || panValid(pan.value);
      mark(pan, panHint, panOk, panHelp, d.length >= 13 || (d.length > 0 && /[^0-9\s-]/.test(pan.value)));
      var holderOk = holderValid(holder.value);
      mark(holder, holderHint, holderOk, holderHelp, holder.value.length > 0);
      pay.disabled = expired || !panOk || !holderOk;
    }
    pan.addEventListener("input", function () {
      var d = digits(pan.value);
      if (/^[0-9]*$/.test(d) && d.length <= 19) {
        pan.value = d.replace(/(.{4})(?=.)/g, "$1 ");
      }
      update();
    });
    holder.addEventListener("input", update);
    var radios = form.querySelectorAll("input[name=token]");
    for (var i = 0; i < radios.length; i++) radios[i].addEventListener("change", update);
    form.addEventListener("submit", function (e) {
      if (pay.disabled) { e.preventDefault(); return; }
      pan.value = digits(pan.value);
      pay.disabled = true;
    });
    update();
    countdown(function () { expired = true; update(); });
  });
})();
)js";

http::Response asset_response(std::string_view type, std::string_view body) {
  http::Response r;
  r.content_type = std::string(type);
  r.body = std::string(body);
  r.headers = {{"X-Content-Type-Options", "nosniff"}, {"Cache-Control", "public, max-age=300"}};
  return r;
}


}  // namespace

bool serve_asset(const http::Request& request, const http::Responder& respond) {
  const std::string_view path = request.path();
  if (request.method != "GET" && request.method != "HEAD") return false;
  if (path == kStylesheetPath) {
    respond(asset_response("text/css; charset=utf-8", kStylesheet));
    return true;
  }
  if (path == kScriptPath) {
    respond(asset_response("text/javascript; charset=utf-8", kScript));
    return true;
  }
  if (path == "/favicon.ico") {  // browsers ask for it; the pages have none
    http::Response r = asset_response("image/x-icon", {});
    r.status = 204;
    respond(std::move(r));
    return true;
  }
  return false;
}

}  // namespace payoutd::web
