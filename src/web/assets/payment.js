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
    // The cabinet's copy buttons: data-copy names the element whose text goes to the clipboard
    // (selected too, for copying by hand where the clipboard is refused).
    var copies = document.querySelectorAll("button[data-copy]");
    for (var c = 0; c < copies.length; c++) {
      copies[c].addEventListener("click", function (e) {
        var button = e.currentTarget;
        var field = document.getElementById(button.getAttribute("data-copy"));
        window.getSelection().selectAllChildren(field);
        var done = function () { button.setAttribute("data-copied", "1"); };
        if (navigator.clipboard) navigator.clipboard.writeText(field.textContent).then(done, done);
        else done();
      });
    }
    // The cabinet's dialogs: a link with data-dialog opens its dialog here rather than loading
    // its href (the same page with the dialog open), and a dialog the server sent open is modal.
    var openers = document.querySelectorAll("a[data-dialog]");
    for (var o = 0; o < openers.length; o++) {
      openers[o].addEventListener("click", function (e) {
        var dialog = document.getElementById(e.currentTarget.getAttribute("data-dialog"));
        if (!dialog || !dialog.showModal) return;
        e.preventDefault();
        dialog.showModal();
      });
    }
    var shown = document.querySelectorAll("dialog[open]");
    for (var d = 0; d < shown.length; d++) {
      if (!shown[d].showModal) continue;
      shown[d].close();
      shown[d].showModal();
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
    // The choice of a saved card, where the page offers the client's (a radio whose value is
    // the card's token or binding id; the empty value is a new card).
    var choices = form.querySelectorAll("input[name=token], input[name=bindingId]");
    function savedChosen() {
      for (var i = 0; i < choices.length; i++) if (choices[i].checked && choices[i].value) return true;
      return false;
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
      // Typing a number is choosing a new card.
      for (var i = 0; i < choices.length; i++) if (d && !choices[i].value) choices[i].checked = true;
      update();
    });
    holder.addEventListener("input", update);
    for (var i = 0; i < choices.length; i++) choices[i].addEventListener("change", update);
    form.addEventListener("submit", function (e) {
      if (pay.disabled) { e.preventDefault(); return; }
      pan.value = digits(pan.value);
      pay.disabled = true;
    });
    update();
    countdown(function () { expired = true; update(); });
  });
})();
