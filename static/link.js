// A mailed link carries its token after '#', which browsers never send to a server: no
// request line, and so no log of a host app, proxy or CDN, ever holds it. This copies it
// into the form, which posts it in the body, drops the code field the page asks for
// without a script, and takes the token out of the address bar and history.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var input = document.querySelector("input[data-link-token]");
    var m = /^#t=([A-Za-z0-9_-]{43})$/.exec(window.location.hash);
    if (!input || !m) return;
    input.value = m[1];
    var code = document.querySelector("[data-link-code]");
    if (code) code.remove();
    history.replaceState(null, "", window.location.pathname + window.location.search);
  });
})();
