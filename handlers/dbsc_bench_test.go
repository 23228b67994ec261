package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models/modelstest"
)

// BenchmarkBoundRequest measures what binding a session to a device key costs a request:
// a host route behind RequireUser, for a device that is bound (session cookie and bound
// cookie, whose MAC is checked) beside one that is not (session cookie alone).
func BenchmarkBoundRequest(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	d := modelstest.OpenDB(b)
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	const base = "http://app.example"
	app, err := handlers.New(ctx, d, handlers.Config{BaseURL: base, SignupOpen: true, HashParams: &fastHash,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	r := gin.New()
	if err := r.SetTrustedProxies(nil); err != nil {
		b.Fatal(err)
	}
	app.Mount(r)
	r.GET("/host/ping", app.RequireUser, func(c *gin.Context) { c.String(http.StatusOK, "pong") })
	serve := func(method, path, cookie string, hdr ...string) *httptest.ResponseRecorder {
		var body io.Reader
		if method == "POST" && !strings.HasPrefix(path, "/dbsc/") {
			body = strings.NewReader("email=bench%40example.com&password=" + url.QueryEscape(testPassword))
		}
		req := httptest.NewRequest(method, base+path, body)
		if body != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", base)
		}
		req.Header.Set("User-Agent", uaChromeMac)
		req.Header.Set("Cookie", cookie)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		req.RemoteAddr = "203.0.113.7:4000"
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w
	}
	cookieOf := func(w *httptest.ResponseRecorder, name string) string {
		for _, c := range w.Result().Cookies() {
			if c.Name == name && c.MaxAge >= 0 {
				return c.Name + "=" + c.Value
			}
		}
		b.Fatalf("no %s cookie", name)
		return ""
	}
	unbound := cookieOf(serve("POST", "/signup", ""), "elsewhere_session")
	login := serve("POST", "/login", "")
	bound := cookieOf(login, "elsewhere_session")
	path, ch := registration(b, response{status: login.Code, header: login.Header()})
	reg := serve("POST", path, bound, "Secure-Session-Response", newES256Key(b).proof(b, ch, true))
	if reg.Code != http.StatusOK {
		b.Fatalf("register: %d %s", reg.Code, reg.Body)
	}
	bound += "; " + cookieOf(reg, "elsewhere_bound")

	for _, tc := range []struct{ name, cookie string }{{"unbound", unbound}, {"bound", bound}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if w := serve("GET", "/host/ping", tc.cookie); w.Code != http.StatusOK {
					b.Fatalf("%s: %d", tc.name, w.Code)
				}
			}
		})
	}
}
