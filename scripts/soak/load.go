package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const sessionCookie = "elsewhere_session"

// load drives the clients, the live streams and the restarts, and keeps the tally.
type load struct {
	cfg    config
	world  *world
	base   *url.URL // the proxy: the base URL every server is configured with
	fleet  *fleet
	client *http.Client

	mu       sync.Mutex
	windows  []window // restarts: 5xx inside them are expected
	answers  [6]int   // by status class (0: transport error)
	failures []failure
	pushes   []time.Duration
	notes    []string

	revocations atomic.Int64 // revokes and password changes that returned success
	checks      atomic.Int64 // (revoked device, server) pairs asked afterwards
	accepted    atomic.Int64 // ... that let the revoked device in: must stay 0
	unverified  atomic.Int64 // ... that never answered
	missed      []failure    // changes whose event did not come within 10 s
}

type window struct {
	what       string
	start, end time.Time
}

// failure is a 5xx answer or a transport error, kept with its time.
type failure struct {
	start, end time.Time
	what       string
}

func newLoad(cfg config, w *world, base string, f *fleet) *load {
	u, _ := url.Parse(base)
	tr := &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}
	return &load{cfg: cfg, world: w, base: u, fleet: f, client: &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// answer is what a request got: its status (0 for a transport error) and the session
// cookie it set, if any.
type answer struct {
	status int
	cookie string
}

// do sends one request to server (host:port; "" for the proxy) as a browser at the base
// URL would, and tallies it.
func (l *load) do(ctx context.Context, server, method, path, cookie string, form url.Values) answer {
	target := l.base.String()
	if server != "" {
		target = "http://" + server
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target+path, body)
	if err != nil {
		panic(err)
	}
	req.Host = l.base.Host
	req.Header.Set("User-Agent", seedUA)
	req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", 100+rand.IntN(100), rand.IntN(256), 1+rand.IntN(254)))
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", l.base.Scheme+"://"+l.base.Host)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
	}
	start := time.Now()
	res, err := l.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			l.tally(start, 0, method+" "+pathPattern(path)+": "+err.Error())
		}
		return answer{}
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	l.tally(start, res.StatusCode, method+" "+pathPattern(path))
	a := answer{status: res.StatusCode}
	for _, c := range res.Cookies() {
		if c.Name == sessionCookie && c.Value != "" {
			a.cookie = c.Value
		}
	}
	return a
}

// pathPattern hides the handle in a path, for the report.
func pathPattern(p string) string {
	parts := strings.Split(p, "/")
	if len(parts) > 3 && parts[1] == "account" && parts[2] == "sessions" && parts[3] != "others" {
		parts[3] = ":id"
	}
	return strings.Join(parts, "/")
}

func (l *load) tally(start time.Time, status int, what string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.answers[status/100]++
	if status == 0 || status >= 500 {
		l.failures = append(l.failures, failure{start: start, end: time.Now(), what: fmt.Sprintf("%d %s", status, what)})
	}
}

func (l *load) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	log.Print(msg)
	l.mu.Lock()
	l.notes = append(l.notes, msg)
	l.mu.Unlock()
}

// run drives the load for the configured time and returns the tally.
func (l *load) run(ctx context.Context, pg *postgres) (*report, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	started := time.Now()
	deadline := started.Add(l.cfg.duration)
	var wg sync.WaitGroup
	for i := 0; i < l.cfg.clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				l.step(ctx)
			}
		}()
	}
	// The live streams on the first server; the changes through the second.
	streams := make([]chan time.Time, len(l.world.watchers))
	for i, a := range l.world.watchers {
		streams[i] = make(chan time.Time, 16)
		go l.stream(ctx, l.fleet.addrs()[0], a, streams[i])
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.push(ctx, deadline, streams)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.restarts(ctx, started, pg)
	}()
	progress := time.NewTicker(30 * time.Second)
	defer progress.Stop()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for {
		select {
		case <-done:
			cancel()
			return l.report(time.Since(started)), nil
		case <-progress.C:
			l.mu.Lock()
			n := 0
			for _, c := range l.answers {
				n += c
			}
			l.mu.Unlock()
			log.Printf("%s: %d requests, %d revocations checked", time.Since(started).Round(time.Second), n, l.revocations.Load())
		}
	}
}

// restarts kills the last server a third of the way in (and starts a replacement three
// seconds later), and restarts PostgreSQL at three fifths.
func (l *load) restarts(ctx context.Context, started time.Time, pg *postgres) {
	sleepUntil := func(t time.Time) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Until(t)):
			return true
		}
	}
	last := l.cfg.servers - 1
	if !sleepUntil(started.Add(l.cfg.duration * 35 / 100)) {
		return
	}
	w := window{what: fmt.Sprintf("server %d killed", last), start: time.Now()}
	l.fleet.kill(last)
	l.note("%s: killed server %d (SIGKILL)", time.Since(started).Round(time.Second), last)
	if l.cfg.restartKill {
		time.Sleep(3 * time.Second)
		if err := l.fleet.start(last); err != nil {
			l.note("replacement: %v", err)
		} else if err := l.fleet.waitReady(ctx, 60*time.Second); err != nil {
			l.note("replacement: %v", err)
		} else {
			l.note("%s: replacement server %d ready", time.Since(started).Round(time.Second), last)
		}
	}
	w.end = time.Now().Add(5 * time.Second)
	l.addWindow(w)

	if !sleepUntil(started.Add(l.cfg.duration * 60 / 100)) {
		return
	}
	if !pg.canRestart() {
		l.note("PostgreSQL given by URL: not restarted")
		return
	}
	w = window{what: "PostgreSQL restarted", start: time.Now()}
	if err := pg.restart(); err != nil {
		l.note("PostgreSQL restart: %v", err)
	}
	l.note("%s: PostgreSQL restarted in %s", time.Since(started).Round(time.Second), time.Since(w.start).Round(time.Millisecond))
	if err := l.fleet.waitReady(ctx, 60*time.Second); err != nil {
		l.note("after the PostgreSQL restart: %v", err)
	} else {
		l.note("%s: every server ready again", time.Since(started).Round(time.Second))
	}
	w.end = time.Now().Add(10 * time.Second)
	l.addWindow(w)
}

func (l *load) addWindow(w window) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.windows = append(l.windows, w)
}

// step is one thing a client does: mostly page views, then sign-ins with a revocation,
// plain sign-ins, and now and then a password change.
func (l *load) step(ctx context.Context) {
	a := l.pick()
	if a == nil {
		return
	}
	defer a.mu.Unlock()
	switch r := rand.IntN(100); {
	case r < 60:
		l.view(ctx, a)
	case r < 85:
		l.revokeOne(ctx, a)
	case r < 99:
		if c := l.signIn(ctx, a); c != "" {
			l.do(ctx, "", "POST", "/logout", c, url.Values{})
		}
	default:
		l.changePassword(ctx, a)
	}
}

// pick locks a random account that no other client holds.
func (l *load) pick() *account {
	for range 10 {
		a := l.world.accounts[rand.IntN(len(l.world.accounts))]
		if a.mu.TryLock() {
			return a
		}
	}
	return nil
}

func live(a *account) *seeded {
	var alive []*seeded
	for _, d := range a.devices {
		if !d.dead {
			alive = append(alive, d)
		}
	}
	if len(alive) == 0 {
		return nil
	}
	return alive[rand.IntN(len(alive))]
}

func (l *load) view(ctx context.Context, a *account) {
	if d := live(a); d != nil {
		l.do(ctx, "", "GET", "/account/security", d.token, nil)
	}
}

// signIn signs in to a as a new browser and returns its session cookie ("" if refused).
func (l *load) signIn(ctx context.Context, a *account) string {
	r := l.do(ctx, "", "POST", "/login", "", url.Values{"email": {a.email}, "password": {a.password}, "remember": {"on"}})
	if r.status != http.StatusSeeOther {
		return ""
	}
	return r.cookie
}

// revokeOne signs in and signs one seeded device out, then asks every server whether
// that device is still let in.
func (l *load) revokeOne(ctx context.Context, a *account) {
	target := live(a)
	if target == nil {
		return
	}
	c := l.signIn(ctx, a)
	if c == "" {
		return
	}
	r := l.do(ctx, "", "POST", "/account/sessions/"+target.handle+"/revoke", c, url.Values{"password": {a.password}})
	if r.status == http.StatusSeeOther {
		target.dead = true
		l.revocations.Add(1)
		l.verifyRefused(ctx, target)
	}
	l.do(ctx, "", "POST", "/logout", c, url.Values{})
}

// changePassword signs in, changes the password signing every other device out, and asks
// every server whether one of those devices is still let in.
func (l *load) changePassword(ctx context.Context, a *account) {
	c := l.signIn(ctx, a)
	if c == "" {
		return
	}
	next := fmt.Sprintf("%s, changed %d", strings.SplitN(a.password, ",", 2)[0], a.changes+1)
	r := l.do(ctx, "", "POST", "/account/password", c, url.Values{"current_password": {a.password}, "new_password": {next},
		"logout_others": {"on"}})
	if r.status == http.StatusSeeOther {
		a.password, a.changes = next, a.changes+1
		victim := live(a)
		for _, d := range a.devices {
			d.dead = true
		}
		l.revocations.Add(1)
		if victim != nil {
			l.verifyRefused(ctx, victim)
		}
	}
	l.do(ctx, "", "POST", "/logout", c, url.Values{})
}

// verifyRefused tries a revoked device's cookie on every server directly: each must send
// it to sign in. A server that cannot answer (killed, or the database restarting) is
// asked again for up to ten seconds.
func (l *load) verifyRefused(ctx context.Context, d *seeded) {
	for _, server := range l.fleet.addrs() {
		answered := false
		for try := 0; try < 20 && ctx.Err() == nil; try++ {
			r := l.do(ctx, server, "GET", "/account/security", d.token, nil)
			if r.status == 0 || r.status >= 500 {
				time.Sleep(500 * time.Millisecond)
				continue
			}
			answered = true
			l.checks.Add(1)
			if r.status == http.StatusOK {
				l.accepted.Add(1)
				l.note("REVOKED DEVICE ACCEPTED by server %s after its revocation returned", server)
			}
			break
		}
		if !answered && ctx.Err() == nil {
			l.unverified.Add(1)
		}
	}
}

// stream keeps a live stream of a's open on server and sends the time of each
// "sessions" event it receives.
func (l *load) stream(ctx context.Context, server string, a *account, events chan<- time.Time) {
	lastID := ""
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+server+"/account/events", nil)
		req.Host = l.base.Host
		req.Header.Set("User-Agent", seedUA)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: a.devices[0].token})
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		res, err := (&http.Client{}).Do(req)
		if err == nil {
			sc := bufio.NewScanner(res.Body)
			for sc.Scan() {
				line := sc.Text()
				switch {
				case strings.HasPrefix(line, "id: "):
					lastID = strings.TrimPrefix(line, "id: ")
				case line == "event: sessions":
					select {
					case events <- time.Now():
					default:
					}
				}
			}
			res.Body.Close()
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// push names a watched device through the second server four times a second, in turn
// over the watched accounts, and times each change to its event on the first server's
// stream: from the start of the change's request to the event's arrival.
func (l *load) push(ctx context.Context, deadline time.Time, streams []chan time.Time) {
	if len(streams) == 0 {
		return
	}
	// Let every stream open and send its first state.
	time.Sleep(2 * time.Second)
	changer := l.fleet.addrs()[1]
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for n := 0; time.Now().Before(deadline) && ctx.Err() == nil; n++ {
		<-tick.C
		i := n % len(streams)
		a := l.world.watchers[i]
		for len(streams[i]) > 0 {
			<-streams[i]
		}
		t0 := time.Now()
		r := l.do(ctx, changer, "POST", "/account/sessions/"+a.devices[0].handle+"/name", a.devices[1].token,
			url.Values{"name": {fmt.Sprintf("soak %d", n)}})
		if r.status != http.StatusSeeOther && r.status != http.StatusOK {
			if r.status != 0 && r.status < 500 {
				l.note("push: naming a device answered %d", r.status) // the soak's own mistake
				return
			}
			continue
		}
		select {
		case t := <-streams[i]:
			l.mu.Lock()
			l.pushes = append(l.pushes, t.Sub(t0))
			l.mu.Unlock()
		case <-time.After(10 * time.Second):
			l.mu.Lock()
			l.missed = append(l.missed, failure{start: t0, end: time.Now(), what: "push"})
			l.mu.Unlock()
		case <-ctx.Done():
			return
		}
	}
}

// inWindow says whether a request from start to end overlapped a restart (from a second
// before it began).
func inWindow(windows []window, start, end time.Time) bool {
	for _, w := range windows {
		if start.Before(w.end) && end.After(w.start.Add(-time.Second)) {
			return true
		}
	}
	return false
}
