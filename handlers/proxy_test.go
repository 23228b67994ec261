package handlers_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/handlers"
)

// syncBuffer is a log written by request goroutines and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestForwardedHostFromTrustedProxiesOnly: behind a reverse proxy that sets Host to its
// upstream (nginx's default), the address the browser used arrives in X-Forwarded-Host
// and X-Forwarded-Proto. They are believed from a trusted proxy only; a refused address
// is logged with what was seen and what to set, at most once a minute for each.
func TestForwardedHostFromTrustedProxiesOnly(t *testing.T) {
	const public = "https://app.example.test:9443"
	var logged syncBuffer
	withLog := func(c *handlers.Config) {
		c.BaseURL = public
		c.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	}
	upstream := "127.0.0.1:8080" // what the proxy sets Host to
	proxied := []string{"Host", upstream, "X-Forwarded-Host", "app.example.test:9443", "X-Forwarded-Proto", "https"}

	behind := newTestAppBehind(t, []string{"127.0.0.1/32"}, withLog)
	d := behind.device("browser", uaChromeMac, "")
	if r := d.do("GET", "/login", nil, false, proxied...); r.status != http.StatusOK {
		t.Fatalf("through the trusted proxy: %d, want 200", r.status)
	}
	for _, tc := range []struct {
		what string
		hdr  []string
	}{
		{"no X-Forwarded-Host", []string{"Host", upstream}},
		{"another site's name", []string{"Host", upstream, "X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "https"}},
		{"plain http at the proxy", []string{"Host", upstream, "X-Forwarded-Host", "app.example.test:9443", "X-Forwarded-Proto", "http"}},
	} {
		if r := d.do("GET", "/login", nil, false, tc.hdr...); r.status != http.StatusMisdirectedRequest {
			t.Errorf("%s: %d, want 421", tc.what, r.status)
		}
	}
	log := logged.String()
	if !strings.Contains(log, `seen=https://127.0.0.1:8080`) || !strings.Contains(log, "-trusted-proxies") || !strings.Contains(log, "-base-url") {
		t.Errorf("the 421 log does not say what was seen and what to set:\n%q", log)
	}

	// The same headers from anyone not listed are the client's word: refused.
	open := newTestAppBehind(t, nil, withLog)
	e := open.device("browser", uaChromeMac, "")
	logged.mu.Lock()
	logged.b.Reset()
	logged.mu.Unlock()
	for range 5 {
		if r := e.do("GET", "/login", nil, false, proxied...); r.status != http.StatusMisdirectedRequest {
			t.Errorf("X-Forwarded-Host from an untrusted peer: %d, want 421", r.status)
		}
	}
	if n := strings.Count(logged.String(), `msg="421:`); n != 1 {
		t.Errorf("5 refusals of one address logged %d times in a minute, want 1:\n%s", n, logged.String())
	}
	open.clock.Advance(61 * time.Second)
	e.do("GET", "/login", nil, false, proxied...)
	if n := strings.Count(logged.String(), `msg="421:`); n != 2 {
		t.Errorf("a minute later: logged %d times, want 2", n)
	}
}
