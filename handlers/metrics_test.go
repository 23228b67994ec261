package handlers_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/db/dbtest"
	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models/mailer/mailtest"
)

// withMetrics registers the app's metrics on reg.
func withMetrics(reg prometheus.Registerer) func(*handlers.Config) {
	return func(c *handlers.Config) { c.Metrics = reg }
}

// metric is the value of the counter, gauge or histogram count named name whose labels
// include every name=value pair given; 0 when no such series exists yet.
func metric(t *testing.T, reg prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		total := 0.0
	series:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue series
				}
			}
			total += value(m)
		}
		return total
	}
	return 0
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

// moves runs f and fails unless it moved the named series by exactly want.
func moves(t *testing.T, reg prometheus.Gatherer, what string, want float64, f func(), name string, labels ...string) {
	t.Helper()
	before := metric(t, reg, name, labels...)
	f()
	if got := metric(t, reg, name, labels...) - before; got != want {
		t.Errorf("%s: %s%v moved by %v, want %v", what, name, labels, got, want)
	}
}

// scrape is the registry's text exposition, as Prometheus reads it.
func scrape(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d %v", res.StatusCode, err)
	}
	return string(b)
}

// TestMetricsCountWhatTheySay: each thing an operator watches moves its own series by
// exactly one (a sign-in, a wrong password, a refusal by the limit, a confirmation, a
// revocation of its kind, a mail queued and sent), requests are timed under their route
// pattern, and after all that the scrape carries no email, address, handle or token.
func TestMetricsCountWhatTheySay(t *testing.T) {
	sink := mailtest.Start(t, "")
	reg := prometheus.NewRegistry()
	ta := newTestApp(t, withMail(sink.Addr), withMetrics(reg))
	laptop := ta.device("laptop", uaChromeMac, "203.0.113.10")
	laptop.signup("ann@example.com", testPassword)
	phone := ta.device("phone", uaSafariIPhone, "198.51.100.20")
	const signIns = "elsewhere_sign_ins_total"

	moves(t, reg, "a wrong password", 0, func() {
		moves(t, reg, "a wrong password", 1, func() {
			if r := phone.post("/login", url.Values{"email": {"ann@example.com"}, "password": {"not it at all"}}); r.status != http.StatusUnauthorized {
				t.Fatalf("wrong password: %d", r.status)
			}
		}, signIns, "result", "failed")
	}, signIns, "result", "succeeded")
	moves(t, reg, "a sign-in", 1, func() { phone.login("ann@example.com", testPassword) }, signIns, "result", "succeeded")

	// A stranger guesses until the limit locks the email for strangers; the next try is
	// refused unchecked: refused moves, failed does not.
	thief := ta.device("thief", uaFirefoxLinux, "192.0.2.66")
	for i := 0; ; i++ {
		r := thief.post("/login", url.Values{"email": {"ann@example.com"}, "password": {"guess " + string(rune('a'+i))}})
		if r.status == http.StatusTooManyRequests {
			break
		}
		if i > 20 {
			t.Fatal("the sign-in limit never refused")
		}
	}
	moves(t, reg, "a sign-in refused by the limit", 0, func() {
		moves(t, reg, "a sign-in refused by the limit", 1, func() {
			if r := thief.post("/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}}); r.status != http.StatusTooManyRequests {
				t.Fatalf("a sign-in past the limit: %d", r.status)
			}
		}, signIns, "result", "refused")
	}, signIns, "result", "failed")

	// The new device's alert: one mail queued, one sent.
	ta.releaseAlerts()
	moves(t, reg, "an alert mail", 1, func() {
		moves(t, reg, "an alert mail", 1, func() { ta.nextMail(sink) }, "elsewhere_mail_total", "outcome", "sent")
	}, "elsewhere_mail_total", "outcome", "queued")
	if n := metric(t, reg, "elsewhere_mail_queue_length"); n != 0 {
		t.Errorf("the outbox is empty but the queue length says %v", n)
	}

	phoneID := phone.handle()
	moves(t, reg, "a confirmed revocation", 1, func() {
		moves(t, reg, "a confirmed revocation", 1, func() {
			if r := laptop.post("/account/sessions/"+phoneID+"/revoke", pw(testPassword)); r.status != http.StatusSeeOther {
				t.Fatalf("revoke: %d", r.status)
			}
		}, "elsewhere_revocations_total", "kind", "one")
	}, "elsewhere_confirmations_total", "result", "succeeded")
	moves(t, reg, "a wrong confirmation", 1, func() {
		laptop.post("/account/sessions/others/revoke", pw("not the password"))
	}, "elsewhere_confirmations_total", "result", "failed")
	moves(t, reg, "signing out", 1, func() { laptop.post("/logout", nil) }, "elsewhere_revocations_total", "kind", "sign-out")

	// Timed under the route's pattern; a path no route has (a mailed link's, say) under
	// one label.
	if n := metric(t, reg, "elsewhere_http_request_duration_seconds", "route", "/account/sessions/:id/revoke", "method", "POST"); n != 1 {
		t.Errorf("the revoke route was timed %v times, want 1", n)
	}
	laptop.get("/no/such/page/s3cr3t-t0ken")
	laptop.get("/account/not-me/AbCdEf0123456789-t0ken")
	if n := metric(t, reg, "elsewhere_http_request_duration_seconds", "route", "unmatched"); n != 1 {
		t.Errorf("unrouted requests timed %v times under unmatched, want 1", n)
	}

	// Sessions that ended by their lifetime count as expired when the sweeper deletes them.
	ta.otherUser() // signed in, to be swept
	n, _ := strconv.Atoi(ta.query(`SELECT COUNT(*) FROM sessions`))
	if n == 0 {
		t.Fatal("no session left to expire")
	}
	ta.clock.Advance(48 * time.Hour)
	moves(t, reg, "the sweeper deleting ended sessions", float64(n), func() {
		if err := ta.app.Sweep(t.Context()); err != nil {
			t.Fatal(err)
		}
	}, "elsewhere_revocations_total", "kind", "expired")

	// On PostgreSQL every change to an account waited for the servers to hear of it;
	// with this one server, hearing its own change back is enough, at once.
	waits, timedOut := metric(t, reg, "elsewhere_db_change_waits_total"), metric(t, reg, "elsewhere_db_change_waits_timed_out_total")
	if (waits > 0) != (dbtest.Engine() == db.Postgres) || timedOut != 0 {
		t.Errorf("on %s: %v commits waited, %v waited the lease out", dbtest.Engine(), waits, timedOut)
	}

	body := scrape(t, reg)
	for _, secret := range []string{"ann@example.com", "example.com", "203.0.113.10", "198.51.100.20", "192.0.2.66",
		phoneID, laptop.cookie(), "s3cr3t-t0ken", "AbCdEf0123456789", "/no/such"} {
		if secret != "" && strings.Contains(body, secret) {
			t.Errorf("the scrape carries %q", secret)
		}
	}
	for _, want := range []string{`elsewhere_sign_ins_total{result="refused"} 1`, `route="/account/not-me/:token"`,
		"elsewhere_live_streams_open 0", "elsewhere_mail_queue_oldest_age_seconds 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("the scrape lacks %q", want)
		}
	}
}

// TestMetricsNeverOnTheAppsListener: the app serves no /metrics of its own, with or
// without a registerer; the registry is the host's to serve where it chooses.
func TestMetricsNeverOnTheAppsListener(t *testing.T) {
	for name, mod := range map[string]func(*handlers.Config){
		"without": func(*handlers.Config) {},
		"with":    withMetrics(prometheus.NewRegistry()),
	} {
		t.Run(name, func(t *testing.T) {
			ta := newTestApp(t, mod)
			d := ta.device("A", uaChromeMac, "")
			d.signup("ann@example.com", testPassword)
			if r := d.get("/metrics"); r.status != http.StatusNotFound || strings.Contains(r.body, "elsewhere_") {
				t.Errorf("GET /metrics on the app's listener: %d\n%s", r.status, r.body)
			}
		})
	}
}

// TestLiveStreamsGauge: an open live stream shows in the gauge, and leaves it when it ends.
func TestLiveStreamsGauge(t *testing.T) {
	reg := prometheus.NewRegistry()
	ta := newTestApp(t, withMetrics(reg))
	d := ta.device("A", uaChromeMac, "")
	d.signup("ann@example.com", testPassword)
	req, err := d.request("GET", "/account/events", nil, "", false)
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("live stream: %d", res.StatusCode)
	}
	if n := metric(t, reg, "elsewhere_live_streams_open"); n != 1 {
		t.Errorf("one stream open, the gauge says %v", n)
	}
	res.Body.Close()
	ta.app.CloseStreams()
	waitUntil(t, "the stream to leave the gauge", func() bool { return metric(t, reg, "elsewhere_live_streams_open") == 0 })
}

// waitUntil polls cond until it holds, failing the test after mailtest.Wait.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(mailtest.Wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", mailtest.Wait, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMetricsMailBacklog: a mail the SMTP server will not take counts as failed, stays in
// the queue, and the queue's oldest age grows with the clock until it goes.
func TestMetricsMailBacklog(t *testing.T) {
	reg := prometheus.NewRegistry()
	ta := newTestApp(t, withMail(freeAddr(t)), withMetrics(reg)) // nothing listens there
	a := ta.device("A", uaChromeMac, "")
	a.signup("ann@example.com", testPassword)
	a.post("/logout", nil)
	moves(t, reg, "a reset mail asked for", 1, func() {
		if r := a.post("/password/forgot", url.Values{"email": {"ann@example.com"}}); r.status != http.StatusOK {
			t.Fatalf("forgot: %d", r.status)
		}
	}, "elsewhere_mail_total", "outcome", "queued")
	waitUntil(t, "the send to fail", func() bool { return metric(t, reg, "elsewhere_mail_total", "outcome", "failed") >= 1 })
	ta.clock.Advance(90 * time.Second)
	if n, age := metric(t, reg, "elsewhere_mail_queue_length"), metric(t, reg, "elsewhere_mail_queue_oldest_age_seconds"); n != 1 || age < 90 {
		t.Errorf("one mail waiting since 90 s ago: queue length %v, oldest age %v s", n, age)
	}
	if n := metric(t, reg, "elsewhere_mail_total", "outcome", "sent"); n != 0 {
		t.Errorf("sent moved by %v for a mail nobody took", n)
	}
}

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
