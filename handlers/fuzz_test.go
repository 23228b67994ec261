package handlers_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/elsewhere-dev/elsewhere/handlers"
)

// The fuzz targets call the app's handler directly (no sockets), from a fresh address
// each time and with the clock moving on, so rate limits do not hide the code paths.
// The seeds (f.Add and testdata/fuzz/<Name>/) run with every `go test`.

// fuzzApp is the app a fuzz target drives, with one account and a signed-in device.
type fuzzApp struct {
	*testApp
	owner *device
	n     atomic.Uint64
}

func newFuzzApp(f *testing.F) *fuzzApp {
	f.Helper()
	// The clock moves minutes per input, and inputs refused before the session is loaded
	// (413, no route) do not keep it alive: sessions here live for a century.
	fa := &fuzzApp{testApp: newTestApp(f, func(c *handlers.Config) { c.IdleTimeout = 100 * 365 * 24 * time.Hour })}
	fa.owner = fa.device("owner", uaChromeMac, "203.0.113.1")
	fa.owner.signup("ann@example.com", testPassword)
	return fa
}

// q reads one value from the database, failing t (not the fuzz target's f).
func (fa *fuzzApp) q(t *testing.T, query string, args ...any) string {
	t.Helper()
	var v string
	if err := fa.db.Read.QueryRow(query, args...).Scan(&v); err != nil {
		t.Fatalf("query %q: %v", query, err)
	}
	return v
}

// serve runs one request through the app from an address of its own.
func (fa *fuzzApp) serve(t *testing.T, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	n := fa.n.Add(1)
	if n%2000 == 0 {
		if err := fa.app.Sweep(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:40000", n>>16&255, n>>8&255, n&255)
	req.Host = fa.base.Host
	req.Header.Set("User-Agent", uaFirefoxWindow)
	rec := httptest.NewRecorder()
	fa.srv.Config.Handler.ServeHTTP(rec, req)
	checkResponse(t, rec)
	return rec
}

// checkResponse holds for every answer: not a server error, headers without line
// breaks, and a page that is valid UTF-8.
func checkResponse(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("status %d: %.300s", rec.Code, rec.Body.String())
	}
	for k, vs := range rec.Header() {
		for _, v := range vs {
			if strings.ContainsAny(k+v, "\r\n") {
				t.Fatalf("header %q: %q has a line break", k, v)
			}
		}
	}
	if !utf8.Valid(rec.Body.Bytes()) {
		t.Fatalf("the answer is not valid UTF-8")
	}
}

func postReq(path, body, contentType string) *http.Request {
	req := httptest.NewRequest("POST", "/", strings.NewReader(body))
	req.URL.Path, req.URL.RawPath = path, ""
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, allowed ...int) {
	t.Helper()
	if !slices.Contains(allowed, rec.Code) {
		t.Fatalf("status %d, want one of %v: %.300s", rec.Code, allowed, rec.Body.String())
	}
}

const formType = "application/x-www-form-urlencoded"

// FuzzSessionCookie sends an arbitrary session cookie: it is never a 5xx, never signed
// in, and never brings a session back.
func FuzzSessionCookie(f *testing.F) {
	fa := newFuzzApp(f)
	ended := fa.device("ended", uaSafariIPhone, "")
	ended.login("ann@example.com", testPassword)
	revoked := ended.cookie()
	fa.owner.hxPost("/account/sessions/"+ended.handle()+"/revoke", pw(testPassword))
	out := fa.device("out", uaSafariIPhone, "")
	out.login("ann@example.com", testPassword)
	loggedOut := out.cookie()
	out.post("/logout", nil)
	for _, s := range []string{revoked, loggedOut, revoked[:20], revoked + "A", strings.Repeat("A", 43), "", "=", `"` + revoked + `"`,
		"a; elsewhere_session=" + revoked, "\x00\xff", strings.Repeat("%", 5000)} {
		f.Add(s)
	}
	sessions := fa.query(`SELECT COUNT(*) FROM sessions`)
	f.Fuzz(func(t *testing.T, value string) {
		for _, hx := range []bool{false, true} {
			req := httptest.NewRequest("GET", "/account/security", nil)
			req.Header["Cookie"] = []string{"elsewhere_session=" + value}
			if hx {
				req.Header.Set("HX-Request", "true")
			}
			rec := fa.serve(t, req)
			if hx {
				wantStatus(t, rec, http.StatusUnauthorized)
			} else if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
				t.Fatalf("status %d to %q, want 303 to /login", rec.Code, rec.Header().Get("Location"))
			}
		}
		if n := fa.q(t, `SELECT COUNT(*) FROM sessions`); n != sessions {
			t.Fatalf("sessions went from %s to %s", sessions, n)
		}
	})
}

// FuzzLoginForm posts arbitrary bodies to /login: never a 5xx, and a wrong password
// never signs in, whatever the body around it.
func FuzzLoginForm(f *testing.F) {
	fa := newFuzzApp(f)
	f.Add("email=ann%40example.com&password=correct+horse+battery+staple&remember=on", formType)
	f.Add("email=ann%40example.com&password=wrong", formType)
	f.Add("email=%zz&password=%", formType)
	f.Add("email="+strings.Repeat("a", 70000), formType)
	f.Add("--b\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nann@example.com\r\n--b--\r\n", "multipart/form-data; boundary=b")
	f.Add("email=ann@example.com&password=correct horse battery staple", "text/plain")
	f.Add("email=%E2%80%AE%00%FF&password=", formType+"; charset=\xff")
	f.Fuzz(func(t *testing.T, body, contentType string) {
		// Four minutes per input: at most two wrong passwords for the account each (the
		// input's and the one below), so about eight per window, under the lock at ten.
		fa.clock.Advance(4 * time.Minute)
		rec := fa.serve(t, postReq("/login", body, contentType))
		wantStatus(t, rec, http.StatusSeeOther, http.StatusUnauthorized, http.StatusRequestEntityTooLarge,
			http.StatusUnprocessableEntity, http.StatusTooManyRequests)
		if rec.Code == http.StatusSeeOther && rec.Header().Get("Location") != "/account/security" {
			t.Fatalf("303 to %q", rec.Header().Get("Location"))
		}
		// A plain form that signed in carried the account's password.
		if rec.Code == http.StatusSeeOther && contentType == formType {
			if v, err := url.ParseQuery(body); err == nil && v.Get("password") != testPassword {
				t.Fatalf("signed in with password %q", v.Get("password"))
			}
		}
		// The known account with the input as its password: only the real one signs in.
		if body == testPassword {
			return
		}
		form := url.Values{"email": {"ann@example.com"}, "password": {body}}.Encode()
		rec = fa.serve(t, postReq("/login", form, formType))
		wantStatus(t, rec, http.StatusUnauthorized, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests)
		if c := rec.Header().Get("Set-Cookie"); strings.Contains(c, "elsewhere_session=") && !strings.Contains(c, "elsewhere_session=;") {
			t.Fatalf("a wrong password got a session cookie: %s", c)
		}
	})
}

// FuzzSignupForm posts arbitrary bodies to /signup; whatever account it makes has a
// clean, bounded email.
func FuzzSignupForm(f *testing.F) {
	fa := newFuzzApp(f)
	f.Add("email=new%40example.com&password=correct+horse+battery+staple", formType)
	f.Add("email=ANN%40example.com&password=correct+horse+battery+staple", formType)
	f.Add("email=%3Cscript%3E%40example.com&password=x", formType)
	f.Add("email=a%40b.co&password="+strings.Repeat("x", 300), formType)
	f.Add("email=a%FF%40b.co&password=%FF%FE%FD%FC%FB%FA%F9%F8", formType)
	f.Add("email=%zz", formType)
	f.Add("--b\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nm@example.com\r\n--b\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nlong enough pass\r\n--b--\r\n", "multipart/form-data; boundary=b")
	f.Fuzz(func(t *testing.T, body, contentType string) {
		users := fa.q(t, `SELECT COUNT(*) FROM users`)
		rec := fa.serve(t, postReq("/signup", body, contentType))
		wantStatus(t, rec, http.StatusSeeOther, http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge)
		after := fa.q(t, `SELECT COUNT(*) FROM users`)
		if (rec.Code == http.StatusSeeOther) != (after != users) {
			t.Fatalf("status %d but users went from %s to %s", rec.Code, users, after)
		}
		if rec.Code != http.StatusSeeOther {
			return
		}
		email := fa.q(t, `SELECT email FROM users ORDER BY id DESC LIMIT 1`)
		if len(email) > 254 || !utf8.ValidString(email) || email != strings.ToLower(strings.TrimSpace(email)) ||
			strings.ContainsAny(email, "<>\"' \r\n\x00\uFFFD") || !strings.Contains(email, "@") {
			t.Fatalf("stored email %q", email)
		}
	})
}

// FuzzRevokeForm posts arbitrary handles and bodies to the revoke routes from a
// signed-in device. The handle "B" stands for a live session of the same user.
func FuzzRevokeForm(f *testing.F) {
	fa := newFuzzApp(f)
	ownerCookie := fa.owner.cookie()
	ownerHandle := fa.owner.handle()
	b := fa.device("B", uaSafariIPhone, "198.51.100.2")
	b.login("ann@example.com", testPassword)
	bHandle := b.handle()
	f.Add("B", "password=correct+horse+battery+staple", true)
	f.Add("B", "password=correct+horse+battery+staple", false)
	f.Add("B", "password=wrong", true)
	f.Add("B", "", false)
	f.Add("others", "password=correct+horse+battery+staple", true)
	f.Add(strings.Repeat("0", 32), "password=x", false)
	f.Add("../../etc/passwd", "password=%zz", true)
	f.Add("B\r\nX-Injected: 1", "password=correct+horse+battery+staple", true)
	f.Add("%0d%0a", strings.Repeat("a", 70000), false)
	f.Fuzz(func(t *testing.T, id, body string, hx bool) {
		fa.clock.Advance(4 * time.Minute) // at most four wrong answers per window: no lockout
		b.t = t
		if fa.q(t, `SELECT COUNT(*) FROM sessions WHERE handle = ?`, bHandle) == "0" {
			b.login("ann@example.com", testPassword)
			bHandle = b.handle()
		}
		if id == "B" {
			id = bHandle
		}
		req := postReq("/account/sessions/"+id+"/revoke", body, formType)
		req.Header["Cookie"] = []string{"elsewhere_session=" + ownerCookie}
		if hx {
			req.Header.Set("HX-Request", "true")
		}
		rec := fa.serve(t, req)
		wantStatus(t, rec, http.StatusOK, http.StatusSeeOther, http.StatusNotFound, http.StatusConflict,
			http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity, http.StatusTooManyRequests,
			http.StatusMethodNotAllowed)
		if rec.Code == http.StatusSeeOther && rec.Header().Get("Location") != "/account/security" {
			t.Fatalf("303 to %q: the owner was signed out", rec.Header().Get("Location"))
		}
		if rt := rec.Header().Get("HX-Retarget"); rt != "" && rt != "#confirm-device-error" && rt != "#confirm-others-error" {
			t.Fatalf("HX-Retarget %q for id %q", rt, id)
		}
		if fa.q(t, `SELECT COUNT(*) FROM sessions WHERE handle = ?`, ownerHandle) != "1" {
			t.Fatal("the acting device was signed out")
		}
		if (rec.Code == http.StatusOK || rec.Code == http.StatusSeeOther) && id == bHandle &&
			fa.q(t, `SELECT COUNT(*) FROM sessions WHERE handle = ?`, bHandle) != "0" {
			t.Fatal("a successful revoke left the session")
		}
	})
}
