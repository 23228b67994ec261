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

// benchUAs are the twenty devices of the side-by-side benchmark (../shared/peers/bench.sh):
// the first is the one that asks for the page.
var benchUAs = []string{
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
	"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15",
	"Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 EdgiOS/131.2903.68 Mobile/15E148 Safari/605.1.15",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Vivaldi/7.0.3495.18",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"curl/8.5.0",
}

// benchHost is Elsewhere as `elsewhere serve` runs it (App.Handler: the router, every
// middleware and compression) and, over the same database, mounted in a host gin engine
// with a host route behind RequireUser, as an embedding app does. Requests go straight
// into the handlers (no network), so the figures are the server's own work.
type benchHost struct {
	serve  http.Handler // App.Handler
	router *gin.Engine  // the host engine
	cookie string       // the first device's Cookie header
	base   string
}

// newBenchHost signs one user in from every user agent in uas; the first device is the
// one whose cookie the benchmark sends.
func newBenchHost(b *testing.B, uas []string) *benchHost {
	b.Helper()
	gin.SetMode(gin.ReleaseMode)
	d := modelstest.OpenDB(b)
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	const base = "http://app.example"
	cfg := handlers.Config{BaseURL: base, SignupOpen: true, HashParams: &fastHash,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	served, err := handlers.New(ctx, d, cfg)
	if err != nil {
		b.Fatal(err)
	}
	serve, err := served.Handler(nil)
	if err != nil {
		b.Fatal(err)
	}
	hosted, err := handlers.New(ctx, d, cfg)
	if err != nil {
		b.Fatal(err)
	}
	r := gin.New()
	if err := r.SetTrustedProxies(nil); err != nil {
		b.Fatal(err)
	}
	hosted.Mount(r.Group("/auth"))
	r.GET("/host/ping", hosted.RequireUser, func(c *gin.Context) { c.String(http.StatusOK, "pong") })
	h := &benchHost{serve: serve, router: r, base: base}
	for i, ua := range uas {
		path := "/login"
		if i == 0 {
			path = "/signup"
		}
		req := httptest.NewRequest("POST", base+path, strings.NewReader("email=bench%40example.com&password="+url.QueryEscape(testPassword)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("User-Agent", ua)
		req.RemoteAddr = "203.0.113.7:4000"
		w := httptest.NewRecorder()
		serve.ServeHTTP(w, req)
		if w.Code != http.StatusSeeOther {
			b.Fatalf("%s from device %d: %d", path, i, w.Code)
		}
		if i == 0 {
			for _, ck := range w.Result().Cookies() {
				if ck.Name == "elsewhere_session" {
					h.cookie = ck.Name + "=" + ck.Value
				}
			}
		}
	}
	if h.cookie == "" {
		b.Fatal("no session cookie after sign-up")
	}
	return h
}

// discard is a ResponseWriter that keeps only the status, the headers and the count of
// body bytes, so a benchmark measures the server and not a recorder's buffer.
type discard struct {
	h      http.Header
	status int
	n      int64
}

func (w *discard) Header() http.Header { return w.h }
func (w *discard) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}
func (w *discard) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += int64(len(p))
	return len(p), nil
}

// get runs one GET through handler as the first device and returns the status and the
// body's size.
func (h *benchHost) get(handler http.Handler, path string, hdr ...string) *discard {
	req := httptest.NewRequest("GET", h.base+path, nil)
	req.Header.Set("Cookie", h.cookie)
	req.Header.Set("User-Agent", benchUAs[0])
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	req.RemoteAddr = "203.0.113.7:4000"
	w := &discard{h: http.Header{}}
	handler.ServeHTTP(w, req)
	return w
}

// BenchmarkSecurityPageRouter is the full Security page for one user with 20 signed-in
// devices, through the router and every middleware, as the first device: uncompressed,
// and for a browser offering zstd (or gzip only) from its own page (Sec-Fetch-Site:
// same-origin). bytes/op is the body as sent.
func BenchmarkSecurityPageRouter(b *testing.B) {
	h := newBenchHost(b, benchUAs)
	for _, tc := range []struct {
		name string
		hdr  []string
	}{
		{"20 devices", nil},
		{"20 devices zstd", []string{"Accept-Encoding", "gzip, deflate, br, zstd", "Sec-Fetch-Site", "same-origin"}},
		{"20 devices gzip", []string{"Accept-Encoding", "gzip", "Sec-Fetch-Site", "same-origin"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			w := h.get(h.serve, "/account/security", tc.hdr...)
			if w.status != http.StatusOK {
				b.Fatalf("page: %d", w.status)
			}
			if enc := w.h.Get("Content-Encoding"); (len(tc.hdr) == 0) != (enc == "") {
				b.Fatalf("page asked with %q: Content-Encoding %q", tc.hdr, enc)
			}
			b.ReportAllocs()
			for b.Loop() {
				if w = h.get(h.serve, "/account/security", tc.hdr...); w.status != http.StatusOK {
					b.Fatalf("page: %d", w.status)
				}
			}
			b.ReportMetric(float64(w.n), "bytes/op")
		})
	}
}

// BenchmarkRequireUser is a host route behind RequireUser that answers "pong", as the
// first of 20 signed-in devices, beside the same handler with no middleware at all.
func BenchmarkRequireUser(b *testing.B) {
	h := newBenchHost(b, benchUAs)
	h.router.GET("/bare/ping", func(c *gin.Context) { c.String(http.StatusOK, "pong") })
	for _, tc := range []struct{ name, path string }{{"RequireUser", "/host/ping"}, {"bare gin", "/bare/ping"}} {
		b.Run(tc.name, func(b *testing.B) {
			if w := h.get(h.router, tc.path); w.status != http.StatusOK || w.n != 4 {
				b.Fatalf("%s: %d, %d bytes", tc.path, w.status, w.n)
			}
			b.ReportAllocs()
			for b.Loop() {
				if w := h.get(h.router, tc.path); w.status != http.StatusOK {
					b.Fatalf("%s: %d", tc.path, w.status)
				}
			}
		})
	}
}
