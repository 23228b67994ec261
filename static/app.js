// Elsewhere's page script: progressive enhancement only. Every action also works
// without it, through plain forms.
(function () {
  "use strict";

  // Open and close dialogs for browsers without Invoker Commands (commandfor/command).
  if (!("command" in HTMLButtonElement.prototype)) {
    document.addEventListener("click", function (e) {
      var btn = e.target.closest("button[commandfor]");
      if (!btn) return;
      var dlg = document.getElementById(btn.getAttribute("commandfor"));
      if (!dlg) return;
      var cmd = btn.getAttribute("command");
      if (cmd === "show-modal") { clearDialog(dlg); dlg.showModal(); }
      if (cmd === "close") dlg.close();
    });
  }

  // The rows share two confirmation dialogs ("Sign out", "Lost or stolen?"). A row's
  // button fills in its device (the name, where the form posts, which row the answer
  // replaces) and opens one. Without JavaScript the same button goes to the
  // confirmation as a page of its own.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("button[data-dialog]");
    if (!btn || !window.htmx) return;
    var dlg = document.getElementById(btn.getAttribute("data-dialog"));
    var form = dlg && dlg.querySelector("form");
    var row = btn.closest("[data-session-id]");
    if (!form || !row) return;
    e.preventDefault();
    var action = btn.getAttribute("formaction");
    form.setAttribute("action", action);
    form.setAttribute("hx-post", action);
    if (form.hasAttribute("data-row-target")) form.setAttribute("hx-target", "#" + row.id);
    var label = row.querySelector(".session-label");
    dlg.querySelectorAll("[data-label]").forEach(function (s) { s.textContent = label ? label.textContent : ""; });
    var name = dlg.querySelector("input[data-name]");
    if (name) name.value = btn.getAttribute("data-name") || "";
    window.htmx.process(form);
    clearDialog(dlg);
    dlg.showModal();
  });

  // The sign-in and sign-up forms tell the server what a browser without client hints
  // (Safari, Firefox) does not: the time zone, for times in mails and the log, and the
  // touch points, since an iPad sends a Mac's user agent. The server keeps only values it
  // recognises; without script the user agent alone names the device.
  document.querySelectorAll("form[data-device-hints]").forEach(function (form) {
    function add(name, value) {
      if (value === undefined || value === null || value === "") return;
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = String(value);
      form.appendChild(input);
    }
    try { add("tz", Intl.DateTimeFormat().resolvedOptions().timeZone); } catch (e) { /* no Intl: no zone */ }
    add("touch", navigator.maxTouchPoints || 0);
  });

  // clearDialog empties every password field of a dialog or form, and its error: nothing
  // typed for one attempt may survive into the next, or a password typed again after a
  // refusal would be appended to the old one and set a password nobody chose.
  function clearDialog(root) {
    root.querySelectorAll("input[type=password]").forEach(function (f) { f.value = ""; });
    var err = root.querySelector(".form-error");
    if (err) err.textContent = "";
  }
  // Dialogs opened natively (Invoker Commands) are cleared just before they open.
  document.addEventListener("command", function (e) {
    if (e.command === "show-modal" && e.target instanceof HTMLDialogElement) clearDialog(e.target);
  }, true);
  document.addEventListener("beforetoggle", function (e) {
    if (e.newState === "open" && e.target instanceof HTMLDialogElement) clearDialog(e.target);
  }, true);

  // A dialog opens with the cursor in its first password field, and closes (cancelled,
  // or done) forgetting everything typed and any old error. The toggle event arrives after
  // the dialog is shown, when a fast typist or a password manager may already have typed:
  // the clearing before it opens is done above, at the click or command that opens it.
  document.addEventListener("toggle", function (e) {
    var dlg = e.target;
    if (!(dlg instanceof HTMLDialogElement)) return;
    var pw = dlg.querySelector("input[type=password]");
    if (dlg.open) {
      if (pw && !dlg.contains(document.activeElement)) pw.focus();
      return;
    }
    clearDialog(dlg);
  }, true);

  // After a refused confirmation the error is swapped into the open dialog: clear every
  // password field (the current one and a new one alike) and put the cursor back in the
  // first, so the person types both again from nothing.
  document.addEventListener("htmx:afterSwap", function (e) {
    var t = e.detail.target;
    if (t && t.classList && t.classList.contains("form-error")) {
      var dlg = t.closest("dialog");
      if (dlg) {
        dlg.querySelectorAll("input[type=password]").forEach(function (f) { f.value = ""; });
        var pw = dlg.querySelector("input[type=password]");
        if (pw) pw.focus();
      }
    }
    localizeTimes(document);
    watchLocks();
  });

  // Close the dialog as soon as its action succeeded, before the row fades out. Closing
  // gives focus back to the button that opened it, which is about to go with its row, so
  // put focus on the list's heading instead: a keyboard or screen-reader user carries on
  // from the list, not from the top of the page.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var xhr = e.detail.xhr;
    if (!xhr || xhr.status < 200 || xhr.status >= 300) return;
    var dlg = e.detail.requestConfig && e.detail.requestConfig.elt && e.detail.requestConfig.elt.closest("dialog");
    if (dlg && dlg.open) {
      dlg.close();
      var heading = document.getElementById("devices-title");
      if (heading) heading.focus();
    }
  });

  // Show times in the reader's own time zone.
  function localizeTimes(root) {
    var fmt;
    try {
      fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
    } catch (_) { return; }
    root.querySelectorAll("time[datetime]:not([data-local])").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) { t.textContent = fmt.format(d); t.setAttribute("data-local", "true"); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { localizeTimes(document); watchLocks(); });

  // A lock warning says how long the lock has left (data-remaining-ms, measured by the
  // server, so a browser clock that is off does not matter); the page refreshes then, so
  // the warning leaves with the lock. Never sooner than 2 s, never past setTimeout's range.
  var lockTimer = null;
  function watchLocks() {
    if (lockTimer) { clearTimeout(lockTimer); lockTimer = null; }
    var next = Infinity;
    document.querySelectorAll("#lock-warning [data-remaining-ms]").forEach(function (el) {
      var ms = parseInt(el.getAttribute("data-remaining-ms"), 10);
      if (ms >= 0 && ms < next) next = ms;
    });
    if (next === Infinity) return;
    lockTimer = setTimeout(function () { lockTimer = null; refreshSoon(); }, Math.min(Math.max(next + 1000, 2000), 2147483647));
  }

  // Live list. The page holds a live stream (htmx's SSE extension, #live): "sessions"
  // says the devices changed, so the list is fetched again as soon as no dialog or form
  // is in use; "signed-out" says this device no longer is, so the page goes to the server,
  // which sends it to the sign-in page with the reason. Only while the stream is down
  // does the list refresh on a timer instead, while the page is visible. The list may say
  // how often (data-refresh-ms); the period is read again at every tick.
  var PERIOD = 15000;
  // #live's data-state says whether the stream is open, for whoever needs to know.
  var live = false;
  function setLive(on) {
    live = on;
    var el = document.getElementById("live");
    if (el) el.setAttribute("data-state", on ? "open" : "closed");
  }
  document.addEventListener("htmx:sseOpen", function () {
    setLive(true);
    if (document.visibilityState === "hidden") closeLive(); // opened in a background tab
  });
  document.addEventListener("htmx:sseError", function () { setLive(false); });
  document.addEventListener("htmx:sseClose", function () { setLive(false); });
  // A plain form on its way to another page (signing out here, say) is the person's own
  // navigation: what the stream says meanwhile must not take them elsewhere. htmx's forms
  // have had their default prevented by the time the event bubbles up to here.
  var leaving = false;
  document.addEventListener("submit", function (e) {
    if (!e.defaultPrevented) leaving = true;
  });
  window.addEventListener("pageshow", function () { leaving = false; });
  // One way to the sign-in page: a refresh that learns of the sign-out too (401 with
  // HX-Redirect) must not send the browser there a second time, which would lose the
  // notice saying why; nor may anything land once the page is on its way.
  document.addEventListener("htmx:beforeOnLoad", function (e) {
    if (leaving) { e.preventDefault(); return; }
    var xhr = e.detail && e.detail.xhr;
    if (xhr && xhr.getResponseHeader("HX-Redirect")) leaving = true;
  });
  document.addEventListener("htmx:sseMessage", function (e) {
    var type = e.detail && e.detail.type;
    if (leaving) return;
    if (type === "signed-out") {
      var el = document.getElementById("live");
      leaving = true;
      location.assign(el ? el.getAttribute("data-signed-out") : location.href);
    } else if (type === "sessions") {
      refreshSoon();
    } else if (type === "reconnect") {
      reconnect();
    } else if (type === "full") {
      closeLive(); // this device holds its share of streams in other windows: poll here
    }
  });
  // parked keeps the stream's element while it is closed: while the page is hidden (a
  // background tab needs no news, and holds none of the browser's few connections), or
  // when the server had no room.
  var parked = null;
  function closeLive() {
    var el = document.getElementById("live");
    if (!el || !window.htmx) return;
    parked = { parent: el.parentNode, el: el.cloneNode(true) };
    parked.el.removeAttribute("data-state");
    window.htmx.remove(el); // htmx's clean-up closes the EventSource
    setLive(false);
  }
  function openLive() {
    if (!parked || document.getElementById("live") || !window.htmx) return;
    var p = parked;
    parked = null;
    p.parent.appendChild(p.el);
    window.htmx.process(p.el);
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      if (!parked) closeLive();
    } else {
      openLive();
    }
  });
  // reconnect closes the stream, as the server asked (it is shutting down, or the stream
  // is old), and opens a new one after a short random pause, so that the pages of a
  // server that stopped do not all arrive at the next one at once.
  function reconnect() {
    closeLive();
    setTimeout(function () {
      if (document.visibilityState === "visible") openLive();
    }, 250 + Math.random() * 1750);
  }
  // refreshSoon refreshes now, or once the person has closed the dialog they are using.
  // A hidden page refreshes when it is shown again.
  var waiting = null;
  function refreshSoon() {
    if (waiting) return;
    (function attempt() {
      waiting = null;
      if (document.visibilityState !== "visible") return;
      if (busy()) { waiting = setTimeout(attempt, 300); return; }
      refresh();
    })();
  }
  // Busy: a dialog is open (the refresh would swap in a closed copy of it and drop what
  // was typed), or an action is in flight or fading its row out (a refresh would cut the
  // fade short or land before the action's own answer). Focus alone never holds a
  // refresh back: news of a thief must show while the owner's focus rests on a button.
  // The refresh puts focus back where it was instead (keepFocus).
  function inUse() {
    return document.querySelector("dialog[open]");
  }
  function busy() {
    return inUse() || document.querySelector(".htmx-request, .htmx-swapping");
  }
  function refresh() {
    var list = document.getElementById("sessions");
    if (!list || !window.htmx || document.visibilityState !== "visible" || busy()) return;
    // Elsewhere-Refresh says the page asked on its own: the server does not count it as
    // the person's activity, so an open page alone never keeps a device signed in.
    // If-None-Match names the list this page shows, when it came from a refresh: nothing
    // changed, and the answer is 304 with no body, which swaps nothing.
    var headers = { "Elsewhere-Refresh": "auto" };
    if (shownTag) headers["If-None-Match"] = shownTag;
    window.htmx.ajax("GET", list.getAttribute("data-refresh"), {
      source: list, target: "#sessions", swap: "outerHTML", headers: headers
    });
  }
  // shownTag is the ETag of the list the page shows, when the last thing to change it was
  // a refresh; anything else that answers (an action, a rename) may have changed it, and
  // forgets it.
  var shownTag = null;
  document.addEventListener("htmx:afterRequest", function (e) {
    var xhr = e.detail && e.detail.xhr;
    if (!xhr || xhr.status === 304) return;
    var cfg = e.detail.requestConfig;
    var refresh = cfg && cfg.verb === "get" && cfg.elt && cfg.elt.id === "sessions";
    shownTag = refresh && xhr.status === 200 && !xhr.notShown ? xhr.getResponseHeader("ETag") : null;
  });
  // keepFocus remembers the focused element as its nearest ancestor with an id and its
  // place among that ancestor's focusable elements, and after the refresh focuses the same
  // place in the new markup (or the list's heading when its row went).
  var FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";
  var focusWas = null;
  function rememberFocus() {
    var el = document.activeElement;
    focusWas = null;
    if (!el || el === document.body || !el.closest) return;
    var box = el.id ? el : el.parentElement && el.parentElement.closest("[id]");
    if (!box) return;
    focusWas = { id: box.id, index: el.id ? -1 : Array.prototype.indexOf.call(box.querySelectorAll(FOCUSABLE), el) };
  }
  function restoreFocus() {
    var was = focusWas;
    focusWas = null;
    if (!was || (document.activeElement && document.activeElement !== document.body)) return;
    var box = document.getElementById(was.id);
    var el = box && (was.index < 0 ? box : box.querySelectorAll(FOCUSABLE)[was.index]);
    if (!el) el = document.getElementById("devices-title");
    if (el) el.focus({ preventScroll: true });
  }
  function period() {
    var list = document.getElementById("sessions");
    var ms = list && parseInt(list.getAttribute("data-refresh-ms"), 10);
    return ms > 0 ? ms : PERIOD;
  }
  // A refresh already on its way when a dialog opened (or focus went into the list) must
  // not land: it would swap in a closed copy of the open dialog, dropping what was typed.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var cfg = e.detail.requestConfig;
    if (!(cfg && cfg.verb === "get" && cfg.elt && cfg.elt.id === "sessions")) return;
    if (inUse()) {
      e.detail.shouldSwap = false;
      e.detail.xhr.notShown = true; // so its ETag is not taken for the list shown
      return;
    }
    rememberFocus();
  });
  document.addEventListener("htmx:afterSettle", function () { if (focusWas) restoreFocus(); });
  function tick() {
    if (!live) refresh();
    setTimeout(tick, period());
  }
  setTimeout(tick, period());
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") refresh();
  });

  // A page restored from the back/forward cache may show a signed-out dashboard: reload it
  // so the server decides.
  window.addEventListener("pageshow", function (e) {
    if (e.persisted && document.getElementById("sessions")) location.reload();
  });
})();
