package handlers_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/db/dbtest"
	"github.com/elsewhere-dev/elsewhere/handlers"
)

// TestBaseURLWithAPath: `-base-url http://host:port/sub` serves the whole app under /sub,
// as `elsewhere serve` builds it (Handler): its pages, forms, redirects and assets, and
// nothing at the root.
func TestBaseURLWithAPath(t *testing.T) {
	d, err := db.Open(context.Background(), dbtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	srv := httptest.NewUnstartedServer(nil)
	app, err := handlers.New(t.Context(), d, handlers.Config{BaseURL: "http://" + srv.Listener.Addr().String() + "/sub/",
		SignupOpen: true, HashParams: &fastHash})
	if err != nil {
		t.Fatal(err)
	}
	h, err := app.Handler(nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(p string) (int, string, string) {
		t.Helper()
		res, err := client.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b strings.Builder
		buf := make([]byte, 32<<10)
		for {
			n, err := res.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return res.StatusCode, res.Header.Get("Location"), b.String()
	}
	for _, p := range []string{"/login", "/signup", "/account/security", "/static/app.css"} {
		if st, _, _ := get(p); st != http.StatusNotFound {
			t.Errorf("%s outside the base path: %d, want 404", p, st)
		}
	}
	if st, loc, _ := get("/sub/"); st != http.StatusSeeOther || loc != "/sub/login" {
		t.Errorf("/sub/: %d %q, want 303 /sub/login", st, loc)
	}
	st, _, body := get("/sub/login")
	if st != http.StatusOK {
		t.Fatalf("/sub/login: %d", st)
	}
	for _, m := range urlAttr.FindAllStringSubmatch(body, -1) {
		if u := m[1]; strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "/sub/") {
			t.Errorf("the sign-in page emits %q, outside /sub", u)
		}
	}
	form := url.Values{"email": {"ann@example.com"}, "password": {testPassword}}
	req, _ := http.NewRequest("POST", srv.URL+"/sub/signup", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/sub/account/security" {
		t.Fatalf("sign-up under /sub: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if st, _, body := get("/sub/account/security"); st != http.StatusOK || !strings.Contains(body, "ann@example.com") {
		t.Errorf("the Security page under /sub: %d", st)
	}
}

// TestBaseURLThatCannotWorkIsRefused: a base URL no request could match is refused when
// the app is built, saying why.
func TestBaseURLThatCannotWorkIsRefused(t *testing.T) {
	d, err := db.Open(context.Background(), dbtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	for base, why := range map[string]string{
		"localhost:8080":           "want http(s)://",
		"ftp://host":               "want http(s)://",
		"http://host/sub?x=1":      "query",
		"http://host/#top":         "fragment",
		"http://user:pw@host/":     "user",
		"http://host/a/../b":       "plain path",
		"http://host/a%2Fb":        "plain path",
		"http://host//sub":         "plain path",
		"http://host/sub:x":        "plain path",
		"http://host/with%20space": "plain path",
		"https://":                 "want http(s)://",
	} {
		_, err := handlers.New(t.Context(), d, handlers.Config{BaseURL: base, HashParams: &fastHash})
		if err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("base URL %q: %v, want an error saying %q", base, err, why)
		}
	}
}
