package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestForeignHostIsRefused: a page reached under another name (DNS rebinding: an
// attacker's name pointing at this server, so the browser treats it as the attacker's
// origin) gets 421 and nothing else, signed in or not, GET or POST; /healthz still answers
// probes by any name.
func TestForeignHostIsRefused(t *testing.T) {
	ta := newTestApp(t)
	a := ta.device("A", uaChromeMac, "")
	a.signup("ann@example.com", testPassword)
	port := ta.base.Port()
	for _, host := range []string{"evil.example:" + port, "evil.example", "127.0.0.1.nip.example:" + port, "127.0.0.1:1" + port} {
		for _, req := range []struct {
			method, path string
			form         url.Values
		}{
			{"GET", "/account/security", nil},
			{"GET", "/login", nil},
			{"GET", "/static/app.css", nil},
			{"POST", "/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}}},
			{"POST", "/account/sessions/others/revoke", pw(testPassword)},
		} {
			r := a.do(req.method, req.path, req.form, false, "Host", host, "Origin", "http://"+host)
			if r.status != http.StatusMisdirectedRequest || strings.Contains(r.body, "ann@example.com") {
				t.Errorf("%s %s for Host %s: %d, want 421 and nothing of the account", req.method, req.path, host, r.status)
			}
		}
	}
	for _, probe := range []string{"/healthz", "/readyz"} {
		if r := a.do("GET", probe, nil, false, "Host", "10.0.0.7:"+port); r.status != http.StatusOK {
			t.Errorf("%s by another name: %d, want 200", probe, r.status)
		}
	}
	// The base URL is on 127.0.0.1: the other loopback names on its port are the same site.
	for _, host := range []string{"localhost:" + port, "[::1]:" + port, "LOCALHOST:" + port} {
		if r := a.do("GET", "/login", nil, false, "Host", host); r.status != http.StatusOK {
			t.Errorf("GET /login for Host %s: %d, want 200", host, r.status)
		}
	}
	assertSignedIn(t, a)
}
