package handlers_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/db/dbtest"
	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/models/modelstest"
)

// Real user agents for the three devices of the flow tests.
const (
	uaChromeMac     = modelstest.UAChromeMac
	uaSafariIPhone  = modelstest.UASafariIPhone
	uaFirefoxWindow = modelstest.UAFirefoxWindows
	testPassword    = "correct horse battery staple"
)

// fastHash keeps argon2id cheap in tests; the real parameters are measured by benchmarks.
var fastHash = modelstest.FastHash()

// clock is a settable time source shared by the app under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testApp is the real app over a real SQLite file, served over real HTTP.
type testApp struct {
	t    testing.TB
	path string
	// proxies are the CIDRs the handler trusts as proxies (nil: none).
	proxies []string
	cfg     handlers.Config
	clock   *clock
	db      *db.DB
	app     *handlers.App
	srv     *httptest.Server
	base    *url.URL // the base URL the app runs under: the server's own, or an https one it is behind
	events  chan models.Event
	closed  atomic.Int64       // connections the server has finished with
	cancel  context.CancelFunc // ends the app's sweeper
}

// newTestApp starts the app; mod adjusts the configuration. Requests from 127.0.0.1 are
// trusted as a proxy, so each device can claim its own address with X-Forwarded-For.
func newTestApp(t testing.TB, mod ...func(*handlers.Config)) *testApp {
	t.Helper()
	return newTestAppBehind(t, []string{"127.0.0.1/32"}, mod...)
}

// newSQLiteTestApp is newTestApp on an SQLite file whatever the run's engine, for tests
// that reach into SQLite itself (its locks, pragmas and counters) to make it fail.
func newSQLiteTestApp(t testing.TB, mod ...func(*handlers.Config)) *testApp {
	t.Helper()
	return newTestAppOn(t, filepath.Join(t.TempDir(), "elsewhere.db"), []string{"127.0.0.1/32"}, mod...)
}

// newTestAppBehind starts the app trusting only the given proxies (none: X-Forwarded-For
// is ignored and every request comes from 127.0.0.1).
func newTestAppBehind(t testing.TB, proxies []string, mod ...func(*handlers.Config)) *testApp {
	t.Helper()
	return newTestAppOn(t, dbtest.DSN(t), proxies, mod...)
}

// newTestAppOn starts the app on the database dsn names.
func newTestAppOn(t testing.TB, dsn string, proxies []string, mod ...func(*handlers.Config)) *testApp {
	t.Helper()
	ta := &testApp{t: t, path: dsn, proxies: proxies,
		clock: &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}, events: make(chan models.Event, 1000)}
	ta.cfg = handlers.Config{
		BaseURL: "http://127.0.0.1", SignupOpen: true, ConfirmWindow: 15 * time.Minute, HashParams: &fastHash,
		// Refused answers leave at once, as tests refused many times need (refused_test.go holds them).
		Now: ta.clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), RefusedPause: -1,
		OnEvent: func(e models.Event) {
			select {
			case ta.events <- e:
			default:
			}
		},
	}
	for _, m := range mod {
		m(&ta.cfg)
	}
	ta.start()
	t.Cleanup(ta.stop)
	return ta
}

func (ta *testApp) start() {
	t := ta.t
	t.Helper()
	d, err := dbtest.OpenDSN(context.Background(), ta.path)
	if err != nil {
		t.Fatal(err)
	}
	ta.db = d
	ta.srv = httptest.NewUnstartedServer(nil)
	cfg := ta.cfg
	cfg.BaseURL = "http://" + ta.srv.Listener.Addr().String()
	if strings.HasPrefix(ta.cfg.BaseURL, "https://") {
		cfg.BaseURL = ta.cfg.BaseURL
	}
	if ta.cfg.BaseURL == "http://localhost" { // a domain, as passkeys need, on the server's port
		cfg.BaseURL = "http://localhost:" + strings.TrimPrefix(ta.srv.Listener.Addr().String(), "127.0.0.1:")
	}
	if ta.base, err = url.Parse(cfg.BaseURL); err != nil {
		t.Fatal(err)
	}
	var ctx context.Context
	ctx, ta.cancel = context.WithCancel(context.Background())
	ta.app, err = handlers.New(ctx, d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h, err := ta.app.Handler(ta.proxies)
	if err != nil {
		t.Fatal(err)
	}
	ta.srv.Config.Handler = h
	ta.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			ta.closed.Add(1)
		}
	}
	ta.srv.Start()
}

func (ta *testApp) stop() {
	if ta.cancel != nil {
		ta.cancel()
	}
	if ta.srv != nil {
		ta.srv.Close()
		ta.srv = nil
	}
	if ta.db != nil {
		ta.db.Close()
		ta.db = nil
	}
}

// restart stops the server and opens everything again on the same database file.
func (ta *testApp) restart() {
	ta.stop()
	ta.start()
}

// eventKinds waits for the next n events the app hands its OnEvent hook and returns
// their kinds, space-separated, in order.
func (ta *testApp) eventKinds(n int) string {
	ta.t.Helper()
	var kinds []string
	for range n {
		select {
		case ev := <-ta.events:
			kinds = append(kinds, string(ev.Kind))
		case <-time.After(time.Minute):
			ta.t.Fatalf("waited a minute for event %d of %d; got %q", len(kinds)+1, n, kinds)
		}
	}
	return strings.Join(kinds, " ")
}

// query reads one value straight from the database file.
func (ta *testApp) query(q string, args ...any) string {
	ta.t.Helper()
	var v sql.NullString
	if err := ta.db.Read.QueryRow(q, args...).Scan(&v); err != nil {
		ta.t.Fatalf("query %q: %v", q, err)
	}
	return v.String
}

// wroteBehindTheModels does what the README asks of whoever writes rows behind the
// models' back: it moves every account's change counter, and on PostgreSQL tells the
// servers to forget what they remember, then waits until this one has heard it.
func (ta *testApp) wroteBehindTheModels() {
	ta.t.Helper()
	if _, err := ta.db.Write.Exec(`UPDATE users SET changes = changes + 1`); err != nil {
		ta.t.Fatal(err)
	}
	ch := ta.db.ChangeChannel()
	if ch == "" {
		return // SQLite: the change stamp moved with the commit
	}
	before, _ := ta.db.AccountStamp(0)
	if _, err := ta.db.Write.Exec(`SELECT pg_notify(?, 'w psql 0 *')`, ch); err != nil {
		ta.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for now, _ := ta.db.AccountStamp(0); now == before; now, _ = ta.db.AccountStamp(0) {
		if time.Now().After(deadline) {
			ta.t.Fatal("the server did not hear the operator's message in 30 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// otherUser signs up a second account, bob, whose sessions must never be touched by ann's.
func (ta *testApp) otherUser() *device {
	ta.t.Helper()
	bob := ta.device("bob", uaChromeMac, "")
	bob.signup("bob@example.com", testPassword)
	return bob
}

// resaltBehindTheirBacks gives every user the same password under a new salt, directly in
// the database (as another instance or an admin tool might), leaving every stamp stale.
func (ta *testApp) resaltBehindTheirBacks() {
	ta.t.Helper()
	hash, err := ta.app.Hasher().Hash(ta.t.Context(), testPassword)
	if err != nil {
		ta.t.Fatal(err)
	}
	if _, err := ta.db.Write.Exec(`UPDATE users SET password_hash = ?`, hash); err != nil {
		ta.t.Fatal(err)
	}
}

func (ta *testApp) passwordHash(email string) string {
	return ta.query(`SELECT password_hash FROM users WHERE email = ?`, email)
}

// device is one browser: its own cookie jar, user agent and address.
type device struct {
	t      testing.TB
	ta     *testApp
	name   string
	ua     string
	ip     string
	client *http.Client
}

func (ta *testApp) device(name, ua, ip string) *device {
	jar, _ := cookiejar.New(nil)
	return &device{t: ta.t, ta: ta, name: name, ua: ua, ip: ip, client: &http.Client{
		Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (r response) location() string { return r.header.Get("Location") }

// request builds a request as the device's browser sends it: its user agent and address,
// same-origin headers on a POST, HX-Request for htmx. hdr are extra header pairs; an
// empty value removes that header.
func (d *device) request(method, path string, body io.Reader, contentType string, hx bool, hdr ...string) (*http.Request, error) {
	req, err := http.NewRequest(method, d.ta.srv.URL+path, body)
	if err != nil {
		return nil, err
	}
	// Addressed as the browser would: to the base URL's host, which the app checks.
	req.Host = d.ta.base.Host
	req.Header.Set("User-Agent", d.ua)
	if d.ip != "" {
		req.Header.Set("X-Forwarded-For", d.ip)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if method == http.MethodPost {
		req.Header.Set("Origin", d.ta.base.Scheme+"://"+d.ta.base.Host)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if hx {
		req.Header.Set("HX-Request", "true")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1] // net/http sends req.Host, never a Host header
			continue
		}
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	return req, nil
}

// roundTrip sends req with the device's cookie jar and reads the whole answer.
func (d *device) roundTrip(req *http.Request) (response, error) {
	res, err := d.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(b)}, err
}

// do makes one request with a form body, failing the test if it cannot be sent.
func (d *device) do(method, path string, form url.Values, hx bool, hdr ...string) response {
	d.t.Helper()
	var (
		body io.Reader
		ct   string
	)
	if form != nil {
		body, ct = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
	}
	if hx {
		hdr = append(hdr, "HX-Request", "true")
	}
	return d.send(method, path, body, ct, hdr...)
}

// send makes one request with body as it is (no form encoding, possibly without a length).
func (d *device) send(method, path string, body io.Reader, contentType string, hdr ...string) response {
	d.t.Helper()
	req, err := d.request(method, path, body, contentType, false, hdr...)
	if err != nil {
		d.t.Fatal(err)
	}
	r, err := d.roundTrip(req)
	if err != nil {
		d.t.Fatalf("%s %s %s: %v", d.name, method, path, err)
	}
	return r
}

func (d *device) get(path string) response { d.t.Helper(); return d.do("GET", path, nil, false) }
func (d *device) post(path string, form url.Values) response {
	d.t.Helper()
	return d.do("POST", path, form, false)
}
func (d *device) hxPost(path string, form url.Values) response {
	d.t.Helper()
	return d.do("POST", path, form, true)
}

func (d *device) signup(email, password string) {
	d.t.Helper()
	r := d.post("/signup", url.Values{"email": {email}, "password": {password}})
	if r.status != http.StatusSeeOther || r.location() != "/account/security" {
		d.t.Fatalf("%s: signup: %d %s\n%s", d.name, r.status, r.location(), r.body)
	}
}

// loginRemembered signs in with "remember me" ticked.
func (d *device) loginRemembered(email, password string) {
	d.t.Helper()
	r := d.post("/login", url.Values{"email": {email}, "password": {password}, "remember": {"on"}})
	if r.status != http.StatusSeeOther || r.location() != "/account/security" {
		d.t.Fatalf("%s: login with remember: %d %s", d.name, r.status, r.location())
	}
}

// laptopAndPhone signs ann up on a laptop and in on a phone (the device the thief holds
// in the thief tests), and returns both and the phone's handle.
func laptopAndPhone(ta *testApp) (laptop, phone *device, phoneID string) {
	ta.t.Helper()
	laptop = ta.device("laptop", uaChromeMac, "203.0.113.10")
	laptop.signup("ann@example.com", testPassword)
	phone = ta.device("phone", uaSafariIPhone, "198.51.100.20")
	phone.login("ann@example.com", testPassword)
	return laptop, phone, phone.handle()
}

func (d *device) login(email, password string) {
	d.t.Helper()
	r := d.post("/login", url.Values{"email": {email}, "password": {password}})
	if r.status != http.StatusSeeOther || r.location() != "/account/security" {
		d.t.Fatalf("%s: login: %d %s\n%s", d.name, r.status, r.location(), r.body)
	}
}

// cookie returns the device's session cookie value ("" when it has none).
func (d *device) cookie() string { return d.jarCookie("elsewhere_session") }

func (d *device) setCookie(value string) { d.setJarCookie("elsewhere_session", value) }

// jarCookie is the value of the device's cookie named name, with or without the __Host-
// prefix ("" when it has none).
func (d *device) jarCookie(name string) string {
	u, _ := url.Parse(d.ta.srv.URL)
	// The client files cookies under the host it addressed (req.Host: the base URL's),
	// which is the server's own address unless the base URL names another.
	for _, u := range []*url.URL{u, {Scheme: u.Scheme, Host: d.ta.base.Host}} {
		for _, c := range d.client.Jar.Cookies(u) {
			if strings.HasSuffix(c.Name, name) {
				return c.Value
			}
		}
	}
	return ""
}

// setJarCookie puts a cookie in the device's jar, as a client that copied one would.
func (d *device) setJarCookie(name, value string) {
	u, _ := url.Parse(d.ta.srv.URL)
	d.client.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// row is one device row as the Security page shows it.
type row struct {
	id, sessionID, label, ip, text string
	current                        bool
}

// page is the Security page as the device sees it; it fails the test when not signed in.
func (d *device) page() (rows []row, body string) {
	d.t.Helper()
	r := d.get("/account/security")
	if r.status != http.StatusOK {
		d.t.Fatalf("%s: security page: %d %s", d.name, r.status, r.location())
	}
	return parseRows(d.t, r.body), r.body
}

func parseRows(t testing.TB, body string) []row {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var rows []row
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || !strings.HasPrefix(attr(n, "id"), "session-") || attr(n, "id") == "session-count" {
			continue
		}
		r := row{id: attr(n, "id"), sessionID: attr(n, "data-session-id"), current: attr(n, "data-current") == "true"}
		for c := range n.Descendants() {
			switch attr(c, "class") {
			case "session-label":
				r.label = textOf(c)
			case "ip":
				r.ip = textOf(c)
			}
		}
		r.text = textOf(n)
		rows = append(rows, r)
	}
	return rows
}

// findByID returns the element with that id, or nil.
func findByID(t testing.TB, body, id string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && attr(n, "id") == id {
			return n
		}
	}
	return nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// logKinds returns the data-event kinds of the security log, newest first.
func logKinds(t testing.TB, body string) []string {
	t.Helper()
	log := findByID(t, body, "security-log")
	if log == nil {
		t.Fatal("no #security-log on the page")
	}
	var kinds []string
	for n := range log.Descendants() {
		if k := attr(n, "data-event"); n.Type == html.ElementNode && k != "" {
			kinds = append(kinds, k)
		}
	}
	return kinds
}
