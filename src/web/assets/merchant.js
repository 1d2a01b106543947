// payoutd's EPayWidget: opens Payment Page (ecommpay's dialect, docs/ecommpay.md) from a merchant's
// own page, on another origin, with the calls ecommpay's merchant.js documents:
//   EPayWidget.run(configObj[, method])            opens it now;
//   EPayWidget.bind(buttonId, configObj[, method]) opens it when the button is clicked.
// configObj holds the page's parameters with their signature, as the merchant's server signed
// them; every one is sent as it is, its signature unchanged. method is "GET" (the default: the
// parameters in the link) or "POST" (an HTML form, the parameters in the body), in any case.
// Where it opens, as ecommpay's library decides it:
//   redirect true (or redirect_on_mobile true on a phone or tablet): this whole window goes to it;
//   target_element (an element or its id): in an iframe inside that element;
//   otherwise: in an iframe on a modal layer over the page, with a close button.
// In the frames the page is asked for with frame_mode=iframe or popup, which the signature leaves
// out and which lets the page be framed. baseUrl (this script's own origin when absent) and
// target_element are the widget's own and never sent; functions are callbacks: onExit is called
// when the customer closes the modal layer. merchant.css, beside this script, styles the layer.
"use strict";
(function () {
  var script = document.currentScript;
  var scriptOrigin = script && script.src ? new URL(script.src).origin : "";
  var WIDGET_KEYS = { baseUrl: true, target_element: true, frame_mode: true };
  var opened = 0;

  function flag(value) {
    return value === true || value === 1 || value === "1" || value === "true";
  }

  function onMobile() {
    return /Android|iPhone|iPad|iPod|Mobile/i.test(navigator.userAgent);
  }

  // The page's parameters as name/value texts: as a query string or a form carries them, so the
  // server signs the very texts the merchant signed (true and false as 1 and 0, null as empty).
  function parameters(config, frameMode) {
    var out = [];
    Object.keys(config).forEach(function (name) {
      var value = config[name];
      if (WIDGET_KEYS[name] || typeof value === "function" || value === undefined) return;
      if (value !== null && typeof value === "object") {
        throw new TypeError("EPayWidget: " + name + " must be a text, a number or a boolean");
      }
      var text = value === null ? "" : typeof value === "boolean" ? (value ? "1" : "0") : String(value);
      out.push([name, text]);
    });
    if (frameMode) out.push(["frame_mode", frameMode]);
    return out;
  }

  function pageUrl(config) {
    var base = String(config.baseUrl || scriptOrigin).replace(/\/+$/, "");
    if (!base) throw new Error("EPayWidget: no baseUrl, and the script's own address is unknown");
    return base + "/payment";
  }

  // Sends the parameters to Payment Page in `target`: "_self" (this window) or a frame's name.
  function send(config, method, frameMode, target, frame) {
    var params = parameters(config, frameMode);
    var url = pageUrl(config);
    if (method === "GET") {
      var link = url + "?" + new URLSearchParams(params).toString();
      if (frame) frame.src = link;
      else window.location.assign(link);
      return;
    }
    var form = document.createElement("form");
    form.method = "post";
    form.action = url;
    form.target = target;
    form.hidden = true;
    params.forEach(function (p) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = p[0];
      input.value = p[1];
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
    form.remove();
  }

  function frame() {
    opened += 1;
    var f = document.createElement("iframe");
    f.name = "epaywidget-frame-" + opened;
    f.className = "epaywidget-frame";
    f.title = "Payment Page";
    return f;
  }

  function inElement(config, method) {
    var target = config.target_element;
    var el = typeof target === "string" ? document.getElementById(target) : target;
    if (!el || !el.appendChild) throw new Error("EPayWidget: no element " + target);
    var f = frame();
    el.replaceChildren(f);
    send(config, method, "iframe", f.name, f);
  }

  // The modal layer: the page in a frame over a dimmed page; the close button or Escape closes it.
  function inModal(config, method) {
    var layer = document.createElement("div");
    layer.className = "epaywidget-modal";
    var dialog = document.createElement("div");
    dialog.className = "epaywidget-dialog";
    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-modal", "true");
    var close = document.createElement("button");
    close.type = "button";
    close.className = "epaywidget-close";
    close.setAttribute("aria-label", "Close");
    close.textContent = "\u00d7";
    var f = frame();
    dialog.append(close, f);
    layer.appendChild(dialog);
    document.body.appendChild(layer);
    function exit() {
      document.removeEventListener("keydown", onKey);
      layer.remove();
      if (typeof config.onExit === "function") config.onExit();
    }
    function onKey(e) { if (e.key === "Escape") exit(); }
    close.addEventListener("click", exit);
    document.addEventListener("keydown", onKey);
    send(config, method, "popup", f.name, f);
    close.focus();
  }

  function run(config, method) {
    if (!config || typeof config !== "object") throw new TypeError("EPayWidget: configObj is required");
    var m = String(method || "GET").toUpperCase();
    if (m !== "GET" && m !== "POST") throw new Error("EPayWidget: method is GET or POST");
    if (flag(config.redirect) || (flag(config.redirect_on_mobile) && onMobile())) {
      send(config, m, "", "_self", null);
    } else if (config.target_element) {
      inElement(config, m);
    } else {
      inModal(config, m);
    }
  }

  function bind(buttonId, config, method) {
    var button = document.getElementById(buttonId);
    if (!button) throw new Error("EPayWidget: no button " + buttonId);
    button.addEventListener("click", function (e) {
      e.preventDefault();
      run(config, method);
    });
  }

  window.EPayWidget = { run: run, bind: bind };
})();
