// Command elsewhere serves the Elsewhere account-security dashboard.
//
//	elsewhere [serve]            serve the app (the default)
//
// Flags may stand before or after the command (elsewhere serve -addr :9000).
//
//	elsewhere user add EMAIL     create an account; the password is read from standard input
//	                             (not echoed on a terminal)
//	elsewhere sessions list EMAIL    list the devices signed in to an account
//	elsewhere sessions revoke EMAIL  sign every device of an account out
//	elsewhere sessions prune     delete expired sessions and old security events
//	elsewhere version            print the version
//
// Every flag also reads an environment variable: -addr is ELSEWHERE_ADDR, and so on.
package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/term"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/models/geo"
	"github.com/elsewhere-dev/elsewhere/models/mailer"
	"github.com/elsewhere-dev/elsewhere/views"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// config is everything read from flags and the environment, once, at start.
type config struct {
	Addr           string
	DB             string
	BaseURL        string
	TrustedProxies string
	SessionIdle    time.Duration
	SessionMaxAge  time.Duration
	RememberFor    time.Duration
	MaxSessions    int
	ConfirmWindow  time.Duration
	Signup         bool
	SingleSession  bool
	Secret         string
	SecretFile     string
	SMTPURL        string
	MailFrom       string
	GeoIP          string
	BoundCookieAge time.Duration
	MetricsAddr    string
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "elsewhere:", err)
		os.Exit(1)
	}
}

// run parses the command line and runs one command; it is main without the exit.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("elsewhere", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.StringVar(&cfg.Addr, "addr", ":8080", "listen address")
	fs.StringVar(&cfg.DB, "db", "elsewhere.db", "SQLite database file (created and migrated on start), or a postgres:// URL for several app servers")
	fs.StringVar(&cfg.BaseURL, "base-url", "http://localhost:8080", "public URL; https turns on Secure cookies and HSTS")
	fs.StringVar(&cfg.TrustedProxies, "trusted-proxies", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For, X-Forwarded-Host and X-Forwarded-Proto are believed")
	durationVar(fs, &cfg.SessionIdle, "session-idle", 2*time.Hour, "session lifetime without activity")
	durationVar(fs, &cfg.SessionMaxAge, "session-max-age", 24*time.Hour, "lifetime of a session without \"remember me\" after sign-in, however active (0: none)")
	fs.IntVar(&cfg.MaxSessions, "max-sessions", 50, "signed-in devices per account; a sign-in beyond it signs the least recently active out (0: no cap)")
	durationVar(fs, &cfg.RememberFor, "remember-for", 720*time.Hour, "lifetime of a \"remember me\" session")
	durationVar(fs, &cfg.ConfirmWindow, "confirm-window", 15*time.Minute, "how long a confirmed password is remembered (0: always ask)")
	fs.BoolVar(&cfg.Signup, "signup", true, "whether /signup is open")
	fs.BoolVar(&cfg.SingleSession, "single-session", false, "sign other devices out at each sign-in")
	fs.StringVar(&cfg.Secret, "secret", "", "hex key (32+ bytes) for password stamps; generated and kept in the database when empty. "+
		"Give it as ELSEWHERE_SECRET or -secret-file: on the command line it shows in the process list")
	fs.StringVar(&cfg.SecretFile, "secret-file", "", "file holding the hex key for password stamps (instead of -secret)")
	fs.StringVar(&cfg.SMTPURL, "smtp-url", "", "smtp://[user:pass@]host:port (STARTTLS when offered) or smtps://...; turns on new sign-in alerts and password reset by mail. "+
		"With a password, give it as ELSEWHERE_SMTP_URL: on the command line it shows in the process list")
	fs.StringVar(&cfg.MailFrom, "mail-from", "", "sender of the mails (default Elsewhere <no-reply@HOST>, HOST the base URL's)")
	fs.StringVar(&cfg.GeoIP, "geoip", "", "a MaxMind or DB-IP .mmdb file (City or Country); device rows, the log and alerts then show the place")
	fs.DurationVar(&cfg.BoundCookieAge, "bound-cookie-age", 10*time.Minute, "lifetime of the bound cookie of a device-bound session (DBSC): "+
		"a copy of the session cookie taken off a bound device stops working within it (at least 10s)")
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", "", "listen address of the Prometheus metrics (/metrics), apart from -addr so they are never public by accident; "+
		"keep it on a private interface (127.0.0.1:9090). Empty: no metrics")
	fs.Usage = func() { usage(stderr, fs) }
	if err := envDefaults(fs, os.LookupEnv); err != nil {
		return err
	}
	cmd, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) || (err == nil && len(cmd) > 0 && cmd[0] == "help") {
		usage(stdout, fs) // asked for: on standard output, and no failure
		return nil
	}
	if err != nil {
		return err
	}
	if len(cmd) == 0 {
		cmd = []string{"serve"}
	}
	if cfg.BoundCookieAge < handlers.MinBoundCookieAge {
		return fmt.Errorf("-bound-cookie-age %s: want at least %s", cfg.BoundCookieAge, handlers.MinBoundCookieAge)
	}
	if cfg.SessionIdle < minSessionIdle {
		return fmt.Errorf("-session-idle %s: want at least %s (activity is recorded at most once a minute, so a shorter one signs active people out)",
			cfg.SessionIdle, minSessionIdle)
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if _, env := os.LookupEnv("ELSEWHERE_BASE_URL"); !given["base-url"] && !env {
		cfg.BaseURL = defaultBaseURL(cfg.Addr)
	}
	if given["secret"] {
		logger.Warn("-secret on the command line is visible to every user of this machine in the process list; give it as ELSEWHERE_SECRET or -secret-file")
	}
	if given["smtp-url"] && strings.Contains(cfg.SMTPURL, "@") {
		logger.Warn("-smtp-url with a password on the command line is visible to every user of this machine in the process list; give it as ELSEWHERE_SMTP_URL")
	}

	for _, c := range commands {
		if !c.matches(cmd) {
			continue
		}
		if len(cmd) != len(c.words)+len(c.args) {
			return fmt.Errorf("usage: elsewhere %s", c.usage())
		}
		return c.run(ctx, runEnv{cfg: cfg, logger: logger, args: cmd[len(c.words):], stdin: stdin, stdout: stdout})
	}
	var forms []string // "sessions" alone: say which commands start so
	for _, c := range commands {
		if c.words[0] == cmd[0] {
			forms = append(forms, "elsewhere "+c.usage())
		}
	}
	if len(forms) > 0 {
		return fmt.Errorf("usage: %s", strings.Join(forms, " | "))
	}
	return fmt.Errorf("unknown command %q; run elsewhere help for the commands", strings.Join(cmd, " "))
}

// minSessionIdle is the shortest -session-idle: last activity is written at most once a
// minute, so an idle limit near that would sign out people who are using the app.
const minSessionIdle = 5 * time.Minute

// runEnv is what a command runs with.
type runEnv struct {
	cfg    config
	logger *slog.Logger
	args   []string // the command's arguments (EMAIL)
	stdin  io.Reader
	stdout io.Writer
}

// command is one of elsewhere's commands: its words, its arguments, what it does.
type command struct {
	words []string
	args  []string
	help  string
	run   func(ctx context.Context, e runEnv) error
}

func (c command) usage() string {
	return strings.Join(append(append([]string{}, c.words...), c.args...), " ")
}

// matches reports whether cmd names c (with or without its arguments).
func (c command) matches(cmd []string) bool {
	if len(cmd) < len(c.words) {
		return false
	}
	for i, w := range c.words {
		if cmd[i] != w {
			return false
		}
	}
	return true
}

// commands are every command, in the order help lists them.
var commands = []command{
	{words: []string{"serve"}, help: "serve the app (the default)", run: func(ctx context.Context, e runEnv) error {
		return serve(ctx, e.cfg, e.logger)
	}},
	{words: []string{"user", "add"}, args: []string{"EMAIL"}, help: "create an account; the password is read from standard input (not echoed on a terminal)",
		run: func(ctx context.Context, e runEnv) error {
			return withApp(ctx, e.cfg, e.logger, false, nil, func(app *handlers.App) error { return addUser(ctx, app, e.args[0], e.stdin, e.stdout) })
		}},
	{words: []string{"sessions", "list"}, args: []string{"EMAIL"}, help: "list the devices signed in to an account",
		run: func(ctx context.Context, e runEnv) error {
			return withApp(ctx, e.cfg, e.logger, false, nil, func(app *handlers.App) error { return listSessions(ctx, app, e.args[0], e.stdout) })
		}},
	{words: []string{"sessions", "revoke"}, args: []string{"EMAIL"}, help: "sign every device of an account out",
		run: func(ctx context.Context, e runEnv) error {
			return withApp(ctx, e.cfg, e.logger, false, nil, func(app *handlers.App) error { return revokeSessions(ctx, app, e.args[0], e.stdout) })
		}},
	{words: []string{"sessions", "prune"}, help: "delete expired sessions and old security events",
		run: func(ctx context.Context, e runEnv) error {
			return withApp(ctx, e.cfg, e.logger, false, nil, func(app *handlers.App) error {
				if err := app.Sweep(ctx); err != nil {
					return err
				}
				fmt.Fprintln(e.stdout, "pruned expired sessions and old events")
				return nil
			})
		}},
	{words: []string{"version"}, help: "print the version (from the build's VCS information)", run: func(_ context.Context, e runEnv) error {
		fmt.Fprintln(e.stdout, "elsewhere", buildVersion())
		return nil
	}},
	{words: []string{"help"}, help: "print this help (also -h)"},
}

// usage writes every command and every flag with its environment variable.
func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "Usage: elsewhere [flags] [command] [flags]")
	fmt.Fprintln(w, "\nCommands:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.usage(), c.help)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nFlags (each also read from ELSEWHERE_<NAME>, -addr from ELSEWHERE_ADDR):")
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// buildVersion is the -ldflags version, else the module version, else the VCS revision
// the binary was built from (with its time, and "-dirty" for uncommitted changes).
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	return versionFrom(version, bi, ok)
}

// versionFrom is buildVersion over the given build information.
func versionFrom(version string, bi *debug.BuildInfo, ok bool) string {
	if version != "dev" {
		return version
	}
	if !ok {
		return version
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, at, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return version + " (built without VCS information)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return strings.TrimSpace(rev + dirty + " " + at)
}

// durationFlag is a duration flag whose error says what a duration looks like.
type durationFlag struct{ d *time.Duration }

func durationVar(fs *flag.FlagSet, d *time.Duration, name string, value time.Duration, help string) {
	*d = value
	fs.Var(durationFlag{d}, name, help+"; a `duration` such as 30m or 2h")
}

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("want a duration such as 30m or 2h")
	}
	*f.d = d
	return nil
}

// parseArgs parses flags wherever they stand, before the command, after it or between its
// words, and returns the command's words.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var cmd []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return cmd, nil
		}
		cmd, args = append(cmd, rest[0]), rest[1:]
	}
}

// defaultBaseURL is the URL a person reaches a server listening on addr at, on this
// machine, when no -base-url was given: http://localhost and addr's port.
func defaultBaseURL(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		port = "8080"
	}
	if port == "80" {
		return "http://localhost"
	}
	return "http://localhost:" + port
}

// envDefaults lets ELSEWHERE_<FLAG> set each flag's default; command-line flags still win.
func envDefaults(fs *flag.FlagSet, lookup func(string) (string, bool)) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		name := "ELSEWHERE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := lookup(name); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
			}
		}
	})
	return errors.Join(errs...)
}

// app builds the app; a server sweeps expired rows every ten minutes, a one-off command never.
func (cfg config) app(ctx context.Context, d *db.DB, logger *slog.Logger, serving bool, reg prometheus.Registerer) (*handlers.App, error) {
	secret, err := cfg.secret()
	if err != nil {
		return nil, err
	}
	maxSessions := cfg.MaxSessions
	if maxSessions == 0 {
		maxSessions = -1 // 0 on the command line means no cap; in Config it means the default
	}
	sweep := -time.Duration(1)
	if serving {
		sweep = 10 * time.Minute
	}
	maxAge := cfg.SessionMaxAge
	if maxAge == 0 {
		maxAge = -1
	}
	hc := handlers.Config{
		BaseURL: cfg.BaseURL, IdleTimeout: cfg.SessionIdle, RememberFor: cfg.RememberFor,
		SessionMaxAge: maxAge, MaxSessions: maxSessions, SweepEvery: sweep,
		ConfirmWindow: cfg.ConfirmWindow, SignupOpen: cfg.Signup, SingleSession: cfg.SingleSession,
		StampSecret: secret, Logger: logger, MailFrom: cfg.MailFrom, BoundCookieAge: cfg.BoundCookieAge,
		Metrics: reg,
	}
	// Mail goes out from the serving process only; a command run beside it (an operator's
	// sessions revoke, say) leaves its alerts in the database for the server to send.
	if serving && cfg.SMTPURL != "" {
		m, err := mailer.NewSMTP(cfg.SMTPURL)
		if err != nil {
			return nil, err
		}
		hc.Mailer = m
	}
	if serving && cfg.GeoIP != "" {
		places, err := geo.Open(cfg.GeoIP)
		if err != nil {
			return nil, err
		}
		hc.Places = places // open for the life of the process: requests still drain after ctx ends
	}
	return handlers.New(ctx, d, hc)
}

// secret is the stamp key from -secret or -secret-file, or nil for the database's own.
func (cfg config) secret() ([]byte, error) {
	text, from := cfg.Secret, "-secret"
	if cfg.SecretFile != "" {
		if cfg.Secret != "" {
			return nil, errors.New("give -secret or -secret-file, not both")
		}
		b, err := os.ReadFile(cfg.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("-secret-file: %w", err)
		}
		text, from = strings.TrimSpace(string(b)), "-secret-file"
	}
	if text == "" {
		return nil, nil
	}
	secret, err := hex.DecodeString(text)
	if err != nil {
		return nil, fmt.Errorf("%s: want hex: %w", from, err)
	}
	return secret, nil
}

func withApp(ctx context.Context, cfg config, logger *slog.Logger, serving bool, reg prometheus.Registerer, f func(*handlers.App) error) error {
	d, err := db.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer d.Close()
	app, err := cfg.app(ctx, d, logger, serving, reg)
	if err != nil {
		return err
	}
	return f(app)
}

func addUser(ctx context.Context, app *handlers.App, email string, stdin io.Reader, stdout io.Writer) error {
	norm, err := models.NormalizeEmail(email)
	if err != nil {
		return errors.New(views.Problem(err))
	}
	password, err := readPassword(stdin, stdout)
	if err != nil {
		return err
	}
	if err := models.CheckNewPassword(password); err != nil {
		return errors.New(views.Problem(err))
	}
	if _, err := app.Users().Create(ctx, norm, password); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "created", norm)
	return nil
}

// readPassword reads one line: from a terminal without echoing it, after a prompt; from a
// pipe as it comes.
func readPassword(stdin io.Reader, stdout io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stdout, "Password (not shown): ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stdout)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// account finds the account an operator named.
func account(ctx context.Context, app *handlers.App, email string) (models.User, error) {
	norm, err := models.NormalizeEmail(email)
	if err != nil {
		return models.User{}, errors.New(views.Problem(err))
	}
	u, err := app.Users().ByEmail(ctx, norm)
	if errors.Is(err, models.ErrNotFound) {
		return models.User{}, fmt.Errorf("no account with the email %s", norm)
	}
	return u, err
}

// listSessions prints the devices signed in to an account, most recently active first.
func listSessions(ctx context.Context, app *handlers.App, email string, stdout io.Writer) error {
	u, err := account(ctx, app, email)
	if err != nil {
		return err
	}
	list, err := app.Sessions().ListForUser(ctx, u.ID)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "DEVICE\tIP\tSIGNED IN\tLAST ACTIVE")
	for _, s := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.Device.Label(), s.IP,
			s.CreatedAt.Format(time.RFC3339), s.LastActiveAt.Format(time.RFC3339))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d signed in to %s\n", len(list), u.Email)
	return nil
}

// revokeSessions signs every device of an account out, for an owner who cannot: their
// only signed-in device was stolen, say. The owner's security log records it.
func revokeSessions(ctx context.Context, app *handlers.App, email string, stdout io.Writer) error {
	u, err := account(ctx, app, email)
	if err != nil {
		return err
	}
	n, _, err := app.Sessions().RevokeAll(ctx, u.ID, models.Actor{Device: "the elsewhere command"})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "signed out %d device(s) of %s; each is refused at its next request\n", n, u.Email)
	return nil
}

func serve(ctx context.Context, cfg config, logger *slog.Logger) error {
	release, err := db.LockServe(cfg.DB)
	if err != nil {
		return err
	}
	defer release()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The metrics go on a registry of their own, served on a listener of their own.
	var reg *prometheus.Registry
	if cfg.MetricsAddr != "" {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return withApp(ctx, cfg, logger, true, registerer(reg), func(app *handlers.App) error { return serveApp(ctx, app, cfg, reg, logger) })
}

// registerer is reg as a Registerer, nil (no metrics) for none: a nil *Registry in the
// interface would not be nil.
func registerer(reg *prometheus.Registry) prometheus.Registerer {
	if reg == nil {
		return nil
	}
	return reg
}

// serveMetrics serves reg's metrics at /metrics on their own listener until ctx ends.
func serveMetrics(ctx context.Context, addr string, reg *prometheus.Registry, logger *slog.Logger) (<-chan error, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics: %w", err)
	}
	logger.Info("serving metrics", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	context.AfterFunc(ctx, func() { srv.Close() })
	return errc, nil
}

// serveApp serves until ctx ends, then drains in-flight requests.
func serveApp(ctx context.Context, app *handlers.App, cfg config, reg *prometheus.Registry, logger *slog.Logger) error {
	var proxies []string
	for _, p := range strings.Split(cfg.TrustedProxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			proxies = append(proxies, p)
		}
	}
	gin.SetMode(gin.ReleaseMode) // no debug route listing or warnings in production logs
	h, err := app.Handler(proxies)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr: cfg.Addr, Handler: h,
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second,
		IdleTimeout: 120 * time.Second, MaxHeaderBytes: 32 << 10,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	// Live streams never finish on their own: end them when shutdown begins, so it
	// completes and their browsers reconnect elsewhere.
	srv.RegisterOnShutdown(app.CloseStreams)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	logger.Info("serving", "addr", ln.Addr().String(), "base_url", cfg.BaseURL, "db", db.Describe(cfg.DB),
		"mail", cfg.SMTPURL != "", "geoip", cfg.GeoIP, "version", buildVersion())
	var metricsErr <-chan error // nil without -metrics-addr: never ready
	if reg != nil {
		mctx, stopMetrics := context.WithCancel(ctx)
		defer stopMetrics()
		if metricsErr, err = serveMetrics(mctx, cfg.MetricsAddr, reg, logger); err != nil {
			ln.Close()
			return err
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case err := <-metricsErr:
		return fmt.Errorf("serve metrics: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}
