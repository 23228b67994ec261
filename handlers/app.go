// Package handlers turns HTTP requests into model calls and templ views: the routes,
// the middleware, and the database-backed session store.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	ginsessions "github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/models/mailer"
	"github.com/elsewhere-dev/elsewhere/static"
	"github.com/elsewhere-dev/elsewhere/views"
)

// Config is how the app behaves; main.go fills it from flags, an embedding app from code.
type Config struct {
	BaseURL       string        // public URL, required; https turns on Secure cookies and HSTS
	IdleTimeout   time.Duration // session lifetime without activity (default 2h)
	SessionMaxAge time.Duration // lifetime after sign-in without "remember me", however active (default 24h; negative: none)
	RememberFor   time.Duration // lifetime for "remember me" devices (default 720h)
	MaxSessions   int           // signed-in devices per account (default 50; negative: no cap)
	ConfirmWindow time.Duration // how long a confirmed password is remembered (0: always ask)
	RefreshEvery  time.Duration // how often an open Security page refreshes its list (0: the page's default, 15s)
	SignupOpen    bool
	// SweepEvery is how often expired sessions and old rows are deleted, by a goroutine
	// that New starts and the context given to New stops (default 10m; negative: never,
	// for a caller that runs Sweep itself).
	SweepEvery    time.Duration
	SingleSession bool               // sign other devices out at each sign-in
	StampSecret   []byte             // key for password stamps; generated and kept in the database when nil
	HashParams    *models.HashParams // argon2id cost; nil means models.DefaultHashParams()
	Limits        *models.Limits     // rate limits; nil means models.DefaultLimits()
	Logger        *slog.Logger
	Now           models.Clock // nil means time.Now
	// Layout wraps every page; nil uses Elsewhere's own. An embedding app passes its own
	// to put the Security page inside its chrome.
	Layout func(p views.Page, body templ.Component) templ.Component
	// OnEvent is told of every security event after it is recorded (for notifications), in
	// the order they happened. It runs off the request, on a goroutine of its own: a slow
	// or panicking hook cannot change or hold up an answer (a panic is logged). While it
	// lags more than 1,024 events behind, further events are logged and dropped.
	OnEvent func(models.Event)

	// Mailer sends the mails: new sign-in and change alerts with a "This wasn't me"
	// link, and password reset. nil turns mail off, and the pages say nothing of it.
	// main.go makes an SMTP one from -smtp-url; an embedding app may bring its own.
	Mailer mailer.Sender
	// MailFrom is the mails' sender (default "Elsewhere <no-reply@HOST>", HOST the base URL's).
	MailFrom string
	// AlertQuiet is how long an account's changes must have stopped before their alert
	// goes, so a burst is one mail (default 30s); AlertMaxWait bounds the wait (default 5m).
	AlertQuiet, AlertMaxWait time.Duration
	// MailEvery is how often the outbox is looked at (default 2s).
	MailEvery time.Duration
	// Places names the place of an address ("Berlin, Germany") on the device list, in the
	// log and in alerts; nil shows none. main.go makes one from -geoip. It must name an
	// address the same way for as long as the app runs: the Security page, once drawn, is
	// sent again as it is while nothing is committed.
	Places interface{ Place(ip string) string }
	// BoundCookieAge is the lifetime of a device-bound session's bound cookie (DBSC): a
	// copy of the session cookie taken off a bound device stops working within it
	// (default 10m; at least 10s; negative: sessions are not offered binding).
	BoundCookieAge time.Duration
	// TrustedProxies are the reverse proxies (CIDRs or addresses) whose X-Forwarded-Host
	// and X-Forwarded-Proto are believed when checking that a request is for BaseURL.
	// Handler sets them for `elsewhere serve`; an embedding app gives the same list here
	// and to its engine's SetTrustedProxies (for X-Forwarded-For).
	TrustedProxies []string
	// Metrics is where the app registers its metrics for operators (sign-ins, revocations,
	// mail, request latency by route, database errors); nil counts nothing. Pass a
	// registry of the app's own, served on a listener that is not public: `elsewhere
	// serve` does so on -metrics-addr.
	Metrics prometheus.Registerer
	// RefusedPause is how long an answer that a sign-in limit refused is held before it
	// leaves (default 1s; negative: none), so that a client guessing against a locked
	// account in a loop costs the server one cheap answer a second per connection,
	// not one for every request it can send (see refused.go).
	RefusedPause time.Duration
}

// MinBoundCookieAge is the shortest bound-cookie lifetime taken.
const MinBoundCookieAge = 10 * time.Second

// App holds every dependency of the handlers, built once by New.
type App struct {
	cfg         Config
	secure      bool
	log         *slog.Logger
	now         models.Clock
	db          *db.DB
	hasher      *models.Hasher
	users       *models.Users
	sessions    *models.Sessions
	events      *models.Events
	limits      *models.Limiter
	confirms    *models.Confirmations
	passkeys    *models.Passkeys
	hooks       hookQueue // events on their way to cfg.OnEvent
	host        string    // the base URL's host, lower-cased, with its port
	store       *SessionStore
	sessionMW   gin.HandlerFunc // the gin-contrib session middleware over store
	cookieName  string
	base        string // the path Mount's group sits at, "" at the site's root
	cop         *http.CrossOriginProtection
	assets      views.Assets
	versions    map[string]string // each static asset's content hash: its URL version and ETag
	bufs        sync.Pool         // *bytes.Buffer that pages are rendered into
	pages       *pageCache        // the Security page as last drawn for each viewer
	keyBufs     sync.Pool         // *[]byte that the page's keys are written into
	compressing bool              // answers pass through compression (Handler)
	live        liveStreams
	held        chan struct{} // a slot for each refused answer being held (refused.go)
	metrics     *metrics      // nil without Config.Metrics
	mail        *models.Mail
	eventsRoute string // the live stream's route under the mount point, set by Mount
	deviceName  string // the device cookie's name
	devices     *models.DeviceCookies
	keys        *models.SessionKeys  // device keys sessions are bound to (DBSC)
	bound       *models.BoundCookies // bound cookies' values
	boundName   string               // the bound cookie's name
	// registerRoute and refreshRoute are the DBSC endpoints' routes, set by Mount.
	registerRoute, refreshRoute string
	origin                      string // the base URL's scheme and host: every path the app emits goes after it
	proxies                     []netip.Prefix
	misdirected                 struct { // when each refused address was last logged
		mu   sync.Mutex
		last map[string]time.Time
	}
}

// parseProxies reads trusted proxies given as CIDRs or single addresses.
func parseProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: want a CIDR such as 10.0.0.0/8 or an address", s)
		}
		out = append(out, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
	}
	return out, nil
}

// checkBasePath refuses a base URL the app could not be served at: one with a user, a
// query or a fragment (no request carries them), or a path that is not a plain clean one
// ("/sub", "/apps/elsewhere"), since every URL the app emits is that path and its own.
func checkBasePath(base *url.URL) error {
	switch {
	case base.User != nil:
		return errors.New("a user name has no place in it (browsers would not send it)")
	case base.RawQuery != "" || base.ForceQuery:
		return errors.New("a query has no place in it; want http(s)://host[:port][/path]")
	case base.Fragment != "":
		return errors.New("a fragment has no place in it; want http(s)://host[:port][/path]")
	case base.Opaque != "":
		return errors.New("want http(s)://host[:port][/path]")
	}
	p := strings.TrimSuffix(base.Path, "/")
	if p == "" {
		return nil
	}
	if base.RawPath != "" || path.Clean(p) != p || strings.ContainsAny(p, ":*?#% \\") {
		return fmt.Errorf("path %q: want a plain path such as /elsewhere (letters, digits, - _ . ~ /; no escapes, no . or .. segments)", base.Path)
	}
	return nil
}

// BasePath is the path of the base URL ("" for none, else "/sub"): the binary mounts the
// app there; an embedding app mounts it on a group with the same path.
func (cfg Config) BasePath() string {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(u.Path, "/")
}

// New builds the app over an open, migrated database.
func New(ctx context.Context, d *db.DB, cfg Config) (*App, error) {
	cfg, base, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, secure: base.Scheme == "https", log: cfg.Logger, now: cfg.Now, db: d,
		host: canonicalHost(base.Scheme, base.Host), live: liveStreams{closing: make(chan struct{})},
		pages: newPageCache(pageCacheBytes), held: make(chan struct{}, maxHeld)}
	a.origin = base.Scheme + "://" + base.Host
	if a.proxies, err = parseProxies(cfg.TrustedProxies); err != nil {
		return nil, err
	}
	if a.hasher, err = models.NewHasher(*cfg.HashParams, runtime.NumCPU()); err != nil {
		return nil, err
	}
	secret, err := models.StampSecret(ctx, d, cfg.StampSecret)
	if err != nil {
		return nil, err
	}
	a.users = models.NewUsers(d, a.hasher, a.now)
	a.devices = models.NewDeviceCookies(secret)
	a.keys = models.NewSessionKeys(d, a.now)
	a.bound = models.NewBoundCookies(secret)
	a.sessions = models.NewSessions(d, secret,
		models.Lifetimes{Idle: cfg.IdleTimeout, MaxAge: cfg.SessionMaxAge, Remember: cfg.RememberFor}, cfg.MaxSessions, a.now)
	a.events = models.NewEvents(d, a.now)
	a.mail = models.NewMail(d, a.now)
	a.limits = models.NewLimiter(d, a.now)
	// Passkeys belong to the base URL's host (the relying party id) and are made and used
	// at its origin, whatever path the app is mounted under.
	// WebAuthn has no relying party for an IP address: reached by one, the app offers
	// no passkeys and everything else works.
	if _, err := netip.ParseAddr(strings.Trim(base.Hostname(), "[]")); err == nil {
		a.log.Info("passkeys are off: the base URL names an IP address, not a domain", "base_url", cfg.BaseURL)
	} else if a.passkeys, err = models.NewPasskeys(d, models.RelyingParty{ID: base.Hostname(), Origin: a.origin, Name: "Elsewhere"},
		secret, a.now); err != nil {
		return nil, err
	}
	a.confirms = models.NewConfirmations(d, a.users, a.limits, a.cfg.Limits.Confirm, a.now)
	if a.metrics, err = newMetrics(cfg.Metrics, a); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	a.cookieName, a.deviceName, a.boundName = "elsewhere_session", "elsewhere_device", "elsewhere_bound"
	if a.secure {
		a.cookieName, a.deviceName, a.boundName = "__Host-"+a.cookieName, "__Host-"+a.deviceName, "__Host-"+a.boundName
	}
	a.store = &SessionStore{rows: a.sessions, cookie: a.cookie, emit: a.emit}
	a.sessionMW = ginsessions.Sessions("elsewhere", a.store)

	a.cop = http.NewCrossOriginProtection()
	if err := a.cop.AddTrustedOrigin(base.Scheme + "://" + base.Host); err != nil {
		return nil, fmt.Errorf("base URL origin: %w", err)
	}

	if a.versions, err = static.Versions(); err != nil {
		return nil, fmt.Errorf("static assets: %w", err)
	}
	a.assets = func(name string) string { return a.path("/static/" + name + "?v=" + a.versions[name]) }
	if cfg.SweepEvery > 0 {
		go a.runSweeper(ctx, cfg.SweepEvery)
	}
	if cfg.Mailer != nil {
		go a.runMail(ctx)
	}
	// Live streams end with the app's context too (a host that stops the app that way).
	context.AfterFunc(ctx, a.CloseStreams)
	return a, nil
}

// withDefaults fills in every setting left at its zero value and checks the base URL,
// which it returns parsed.
func (cfg Config) withDefaults() (Config, *url.URL, error) {
	if cfg.BaseURL == "" {
		return cfg, nil, errors.New("base URL: required (the public URL people reach the app at, such as https://app.example)")
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return cfg, nil, fmt.Errorf("base URL %q: want http(s)://host[:port][/path]", cfg.BaseURL)
	}
	if err := checkBasePath(base); err != nil {
		return cfg, nil, fmt.Errorf("base URL %q: %w", cfg.BaseURL, err)
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 2 * time.Hour
	}
	if cfg.RememberFor <= 0 {
		cfg.RememberFor = 30 * 24 * time.Hour
	}
	switch {
	case cfg.SessionMaxAge == 0:
		cfg.SessionMaxAge = 24 * time.Hour
	case cfg.SessionMaxAge < 0:
		cfg.SessionMaxAge = 0
	}
	switch {
	case cfg.MaxSessions == 0:
		cfg.MaxSessions = 50
	case cfg.MaxSessions < 0:
		cfg.MaxSessions = 0
	}
	cfg.ConfirmWindow = max(cfg.ConfirmWindow, 0)
	if cfg.SweepEvery == 0 {
		cfg.SweepEvery = 10 * time.Minute
	}
	if cfg.Limits == nil {
		l := models.DefaultLimits()
		cfg.Limits = &l
	}
	if cfg.HashParams == nil {
		p := models.DefaultHashParams()
		cfg.HashParams = &p
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MailFrom == "" {
		cfg.MailFrom = "Elsewhere <no-reply@" + base.Hostname() + ">"
	}
	if err := mailer.CheckFrom(cfg.MailFrom); err != nil {
		return Config{}, nil, err
	}
	if cfg.AlertQuiet <= 0 {
		cfg.AlertQuiet = 30 * time.Second
	}
	if cfg.AlertMaxWait <= 0 {
		cfg.AlertMaxWait = 5 * time.Minute
	}
	if cfg.MailEvery <= 0 {
		cfg.MailEvery = 2 * time.Second
	}
	if cfg.RefusedPause == 0 {
		cfg.RefusedPause = time.Second
	}
	switch {
	case cfg.BoundCookieAge == 0:
		cfg.BoundCookieAge = 10 * time.Minute
	case cfg.BoundCookieAge > 0 && cfg.BoundCookieAge < MinBoundCookieAge:
		return Config{}, nil, fmt.Errorf("bound cookie age %s: want at least %s", cfg.BoundCookieAge, MinBoundCookieAge)
	}
	return cfg, base, nil
}

// path is the site path p ("/login") under the mount point.
func (a *App) path(p string) string { return a.base + p }

// Users gives an embedding app (and the CLI) the account store.
func (a *App) Users() *models.Users { return a.users }

// Sessions gives an embedding app (and the CLI) the session store.
func (a *App) Sessions() *models.Sessions { return a.sessions }

// Hasher is the password hasher the app uses.
func (a *App) Hasher() *models.Hasher { return a.hasher }

// Mount registers Elsewhere's routes and middleware on r, a gin engine or a group: every
// route, and every URL Elsewhere emits (links, forms, redirects, htmx, assets), sits under
// r's base path, and the middleware applies only to these routes, so a host app's own
// routes are untouched. The session cookie stays at the site's root, so RequireUser and
// CurrentUser work on the host's routes. Mount once per App. Client addresses are taken
// from gin's ClientIP, so the host engine must set its trusted proxies
// (engine.SetTrustedProxies): gin's default believes X-Forwarded-For from anyone, which
// would let a client pick the address its sign-in failures are counted against.
func (a *App) Mount(r gin.IRouter) {
	if bp, ok := r.(interface{ BasePath() string }); ok {
		a.base = strings.TrimSuffix(bp.BasePath(), "/")
	}
	if want := a.cfg.BasePath(); want != "" && want != a.base {
		a.log.Error("mount: the base URL has a path the routes are not under: links in mails will not work",
			"base_url", a.cfg.BaseURL, "mounted_at", a.path("/"))
	}
	a.eventsRoute = a.path("/account/events")
	a.registerRoute, a.refreshRoute = a.path(dbscRegisterPath), a.path(dbscRefreshPath)
	// Probes may ask for /healthz by any name; everything else answers only to the base
	// URL's host.
	r.GET("/healthz", a.observe, a.requestID, a.recoverPanic, a.securityHeaders, a.healthz)
	r.GET("/readyz", a.observe, a.requestID, a.recoverPanic, a.securityHeaders, a.readyz)
	g := r.Group("/", a.observe, a.requestID, a.recoverPanic, a.securityHeaders, a.checkHost, a.limitBody, a.crossOrigin,
		a.loadSession, a.sessionMW)
	g.GET("/static/*filepath", a.static)
	a.routeHome(g)
	g.GET("/signup", a.signupPage)
	g.POST("/signup", a.signup)
	g.GET("/login", a.loginPage)
	g.POST("/login", a.login)
	g.POST("/logout", a.logout)
	g.POST("/login/passkey/options", a.passkeysOn, a.passkeySignInOptions)
	g.POST("/login/passkey", a.passkeysOn, a.passkeySignIn)
	if a.cfg.BoundCookieAge > 0 {
		g.POST(dbscRegisterPath, a.registerKey)
		g.POST(dbscRefreshPath, a.refreshKey)
	}

	acct := g.Group("/account", a.requireUser)
	acct.GET("/security", a.securityPage)
	acct.GET("/events", a.liveStream)
	acct.POST("/sessions/others/revoke", a.revokeOthers)
	acct.GET("/sessions/:id/revoke", a.confirmPage(views.RevokeConfirmation)) // without JavaScript
	acct.POST("/sessions/:id/revoke", a.revokeOne)
	acct.GET("/sessions/:id/lost", a.confirmPage(views.LostConfirmation)) // without JavaScript
	acct.POST("/sessions/:id/lost", a.reportLost)
	acct.GET("/sessions/:id/name", a.namePage) // without JavaScript
	acct.POST("/sessions/:id/name", a.nameDevice)
	acct.POST("/password", a.changePassword)
	acct.POST("/passkeys/confirm-options", a.passkeysOn, a.passkeyConfirmOptions)
	acct.POST("/passkeys/new", a.passkeysOn, a.passkeyAddOptions)
	acct.POST("/passkeys", a.passkeysOn, a.addPasskey)
	acct.GET("/passkeys/:id/remove", a.passkeysOn, a.removePasskeyPage) // the confirmation, as a page
	acct.POST("/passkeys/:id/remove", a.passkeysOn, a.removePasskey)
	acct.GET("/passkeys/:id/name", a.passkeysOn, a.renamePasskeyPage)
	acct.POST("/passkeys/:id/name", a.passkeysOn, a.renamePasskey)
	if a.cfg.Mailer != nil {
		// The mailed links' pages: the token comes in the body (from the URL fragment, by
		// the page's script) or as the mail's code, typed; never in the request line.
		g.GET("/account/not-me", a.notMePage)
		g.POST("/account/not-me", a.notMe)
		g.GET("/password/reset", a.resetPage)
		g.POST("/password/reset", a.reset)
		// Links mailed before, with the token in the path, work until they expire.
		g.GET("/account/not-me/:token", a.notMePage)
		g.POST("/account/not-me/:token", a.notMe)
		g.GET("/password/forgot", a.forgotPage)
		g.POST("/password/forgot", a.forgot)
		g.GET("/password/reset/:token", a.resetPage)
		g.POST("/password/reset/:token", a.reset)
	}
}

// routeHome gives Elsewhere a start page at the mount point unless the host registered
// one there first. Gin shows a group no routes, so the host's is found by gin refusing the
// second registration, which it does before changing its route tree.
func (a *App) routeHome(g *gin.RouterGroup) {
	defer func() {
		if v := recover(); v != nil {
			a.log.Info("the host app has its own start page at the mount point; Elsewhere's is not routed",
				"path", a.path("/"), "gin", v)
		}
	}()
	g.GET("/", a.home)
}

// Handler returns a complete http.Handler serving only Elsewhere, as `elsewhere serve` does.
func (a *App) Handler(trustedProxies []string) (http.Handler, error) {
	r := gin.New()
	r.ContextWithFallback = true
	if err := r.SetTrustedProxies(trustedProxies); err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	if a.cfg.TrustedProxies == nil {
		p, err := parseProxies(trustedProxies)
		if err != nil {
			return nil, err
		}
		a.proxies = p
	}
	r.HandleMethodNotAllowed = true
	// A base URL with a path ("https://host/elsewhere") serves the whole app under it.
	if bp := a.cfg.BasePath(); bp != "" {
		a.Mount(r.Group(bp))
	} else {
		a.Mount(r)
	}
	r.NoRoute(a.observe, a.requestID, a.securityHeaders, func(c *gin.Context) {
		a.renderError(c, http.StatusNotFound, views.TitleNotFound, views.TextNotFound)
	})
	r.NoMethod(a.observe, a.requestID, a.securityHeaders, func(c *gin.Context) {
		a.renderError(c, http.StatusMethodNotAllowed, views.TitleMethodNotAllowed, views.TextMethodNotAllowed)
	})
	return a.compression(r)
}

// Sweep deletes ended sessions (under the current lifetimes), signs out sessions of
// accounts over the cap, and deletes old security events and stale rate-limit rows.
func (a *App) Sweep(ctx context.Context) error {
	n, evs, err1 := a.sessions.Sweep(ctx)
	for _, ev := range evs {
		a.emit(ev)
	}
	a.metrics.expired(int(n) - len(evs)) // the rest were over the cap, counted by their events
	_, err2 := a.events.Sweep(ctx)
	err3 := a.limits.Sweep(ctx, time.Hour)
	err4 := a.mail.SweepMail(ctx, models.EventRetention)
	err5 := a.keys.SweepChallenges(ctx)
	var err6 error
	if a.passkeys != nil {
		err6 = a.passkeys.SweepChallenges(ctx)
	}
	return errors.Join(err1, err2, err3, err4, err5, err6)
}

// runSweeper sweeps every interval, the first time one interval after it starts, until
// ctx ends.
func (a *App) runSweeper(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := a.Sweep(ctx); err != nil && ctx.Err() == nil {
			a.metrics.dbError(err)
			a.log.Error("sweep", "err", err)
		}
	}
}

// healthz is GET /healthz, the liveness probe: the process answers requests. It asks
// nothing of the database, so a database outage does not get every app server restarted;
// /readyz says whether to send it traffic.
func (a *App) healthz(c *gin.Context) {
	c.String(http.StatusOK, "ok\n")
}

// readyz is GET /readyz, the readiness probe: 200 when both database pools answer a real
// query (and on PostgreSQL the change feed listens), 503 with the reason otherwise, and
// 503 once shutdown began so the load balancer moves on.
func (a *App) readyz(c *gin.Context) {
	select {
	case <-a.live.closing:
		c.String(http.StatusServiceUnavailable, "shutting down\n")
		return
	default:
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := a.db.Ready(ctx); err != nil {
		a.metrics.dbError(err)
		a.log.Error("readyz", "err", err, "request_id", requestIDOf(c))
		c.String(http.StatusServiceUnavailable, "database unavailable: %s\n", readyReason(err))
		return
	}
	c.String(http.StatusOK, "ready\n")
}

// readyReason is the part of the database that failed, for the probe's answer: the whole
// error, which may name the server's address or file, goes to the log only.
func readyReason(err error) string {
	msg := err.Error()
	for _, part := range []string{"read pool", "write pool", "change feed"} {
		if strings.HasPrefix(msg, part) {
			return part
		}
	}
	return "error"
}
