// Passkeys: sign in, confirm an action, add one. The server sends the WebAuthn options
// as JSON and takes the browser's answer as JSON in a form field; go-webauthn checks it
// there. Without WebAuthn (or without this script) the passkey controls stay hidden and
// the password does everything.
(function () {
  "use strict";
  var PKC = window.PublicKeyCredential;
  if (!PKC || !navigator.credentials) return;

  // base64url, for browsers without the JSON helpers.
  function fromB64(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function toB64(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function ids(list) {
    return (list || []).map(function (c) { var o = Object.assign({}, c); o.id = fromB64(c.id); return o; });
  }
  function requestOptions(o) {
    if (PKC.parseRequestOptionsFromJSON) return PKC.parseRequestOptionsFromJSON(o);
    var r = Object.assign({}, o);
    r.challenge = fromB64(o.challenge);
    r.allowCredentials = ids(o.allowCredentials);
    return r;
  }
  function creationOptions(o) {
    if (PKC.parseCreationOptionsFromJSON) return PKC.parseCreationOptionsFromJSON(o);
    var r = Object.assign({}, o);
    r.challenge = fromB64(o.challenge);
    r.user = Object.assign({}, o.user, { id: fromB64(o.user.id) });
    r.excludeCredentials = ids(o.excludeCredentials);
    return r;
  }
  function asJSON(cred) {
    if (typeof cred.toJSON === "function") return JSON.stringify(cred.toJSON());
    var r = cred.response, out = {
      id: cred.id, rawId: toB64(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = toB64(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = toB64(r.authenticatorData);
      out.response.signature = toB64(r.signature);
      if (r.userHandle) out.response.userHandle = toB64(r.userHandle);
    }
    return JSON.stringify(out);
  }

  // post sends a form's fields and reads the JSON answer; a redirect (a device signed
  // out meanwhile) is followed by the page.
  function post(url, body) {
    return fetch(url, { method: "POST", body: new URLSearchParams(body), credentials: "same-origin" }).then(function (res) {
      if (res.redirected) { window.location.assign(res.url); return new Promise(function () {}); }
      return res.json().catch(function () { return { error: "The server could not finish this request." }; }).then(function (j) {
        if (!res.ok) throw new Error(j.error || "The server could not finish this request.");
        return j;
      });
    });
  }
  function showError(form, msg) {
    var el = form.querySelector(".form-error") || document.getElementById(form.id + "-error");
    if (!el) { var d = form.closest("dialog"); el = d && d.querySelector(".form-error"); }
    if (el) el.textContent = msg;
  }
  function cancelled(err) { return err && (err.name === "NotAllowedError" || err.name === "AbortError"); }

  // Sign in: the button, and passkeys offered in the email field's autofill where the
  // browser can (conditional mediation).
  var signin = document.querySelector("form[data-passkey-signin]");
  if (signin) {
    signin.hidden = false;
    var pending = null;
    var run = function (mediation) {
      if (pending) pending.abort();
      var ctl = new AbortController();
      pending = ctl;
      return post(signin.getAttribute("data-passkey-signin"), {}).then(function (opts) {
        var req = { publicKey: requestOptions(opts.publicKey), signal: ctl.signal };
        if (mediation) req.mediation = mediation;
        return navigator.credentials.get(req);
      }).then(function (cred) {
        if (!cred) return;
        signin.querySelector("input[name=credential]").value = asJSON(cred);
        var keep = document.querySelector("input[name=remember][type=checkbox]");
        signin.querySelector("input[name=remember]").value = keep && keep.checked ? "on" : "";
        signin.submit();
      }).catch(function (err) {
        if (!cancelled(err) && !mediation) showError(signin, err.message);
      });
    };
    signin.addEventListener("submit", function (e) {
      if (signin.querySelector("input[name=credential]").value) return;
      e.preventDefault();
      run(null);
    });
    // Passkeys in the email field's autofill, unless the page is the answer to one that
    // was refused (offering it again at once would only repeat the refusal).
    if (PKC.isConditionalMediationAvailable && !document.querySelector(".notice-error")) {
      PKC.isConditionalMediationAvailable().then(function (ok) { if (ok) run("conditional"); }).catch(function () {});
    }
  }

  // Confirm with a passkey instead of the password: any form with the button.
  function showConfirmButtons(root) {
    root.querySelectorAll("button[data-passkey-confirm]").forEach(function (b) { b.hidden = false; });
  }
  showConfirmButtons(document);
  // Content htmx puts in (a swap, an out-of-band swap, the live refresh) too.
  document.addEventListener("htmx:load", function (e) { showConfirmButtons(e.target); });
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("button[data-passkey-confirm]");
    if (!btn) return;
    var form = btn.closest("form");
    if (!form) return;
    e.preventDefault();
    showError(form, "");
    post(btn.getAttribute("data-passkey-confirm"), {}).then(function (opts) {
      return navigator.credentials.get({ publicKey: requestOptions(opts.publicKey) });
    }).then(function (cred) {
      form.querySelector("input[data-passkey-field]").value = asJSON(cred);
      form.querySelectorAll("input[type=password]:not([name=new_password])").forEach(function (p) { p.required = false; p.value = ""; });
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    }).catch(function (err) {
      showError(form, cancelled(err) ? "No passkey was used." : err.message);
    });
  });
  // A passkey's answer is for one submission only.
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.target.closest && e.target.closest("form");
    if (!form) return;
    form.querySelectorAll("input[data-passkey-field]").forEach(function (f) { f.value = ""; });
    form.querySelectorAll("input[type=password]").forEach(function (p) { p.required = true; });
  });

  // Add a passkey: a fresh confirmation gets the options, the browser makes the passkey,
  // the server keeps it.
  var add = document.querySelector("form[data-passkey-add]");
  if (add) {
    add.hidden = false;
    add.addEventListener("submit", function (e) {
      e.preventDefault();
      showError(add, "");
      var fields = new FormData(add);
      fields.delete("credential");
      post(add.getAttribute("data-passkey-add"), fields).then(function (opts) {
        return navigator.credentials.create({ publicKey: creationOptions(opts.publicKey) });
      }).then(function (cred) {
        return post(add.getAttribute("action"), { name: fields.get("name") || "", credential: asJSON(cred) });
      }).then(function (done) {
        window.location.assign(done.redirect);
      }).catch(function (err) {
        showError(add, cancelled(err) ? "No passkey was added." : err.message);
      }).finally(function () {
        var f = add.querySelector("input[data-passkey-field]");
        if (f) f.value = "";
        add.querySelectorAll("input[type=password]").forEach(function (p) { p.required = true; });
      });
    });
  }
})();
