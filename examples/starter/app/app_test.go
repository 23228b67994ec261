package app_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/elsewhere-dev/elsewhere/examples/starter/app"
	"github.com/elsewhere-dev/elsewhere/models/modelstest"
)

const password = "correct horse battery staple"

// starter serves the example host app over a real socket and a real SQLite file.
func starter(t *testing.T) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	s, err := app.New(t.Context(), filepath.Join(t.TempDir(), "starter.db"), "http://"+srv.Listener.Addr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	srv.Config.Handler = s.Handler
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// browser is one device: its own cookies and user agent.
type browser struct {
	t      *testing.T
	base   string
	ua     string
	client *http.Client
}

func newBrowser(t *testing.T, base, ua string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, ua: ua, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values, htmx bool) answer {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("User-Agent", b.ua)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	all, _ := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, header: res.Header, body: string(all)}
}

func (b *browser) get(path string) answer { b.t.Helper(); return b.do("GET", path, nil, false) }

func (b *browser) signIn(path, email string) {
	b.t.Helper()
	r := b.do("POST", path, url.Values{"email": {email}, "password": {password}}, false)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/auth/account/security" {
		b.t.Fatalf("%s: %d %s\n%.300s", path, r.status, r.header.Get("Location"), r.body)
	}
}

// handles returns the data-session-id of every device row, this device's first.
func handles(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	for n := range parse(t, body).Descendants() {
		if id := attr(n, "data-session-id"); id != "" {
			out = append(out, id)
		}
	}
	return out
}

func parse(t *testing.T, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

const (
	uaMac    = modelstest.UAChromeMac
	uaIPhone = modelstest.UASafariIPhone
	uaWin    = modelstest.UAFirefoxWindows
)

// TestHostPagesAreTheHosts: the starter's own start page is its own, untouched by
// Elsewhere's middleware, and knows who is signed in.
func TestHostPagesAreTheHosts(t *testing.T) {
	base := starter(t)
	a := newBrowser(t, base, uaMac)
	r := a.get("/")
	if r.status != http.StatusOK || !strings.Contains(r.body, "Welcome to the starter") {
		t.Fatalf("GET /: %d\n%.300s", r.status, r.body)
	}
	if r.header.Get("X-Request-Id") != "" || r.header.Get("Permissions-Policy") != "" {
		t.Error("Elsewhere's middleware ran on the host's own start page")
	}
	a.signIn("/auth/signup", "ann@example.com")
	if r := a.get("/"); !strings.Contains(r.body, "signed in as <strong>ann@example.com</strong>") {
		t.Errorf("the start page does not know who is signed in:\n%.400s", r.body)
	}
}

// TestDashboardNeedsASignedInUser: the host's /dashboard sends a signed-out browser to
// the prefixed sign-in page (htmx: 401 and HX-Redirect), and shows a signed-in one its
// email.
func TestDashboardNeedsASignedInUser(t *testing.T) {
	base := starter(t)
	a := newBrowser(t, base, uaMac)
	if r := a.get("/dashboard"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/auth/login?next=%2Fdashboard" {
		t.Errorf("signed-out /dashboard: %d %s, want 303 /auth/login?next=%%2Fdashboard", r.status, r.header.Get("Location"))
	}
	if r := a.do("GET", "/dashboard", nil, true); r.status != http.StatusUnauthorized || r.header.Get("HX-Redirect") != "/auth/login?next=%2Fdashboard" {
		t.Errorf("signed-out htmx /dashboard: %d HX-Redirect=%q, want 401 /auth/login?next=%%2Fdashboard", r.status, r.header.Get("HX-Redirect"))
	}
	a.signIn("/auth/signup", "ann@example.com")
	r := a.get("/dashboard")
	if r.status != http.StatusOK || !strings.Contains(r.body, "Signed in as <strong>ann@example.com</strong>") {
		t.Errorf("signed-in /dashboard: %d\n%.400s", r.status, r.body)
	}
}

// TestEveryURLIsUnderThePrefix: every URL that Elsewhere's pages, fragments and redirects
// carry is under /auth; only the host's own layout links to its own pages.
func TestEveryURLIsUnderThePrefix(t *testing.T) {
	base := starter(t)
	hostOwn := map[string]bool{"/": true, "/dashboard": true}
	check := func(where string, r answer) {
		t.Helper()
		for _, h := range []string{"Location", "HX-Redirect"} {
			if v := r.header.Get(h); v != "" && !strings.HasPrefix(v, "/auth/") {
				t.Errorf("%s: %s %q is not under /auth", where, h, v)
			}
		}
		for n := range parse(t, r.body).Descendants() {
			for _, key := range []string{"href", "src", "action", "hx-post", "hx-get", "hx-delete", "data-refresh", "formaction"} {
				v := attr(n, key)
				if v == "" || strings.HasPrefix(v, "#") {
					continue
				}
				if !strings.HasPrefix(v, "/auth/") && !hostOwn[v] {
					t.Errorf("%s: <%s %s=%q> is not under /auth", where, n.Data, key, v)
				}
			}
		}
	}
	a, b, c := newBrowser(t, base, uaMac), newBrowser(t, base, uaIPhone), newBrowser(t, base, uaWin)
	check("sign-up page", a.get("/auth/signup"))
	check("sign-in page", a.get("/auth/login"))
	check("start of Elsewhere", a.get("/auth/"))
	r := a.do("POST", "/auth/signup", url.Values{"email": {"ann@example.com"}, "password": {password}}, false)
	check("sign-up", r)
	check("bad sign-up", b.do("POST", "/auth/signup", url.Values{"email": {"not an email"}, "password": {password}}, false))
	check("failed sign-in", b.do("POST", "/auth/login", url.Values{"email": {"ann@example.com"}, "password": {"wrong"}}, false))
	b.signIn("/auth/login", "ann@example.com")
	c.signIn("/auth/login", "ann@example.com")
	page := a.get("/auth/account/security")
	check("Security page", page)
	ids := handles(t, page.body)
	if len(ids) != 3 {
		t.Fatalf("the Security page lists %d devices, want 3", len(ids))
	}
	check("live refresh", a.do("GET", "/auth/account/security", nil, true))
	check("wrong password, htmx", a.do("POST", "/auth/account/sessions/"+ids[1]+"/revoke", url.Values{"password": {"wrong"}}, true))
	check("wrong password, no JavaScript", a.do("POST", "/auth/account/sessions/"+ids[1]+"/revoke", url.Values{"password": {"wrong"}}, false))
	check("lost or stolen, weak password", a.do("POST", "/auth/account/sessions/"+ids[1]+"/lost", url.Values{"password": {password}, "new_password": {"password"}}, false))
	check("unknown device", a.do("POST", "/auth/account/sessions/"+strings.Repeat("ab", 16)+"/revoke", url.Values{"password": {password}}, false))
	check("revoke, htmx", a.do("POST", "/auth/account/sessions/"+ids[1]+"/revoke", url.Values{"password": {password}}, true))
	check("revoked device's next request", b.get("/auth/account/security"))
	check("revoked device's sign-in page", b.get("/auth/login"))
	check("log out others, no JavaScript", a.do("POST", "/auth/account/sessions/others/revoke", url.Values{"password": {password}}, false))
	check("Security page with a notice", a.get("/auth/account/security"))
	check("password change, htmx", a.do("POST", "/auth/account/password", url.Values{"current_password": {"wrong"}, "new_password": {"a new passphrase here"}}, true))
	check("not found", a.get("/auth/nothing-here"))
	check("sign-out", a.do("POST", "/auth/logout", url.Values{}, false))

	// The assets the pages name are served there.
	for n := range parse(t, page.body).Descendants() {
		if v := attr(n, "src") + attr(n, "href"); strings.HasPrefix(v, "/auth/static/") {
			if r := a.get(v); r.status != http.StatusOK {
				t.Errorf("GET %s: %d", v, r.status)
			}
		}
	}
}

// TestSigningOutThroughThePrefix: revoking one device and logging out the others through
// /auth take the host's /dashboard away from those devices at their next request.
func TestSigningOutThroughThePrefix(t *testing.T) {
	base := starter(t)
	a, b, c := newBrowser(t, base, uaMac), newBrowser(t, base, uaIPhone), newBrowser(t, base, uaWin)
	a.signIn("/auth/signup", "ann@example.com")
	b.signIn("/auth/login", "ann@example.com")
	c.signIn("/auth/login", "ann@example.com")
	for _, d := range []*browser{a, b, c} {
		if r := d.get("/dashboard"); r.status != http.StatusOK {
			t.Fatalf("/dashboard before: %d", r.status)
		}
	}
	bID := handles(t, b.get("/auth/account/security").body)[0] // a device's own row comes first
	if r := a.do("POST", "/auth/account/sessions/"+bID+"/revoke", url.Values{"password": {password}}, true); r.status != http.StatusOK {
		t.Fatalf("revoke through /auth: %d\n%.300s", r.status, r.body)
	}
	if r := b.get("/dashboard"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/auth/login?next=%2Fdashboard" {
		t.Errorf("the revoked device's /dashboard: %d %s, want 303 /auth/login?next=%%2Fdashboard", r.status, r.header.Get("Location"))
	}
	if r := c.get("/dashboard"); r.status != http.StatusOK {
		t.Fatalf("a device that was not revoked lost /dashboard: %d", r.status)
	}
	if r := a.do("POST", "/auth/account/sessions/others/revoke", url.Values{"password": {password}}, true); r.status != http.StatusOK {
		t.Fatalf("log out others through /auth: %d", r.status)
	}
	for _, d := range []*browser{b, c} {
		if r := d.get("/dashboard"); r.status != http.StatusSeeOther {
			t.Errorf("a signed-out device's /dashboard: %d, want 303", r.status)
		}
	}
	if r := a.get("/dashboard"); r.status != http.StatusOK {
		t.Errorf("the device that acted lost /dashboard: %d", r.status)
	}
}

// TestReadmeShowsTheStarter: the README's embedding section is the starter's code.
func TestReadmeShowsTheStarter(t *testing.T) {
	src, err := os.ReadFile("app.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	between := func(b []byte, begin, end string) []byte {
		i, j := bytes.Index(b, []byte(begin)), bytes.Index(b, []byte(end))
		if i < 0 || j < i {
			t.Fatalf("markers %q..%q not found", begin, end)
		}
		return b[i+len(begin) : j]
	}
	norm := func(b []byte) string {
		var lines []string
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "//") {
				lines = append(lines, l)
			}
		}
		return strings.Join(lines, "\n")
	}
	code := norm(between(src, "// README:embed:begin", "// README:embed:end"))
	doc := norm(between(readme, "<!-- embed:begin -->", "<!-- embed:end -->"))
	if !strings.Contains(doc, code) {
		t.Errorf("README's embedding section differs from examples/starter/app/app.go; copy it again.\nwant:\n%s", code)
	}
}

// TestReadmeShowsTheMinimalApp: the README's smallest host app is examples/minimal,
// line for line (CI builds that with -tags mattn).
func TestReadmeShowsTheMinimalApp(t *testing.T) {
	src, err := os.ReadFile("../../minimal/main.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, doc, ok := strings.Cut(string(readme), "<!-- minimal:begin -->\n```go\n")
	if doc, _, ok2 := strings.Cut(doc, "```\n<!-- minimal:end -->"); !ok || !ok2 || !strings.HasSuffix(string(src), doc) || !strings.HasPrefix(doc, "package main") {
		t.Errorf("README's smallest host app differs from examples/minimal/main.go (from `package main` on); copy it again")
	}
}
