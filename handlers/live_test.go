package handlers_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/db/dbtest"
	"github.com/elsewhere-dev/elsewhere/handlers"
)

// liveWait is how long a test waits for a pushed event. It is generous for a busy
// machine, and still well below the 15 s heartbeat and the polling these tests turn off:
// an event that arrives at all came by push. The time it took is logged.
const liveWait = 5 * time.Second

// stream is a device's open GET /account/events, read event by event.
type stream struct {
	t      testing.TB
	status int
	events chan sseEvent
	cancel context.CancelFunc
	done   chan struct{}
}

type sseEvent struct {
	name, id, data string
	at             time.Time
}

// openStream opens the device's live stream; seen is the page's newest log entry ("" for none).
func (d *device) openStream(seen string) *stream {
	d.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := d.request("GET", "/account/events?seen="+seen, nil, "", false, "Accept", "text/event-stream")
	if err != nil {
		d.t.Fatal(err)
	}
	req = req.WithContext(ctx)
	client := &http.Client{Jar: d.client.Jar, CheckRedirect: d.client.CheckRedirect} // no timeout: it streams
	res, err := client.Do(req)
	if err != nil {
		cancel()
		d.t.Fatalf("%s: open stream: %v", d.name, err)
	}
	s := &stream{t: d.t, status: res.StatusCode, events: make(chan sseEvent, 100), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer close(s.events)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" || ev.data != "" {
					ev.at = time.Now()
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	d.t.Cleanup(s.close)
	return s
}

func (s *stream) close() {
	s.cancel()
	<-s.done
}

// next waits for the next event; ok is false when the stream ended or nothing came.
func (s *stream) next(within time.Duration) (sseEvent, bool) {
	select {
	case ev, ok := <-s.events:
		return ev, ok
	case <-time.After(within):
		return sseEvent{}, false
	}
}

// expect waits for the named event after since and returns how long it took.
func (s *stream) expect(name string, since time.Time) time.Duration {
	s.t.Helper()
	ev, ok := s.next(liveWait)
	if !ok {
		s.t.Fatalf("no %q event within %v", name, liveWait)
	}
	if ev.name != name {
		s.t.Fatalf("event %q (%q), want %q", ev.name, ev.data, name)
	}
	return ev.at.Sub(since)
}

// ended waits for the server to end the stream.
func (s *stream) ended() bool {
	select {
	case <-s.done:
		return true
	case <-time.After(liveWait):
		return false
	}
}

// quietFor says no event arrived for d.
func (s *stream) quietFor(d time.Duration) bool {
	ev, ok := s.next(d)
	if ok {
		s.t.Logf("unexpected event %q", ev.name)
	}
	return !ok
}

// noPolling: the page would refresh only once an hour, so what arrives came by push.
func noPolling(c *handlers.Config) { c.RefreshEvery = time.Hour }

// TestLiveStream: the Security page's stream tells an open page of a new sign-in and of
// a device signed out, and tells the signed-out device itself, then ends its stream.
func TestLiveStream(t *testing.T) {
	ta := newTestApp(t, noPolling)
	laptop := ta.device("laptop", uaChromeMac, "203.0.113.1")
	laptop.signup("ann@example.com", testPassword)
	phone := ta.device("phone", uaSafariIPhone, "203.0.113.2")
	phone.login("ann@example.com", testPassword)
	seen := ta.query(`SELECT MAX(id) FROM events`)

	onLaptop := laptop.openStream(seen)
	onPhone := phone.openStream(seen)
	if onLaptop.status != http.StatusOK || onPhone.status != http.StatusOK {
		t.Fatalf("stream status %d, %d, want 200", onLaptop.status, onPhone.status)
	}
	if !onLaptop.quietFor(200 * time.Millisecond) {
		t.Error("a page that has seen everything was sent a change")
	}

	start := time.Now()
	tablet := ta.device("tablet", uaFirefoxWindow, "203.0.113.3")
	tablet.login("ann@example.com", testPassword)
	t.Logf("a sign-in reached the laptop's page after %v and the phone's after %v",
		onLaptop.expect("sessions", start), onPhone.expect("sessions", start))

	start = time.Now()
	if r := laptop.post("/account/sessions/"+phone.handle()+"/revoke", pw(testPassword)); r.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.status)
	}
	t.Logf("signed-out reached the phone after %v; sessions reached the laptop after %v",
		onPhone.expect("signed-out", start), onLaptop.expect("sessions", start))
	if !onPhone.ended() {
		t.Error("the signed-out phone's stream stayed open")
	}
	assertSignedOut(t, phone, true)
}

// TestLiveStreamCatchesUp: a page opened before a change it did not see (its stream was
// not yet connected) is told of it as soon as the stream opens.
func TestLiveStreamCatchesUp(t *testing.T) {
	ta := newTestApp(t, noPolling)
	laptop := ta.device("laptop", uaChromeMac, "203.0.113.1")
	laptop.signup("ann@example.com", testPassword)
	seen := ta.query(`SELECT MAX(id) FROM events`)
	ta.device("phone", uaSafariIPhone, "203.0.113.2").login("ann@example.com", testPassword)
	s := laptop.openStream(seen)
	ev, ok := s.next(liveWait)
	if !ok || ev.name != "sessions" || ev.id != ta.query(`SELECT MAX(id) FROM events`) {
		t.Fatalf("first event %+v (ok=%v), want sessions with the newest log id", ev, ok)
	}
	// A reconnection says what it saw last (Last-Event-ID) and is not sent it again.
	again, err := laptop.request("GET", "/account/events?seen="+seen, nil, "", false, "Last-Event-ID", ev.id)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	res, err := laptop.client.Do(again.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body := make([]byte, 4096)
	n, _ := res.Body.Read(body)
	for n < len(body) {
		m, err := res.Body.Read(body[n:])
		n += m
		if err != nil {
			break
		}
	}
	if strings.Contains(string(body[:n]), "event: sessions") {
		t.Errorf("a reconnection that had seen the newest change was sent it again:\n%s", body[:n])
	}
}

// TestLiveStreamIsNotActivity: an open page alone does not keep a device signed in, so
// its stream's checks do not count as activity.
func TestLiveStreamIsNotActivity(t *testing.T) {
	ta := newTestApp(t, noPolling)
	laptop := ta.device("laptop", uaChromeMac, "203.0.113.1")
	laptop.signup("ann@example.com", testPassword)
	h := laptop.handle()
	before := ta.query(`SELECT last_active_at FROM sessions WHERE handle = ?`, h)
	s := laptop.openStream(ta.query(`SELECT MAX(id) FROM events`))
	ta.clock.Advance(10 * time.Minute)
	start := time.Now()
	ta.device("phone", uaSafariIPhone, "203.0.113.2").login("ann@example.com", testPassword)
	s.expect("sessions", start)
	if after := ta.query(`SELECT last_active_at FROM sessions WHERE handle = ?`, h); after != before {
		t.Errorf("the stream's check moved last activity from %s to %s", before, after)
	}
}

// TestReconnectingStreamIsNotActivity: a tab left open reconnects its stream now and
// then; that does not keep the device signed in past its idle lifetime.
func TestReconnectingStreamIsNotActivity(t *testing.T) {
	ta := newTestApp(t, noPolling)
	laptop := ta.device("laptop", uaChromeMac, "203.0.113.1")
	laptop.signup("ann@example.com", testPassword)
	seen := ta.query(`SELECT MAX(id) FROM events`)
	// Opened every 30 minutes: taken while the idle lifetime lasts, refused from the
	// moment it ends (2 h after the sign-in, the last activity), though nothing was
	// written since the last stream was taken and its lookup may be remembered.
	for elapsed := 30 * time.Minute; elapsed <= 3*time.Hour; elapsed += 30 * time.Minute {
		ta.clock.Advance(30 * time.Minute)
		s := laptop.openStream(seen)
		if want := elapsed < 2*time.Hour; (s.status == http.StatusOK) != want {
			t.Fatalf("the stream %v after the last activity: %d, want taken %v", elapsed, s.status, want)
		}
		if s.status == http.StatusOK {
			s.close()
		}
	}
	if r := laptop.get("/account/security"); r.status != http.StatusSeeOther {
		t.Errorf("3 idle hours with a reconnecting stream: %d, want 303 (the 2-hour idle lifetime is over)", r.status)
	}
}

// TestLiveStreamRefusals: a signed-out device gets no stream, a device gets at most a
// few at once, and shutdown ends every stream.
func TestLiveStreamRefusals(t *testing.T) {
	ta := newTestApp(t, noPolling)
	stranger := ta.device("stranger", uaChromeMac, "203.0.113.9")
	if r := stranger.get("/account/events"); r.status != http.StatusSeeOther || r.location() != "/login" {
		t.Errorf("signed-out stream: %d %q, want 303 /login", r.status, r.location())
	}
	if r := stranger.do("GET", "/account/events", nil, true); r.status != http.StatusUnauthorized {
		t.Errorf("signed-out htmx stream: %d, want 401", r.status)
	}

	laptop := ta.device("laptop", uaChromeMac, "203.0.113.1")
	laptop.signup("ann@example.com", testPassword)
	seen := ta.query(`SELECT MAX(id) FROM events`)
	var open []*stream
	for i := 0; i < 3; i++ {
		s := laptop.openStream(seen)
		if s.status != http.StatusOK {
			t.Fatalf("stream %d: %d, want 200", i+1, s.status)
		}
		open = append(open, s)
	}
	// A fourth is told "full" in a 200 (htmx's extension retries anything else forever)
	// and ended; that page polls instead.
	if s := laptop.openStream(seen); s.status != http.StatusOK {
		t.Errorf("a fourth stream for one device: %d, want 200 with event full", s.status)
	} else if ev, ok := s.next(liveWait); !ok || ev.name != "full" || !s.ended() {
		t.Errorf("a fourth stream for one device got %+v (ok=%v), want full and the end", ev, ok)
	}
	// Another device of the same account has its own share.
	phone := ta.device("phone", uaSafariIPhone, "203.0.113.2")
	phone.login("ann@example.com", testPassword)
	if s := phone.openStream(""); s.status != http.StatusOK {
		t.Errorf("another device's stream: %d, want 200", s.status)
	}
	// A closed stream gives its place back.
	open[0].close()
	deadline := time.Now().Add(liveWait)
	for {
		s := laptop.openStream(seen)
		if ev, ok := s.next(200 * time.Millisecond); !ok || ev.name != "full" {
			break // open, and quiet: a place
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed stream's place was not given back")
		}
		time.Sleep(20 * time.Millisecond)
	}

	var wg sync.WaitGroup
	for _, s := range open[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Shutdown asks each page to reconnect (elsewhere) before it ends the stream.
			// (The phone's sign-in came first.)
			ev, ok := s.next(liveWait)
			for ok && ev.name == "sessions" {
				ev, ok = s.next(liveWait)
			}
			if !ok || ev.name != "reconnect" {
				t.Errorf("at shutdown a stream got %+v (ok=%v), want reconnect", ev, ok)
			}
			s.ended()
		}()
	}
	ta.app.CloseStreams()
	wg.Wait()
	for i, s := range open[1:] {
		select {
		case <-s.done:
		default:
			t.Errorf("stream %d still open after CloseStreams", i+2)
		}
	}
	if s := laptop.openStream(seen); s.status != http.StatusServiceUnavailable {
		t.Errorf("a stream opened while shutting down: %d, want 503", s.status)
	}
}

// TestTwoAppServers runs two app servers on one PostgreSQL database: a device signed in
// through A and signed out through B is refused at its next request on A, and pages open
// on A hear of what happens through B.
func TestTwoAppServers(t *testing.T) {
	dsn := dbtest.PostgresDSN(t)
	a := newTestAppOn(t, dsn, []string{"127.0.0.1/32"}, noPolling)
	b := newTestAppOn(t, dsn, []string{"127.0.0.1/32"}, noPolling)

	phone := a.device("phone", uaSafariIPhone, "203.0.113.2")
	phone.signup("ann@example.com", testPassword)
	laptopOnB := b.device("laptop", uaChromeMac, "203.0.113.1")
	laptopOnB.login("ann@example.com", testPassword)
	// The same laptop, its cookie and all, now reaching server A (as a load balancer might send it).
	laptopOnA := *laptopOnB
	laptopOnA.ta = a
	assertSignedIn(t, &laptopOnA)

	seen := a.query(`SELECT MAX(id) FROM events`)
	pageOnA := laptopOnA.openStream(seen)
	phoneOnA := phone.openStream(seen)

	start := time.Now()
	b.device("tablet", uaFirefoxWindow, "203.0.113.3").login("ann@example.com", testPassword)
	t.Logf("a sign-in through B reached a page on A after %v", pageOnA.expect("sessions", start))
	phoneOnA.expect("sessions", start)

	start = time.Now()
	if r := laptopOnB.post("/account/sessions/"+phone.handle()+"/revoke", pw(testPassword)); r.status != http.StatusSeeOther {
		t.Fatalf("revoke through B: %d", r.status)
	}
	t.Logf("a revocation through B reached the revoked device's page on A after %v", phoneOnA.expect("signed-out", start))
	pageOnA.expect("sessions", start)
	assertSignedOut(t, phone, true) // its next request, on A, is refused
}
