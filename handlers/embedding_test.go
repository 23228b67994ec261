package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	ginsessions "github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models/modelstest"
)

// hostApp is a host gin engine with Elsewhere mounted by setup, served over real HTTP.
type hostApp struct {
	t   *testing.T
	srv *httptest.Server
	app *handlers.App
	db  *db.DB
}

func newHostApp(t *testing.T, setup func(r *gin.Engine, a *handlers.App)) *hostApp {
	t.Helper()
	d := modelstest.OpenDB(t)
	srv := httptest.NewUnstartedServer(nil)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	a, err := handlers.New(ctx, d, handlers.Config{BaseURL: "http://" + srv.Listener.Addr().String(), SignupOpen: true,
		HashParams: &fastHash, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(gin.Recovery())
	if err := r.SetTrustedProxies(nil); err != nil {
		t.Fatal(err)
	}
	setup(r, a)
	srv.Config.Handler = r
	srv.Start()
	t.Cleanup(srv.Close)
	return &hostApp{t: t, srv: srv, app: a, db: d}
}

type hostClient struct {
	h *hostApp
	c *http.Client
}

func (h *hostApp) client() *hostClient {
	jar, _ := cookiejar.New(nil)
	return &hostClient{h: h, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (hc *hostClient) do(method, path string, form url.Values, hdr ...string) response {
	hc.h.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, hc.h.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", hc.h.srv.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := hc.c.Do(req)
	if err != nil {
		hc.h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

func (hc *hostClient) signup(prefix, email string) {
	hc.h.t.Helper()
	r := hc.do("POST", prefix+"/signup", url.Values{"email": {email}, "password": {testPassword}})
	if r.status != http.StatusSeeOther || r.location() != prefix+"/account/security" {
		hc.h.t.Fatalf("signup: %d %q\n%.400s", r.status, r.location(), r.body)
	}
}

// TestEmbeddedHostSessionValues: the README and the store's doc say the gin-contrib store
// keeps an embedding app's own values (session.Set/Save) for a signed-in device. A host
// route behind RequireUser that uses sessions.Default(c) must work and read its value back.
func TestEmbeddedHostSessionValues(t *testing.T) {
	h := newHostApp(t, func(r *gin.Engine, a *handlers.App) {
		a.Mount(r.Group("/auth"))
		r.POST("/cart", a.RequireUser, func(c *gin.Context) {
			s := ginsessions.Default(c)
			s.Set("cart", "3 apples")
			if err := s.Save(); err != nil {
				c.String(500, "save: %v", err)
				return
			}
			c.String(200, "saved")
		})
		r.GET("/cart", a.RequireUser, func(c *gin.Context) {
			v, _ := ginsessions.Default(c).Get("cart").(string)
			c.String(200, "cart=%s", v)
		})
	})
	// A signed-out post is not returned to after signing in: the form would be lost.
	if r := h.client().do("POST", "/cart", url.Values{}); r.status != 303 || r.location() != "/auth/login" {
		t.Errorf("a signed-out POST /cart: %d %q, want 303 /auth/login without next", r.status, r.location())
	}
	d := h.client()
	d.signup("/auth", "ann@example.com")
	if r := d.do("POST", "/cart", url.Values{}); r.status != 200 {
		t.Fatalf("POST /cart (sessions.Default(c).Set/Save on a host route behind RequireUser): %d %.300s", r.status, r.body)
	}
	if r := d.get2("/cart"); r.body != "cart=3 apples" {
		t.Fatalf("GET /cart: %d %q", r.status, r.body)
	}
}

func (hc *hostClient) get2(path string, hdr ...string) response {
	hc.h.t.Helper()
	return hc.do("GET", path, nil, hdr...)
}

var urlAttr = regexp.MustCompile(`(?:href|action|src|hx-post|hx-get|data-refresh)="([^"]*)"`)

// TestEmbeddedNestedGroupURLs: mounted under a nested group, every URL emitted stays under it.
func TestEmbeddedNestedGroupURLs(t *testing.T) {
	h := newHostApp(t, func(r *gin.Engine, a *handlers.App) {
		a.Mount(r.Group("/a").Group("/b"))
		r.GET("/dash", a.RequireUser, func(c *gin.Context) { c.String(200, "dash") })
	})
	d := h.client()
	if r := d.get2("/dash"); r.status != 303 || r.location() != "/a/b/login?next=%2Fdash" {
		t.Fatalf("signed out /dash: %d %q", r.status, r.location())
	}
	if r := d.get2("/dash", "HX-Request", "true"); r.status != 401 || r.header.Get("HX-Redirect") != "/a/b/login?next=%2Fdash" {
		t.Fatalf("htmx signed out /dash: %d %q", r.status, r.header.Get("HX-Redirect"))
	}
	for _, p := range []string{"/a/b/login", "/a/b/signup"} {
		r := d.get2(p)
		checkURLs(t, p, r.body, "/a/b/")
	}
	d.signup("/a/b", "ann@example.com")
	r := d.get2("/a/b/account/security")
	if r.status != 200 {
		t.Fatalf("security: %d", r.status)
	}
	checkURLs(t, "security", r.body, "/a/b/")
	if r := d.get2("/dash"); r.status != 200 {
		t.Fatalf("signed in /dash: %d", r.status)
	}
	r = d.do("POST", "/a/b/logout", url.Values{})
	if r.status != 303 || !strings.HasPrefix(r.location(), "/a/b/") {
		t.Fatalf("logout: %d %q", r.status, r.location())
	}
	if r := d.get2("/dash"); r.status != 303 {
		t.Fatalf("signed out again /dash: %d", r.status)
	}
}

func checkURLs(t *testing.T, page, body, prefix string) {
	t.Helper()
	n := 0
	for _, m := range urlAttr.FindAllStringSubmatch(body, -1) {
		u := m[1]
		if strings.HasPrefix(u, "#") || u == "" {
			continue
		}
		n++
		if !strings.HasPrefix(u, prefix) && u != strings.TrimSuffix(prefix, "/") {
			t.Errorf("%s: URL %q outside %s", page, u, prefix)
		}
	}
	if n == 0 {
		t.Errorf("%s: no URLs found", page)
	}
}

// TestEmbeddedRootGroupWithHostHome: mounted at an engine's root through a group (the
// "any gin engine or group" of Mount's doc) where the host already has GET "/".
func TestEmbeddedRootGroupWithHostHome(t *testing.T) {
	defer func() {
		if v := recover(); v != nil {
			t.Fatalf("Mount(r.Group(\"/\")) with the host's own GET \"/\": panic: %v", v)
		}
	}()
	h := newHostApp(t, func(r *gin.Engine, a *handlers.App) {
		r.GET("/", func(c *gin.Context) { c.String(200, "host home") })
		a.Mount(r.Group("/"))
	})
	d := h.client()
	if r := d.get2("/"); r.body != "host home" {
		t.Fatalf("/: %d %q", r.status, r.body)
	}
	d.signup("", "ann@example.com")
	if r := d.get2("/account/security"); r.status != 200 {
		t.Fatalf("security after root-group mount: %d", r.status)
	}
}

// TestEmbeddedRootEngineWithHostHome: mounted at the engine itself with the host's "/".
func TestEmbeddedRootEngineWithHostHome(t *testing.T) {
	h := newHostApp(t, func(r *gin.Engine, a *handlers.App) {
		r.GET("/", func(c *gin.Context) { c.String(200, "host home") })
		a.Mount(r)
	})
	d := h.client()
	if r := d.get2("/"); r.body != "host home" {
		t.Fatalf("/: %d %q", r.status, r.body)
	}
	d.signup("", "ann@example.com")
	if r := d.get2("/account/security"); r.status != 200 {
		t.Fatalf("security: %d", r.status)
	}
}

// TestEmbeddedRevokedDeviceOnHostRoute: a device signed out from another is refused by
// RequireUser on a host route at its next request.
func TestEmbeddedRevokedDeviceOnHostRoute(t *testing.T) {
	h := newHostApp(t, func(r *gin.Engine, a *handlers.App) {
		a.Mount(r.Group("/auth"))
		r.GET("/dash", a.RequireUser, func(c *gin.Context) {
			u, ok := handlers.CurrentUser(c)
			c.String(200, "%v %s%s", ok, u.Email, u.PasswordHash) // the hash is never handed out
		})
	})
	laptop, phone := h.client(), h.client()
	laptop.signup("/auth", "ann@example.com")
	r := phone.do("POST", "/auth/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}})
	if r.status != 303 {
		t.Fatalf("login: %d", r.status)
	}
	if r := phone.get2("/dash"); r.status != 200 || r.body != "true ann@example.com" {
		t.Fatalf("phone /dash: %d %q", r.status, r.body)
	}
	// Sign the others out from the laptop (confirmation may be asked: give the password).
	r = laptop.do("POST", "/auth/account/sessions/others/revoke", url.Values{"password": {testPassword}})
	if r.status >= 400 {
		t.Fatalf("revoke others: %d %.300s", r.status, r.body)
	}
	if r := phone.get2("/dash"); r.status != 303 || r.location() != "/auth/login?next=%2Fdash" {
		t.Fatalf("revoked phone /dash: %d %q %q", r.status, r.location(), r.body)
	}
	if r := laptop.get2("/dash"); r.status != 200 {
		t.Fatalf("laptop /dash: %d", r.status)
	}
}

// TestEmbeddedTrailingSlash: "/auth" and "/auth/" answer without a 5xx and stay under /auth.
func TestEmbeddedTrailingSlash(t *testing.T) {
	h := newHostApp(t, func(r *gin.Engine, a *handlers.App) {
		r.GET("/", func(c *gin.Context) { c.String(200, "host home") })
		a.Mount(r.Group("/auth"))
	})
	d := h.client()
	for _, p := range []string{"/auth", "/auth/", "/auth/login/", "/auth/account/security/", "/auth/static/", "/auth/static"} {
		r := d.get2(p)
		if r.status >= 500 {
			t.Errorf("%s: %d", p, r.status)
		}
		if l := r.location(); l != "" && !strings.HasPrefix(l, "/auth") {
			t.Errorf("%s: redirect outside /auth: %q", p, l)
		}
	}
}

// TestEmbeddedHostSessionLifecycle: Save when signed out is refused, values do not pass to
// the next person on the browser, and Options(MaxAge:-1)+Save signs the device out.
func TestEmbeddedHostSessionLifecycle(t *testing.T) {
	h := newHostApp(t, func(r *gin.Engine, a *handlers.App) {
		a.Mount(r.Group("/auth"))
		r.POST("/set", a.LoadUser, func(c *gin.Context) {
			s := ginsessions.Default(c)
			s.Set("k", c.PostForm("v"))
			if err := s.Save(); err != nil {
				c.String(403, "save: %v", err)
				return
			}
			c.String(200, "saved")
		})
		r.GET("/get", a.RequireUser, func(c *gin.Context) {
			v, _ := ginsessions.Default(c).Get("k").(string)
			c.String(200, "k=%s", v)
		})
		r.POST("/bye", a.RequireUser, func(c *gin.Context) {
			s := ginsessions.Default(c)
			s.Options(ginsessions.Options{MaxAge: -1})
			if err := s.Save(); err != nil {
				c.String(500, "save: %v", err)
				return
			}
			_, still := handlers.CurrentUser(c)
			c.String(200, "still=%v", still)
		})
	})
	d := h.client()
	if r := d.do("POST", "/set", url.Values{"v": {"anon"}}); r.status != 403 {
		t.Fatalf("signed-out Save: %d %q", r.status, r.body)
	}
	d.signup("/auth", "ann@example.com")
	if r := d.do("POST", "/set", url.Values{"v": {"ann's"}}); r.status != 200 {
		t.Fatalf("Save: %d %q", r.status, r.body)
	}
	if r := d.get2("/get"); r.body != "k=ann's" {
		t.Fatalf("get: %q", r.body)
	}
	if r := d.do("POST", "/auth/logout", url.Values{}); r.status != 303 {
		t.Fatalf("logout: %d", r.status)
	}
	d.signup("/auth", "bob@example.com")
	if r := d.get2("/get"); r.body != "k=" {
		t.Fatalf("bob sees ann's value: %q", r.body)
	}
	var bob int64
	if err := h.db.Read.QueryRow(`SELECT id FROM users WHERE email = 'bob@example.com'`).Scan(&bob); err != nil {
		t.Fatal(err)
	}
	changes, stop := h.db.Watch(bob)
	defer stop()
	if r := d.do("POST", "/bye", url.Values{}); r.status != 200 {
		t.Fatalf("bye: %d %q", r.status, r.body)
	} else if r.body != "still=false" {
		t.Errorf("after Options(MaxAge:-1)+Save, CurrentUser still says signed in in the same request: %q", r.body)
	}
	if r := d.get2("/get"); r.status != 303 {
		t.Fatalf("after MaxAge -1 sign-out, /get: %d %q", r.status, r.body)
	}
	// A sign-out through the store is logged, and bob's open pages hear of it at once.
	var kind string
	if err := h.db.Read.QueryRow(`SELECT kind FROM events WHERE user_id = ? ORDER BY id DESC LIMIT 1`, bob).Scan(&kind); err != nil || kind != "signed-out" {
		t.Errorf("the newest log entry after the host's sign-out: %q (%v), want signed-out", kind, err)
	}
	select {
	case <-changes:
	case <-time.After(5 * time.Second):
		t.Error("the host's sign-out was not announced to open pages")
	}
}

// TestEmbeddedLoopbackAlias: served at 127.0.0.1:port, a browser at localhost:port signs in.
func TestEmbeddedLoopbackAlias(t *testing.T) {
	h := newHostApp(t, func(r *gin.Engine, a *handlers.App) { a.Mount(r.Group("/auth")) })
	u, _ := url.Parse(h.srv.URL)
	alias := "localhost:" + u.Port()
	d := h.client()
	if r := d.get2("/auth/login", "Host", alias); r.status != 200 {
		t.Fatalf("GET login via %s: %d", alias, r.status)
	}
	r := d.do("POST", "/auth/signup", url.Values{"email": {"ann@example.com"}, "password": {testPassword}},
		"Host", alias, "Origin", "http://"+alias)
	if r.status != 303 {
		t.Fatalf("signup via %s: %d %.300s", alias, r.status, r.body)
	}
}

// TestEmbeddedSaveRacesSignOut: a host Save racing the device's own sign-out never
// answers 5xx nor brings the session back.
func TestEmbeddedSaveRacesSignOut(t *testing.T) {
	h := newHostApp(t, func(r *gin.Engine, a *handlers.App) {
		a.Mount(r.Group("/auth"))
		r.POST("/set", a.RequireUser, func(c *gin.Context) {
			s := ginsessions.Default(c)
			s.Set("k", "v")
			if err := s.Save(); err != nil {
				c.String(500, "save: %v", err)
				return
			}
			c.String(200, "saved")
		})
		r.GET("/get", a.RequireUser, func(c *gin.Context) { c.String(200, "in") })
	})
	for i := 0; i < 10; i++ {
		d := h.client()
		d.signup("/auth", "u"+string(rune('a'+i))+"@example.com")
		hu, _ := url.Parse(h.srv.URL)
		var old string
		for _, c := range d.c.Jar.Cookies(hu) {
			old += c.Name + "=" + c.Value + "; "
		}
		done := make(chan response, 2)
		go func() { done <- d.do("POST", "/set", url.Values{}) }()
		go func() { done <- d.do("POST", "/auth/logout", url.Values{}) }()
		for j := 0; j < 2; j++ {
			if r := <-done; r.status >= 500 {
				t.Fatalf("round %d: %d %q", i, r.status, r.body)
			}
		}
		if r := h.client().get2("/get", "Cookie", old); r.status != 303 {
			t.Fatalf("round %d: signed-out device's old cookie accepted: %d", i, r.status)
		}
	}
}

// TestCurrentUserAfterAHostRestoresItsContext: a host's tracing middleware that puts its
// saved request context back after the chain (as otelgin-style middleware does) does not
// hide who was signed in from the host's outer access log.
func TestCurrentUserAfterAHostRestoresItsContext(t *testing.T) {
	var logged string
	h := newHostApp(t, func(r *gin.Engine, a *handlers.App) {
		r.Use(func(c *gin.Context) { // the host's access log, outermost
			c.Next()
			if u, ok := handlers.CurrentUser(c); ok {
				logged = u.Email
			} else {
				logged = "(nobody)"
			}
		})
		r.Use(func(c *gin.Context) { // tracing: restores the context it saw
			saved := c.Request.Context()
			c.Next()
			c.Request = c.Request.WithContext(saved)
		})
		a.Mount(r.Group("/auth"))
		r.GET("/dash", a.RequireUser, func(c *gin.Context) {
			u, _ := handlers.CurrentUser(c)
			c.String(200, "dash %s", u.Email)
		})
	})
	d := h.client()
	d.signup("/auth", "ann@example.com")
	if r := d.get2("/dash"); r.body != "dash ann@example.com" {
		t.Fatalf("GET /dash: %d %q", r.status, r.body)
	}
	if logged != "ann@example.com" {
		t.Errorf("the host's access log saw %q after its tracing put the context back", logged)
	}
}
