package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/models/modelstest"
)

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSIGTERMDrainsInFlightRequests builds the binary, serves under load, and sends
// SIGTERM while sign-ins (real argon2id, so they take a while) are in flight: each of
// them finishes with its normal answer, nothing gets a 5xx, the process exits 0, and
// the database is intact with exactly the sessions that were answered.
func TestSIGTERMDrainsInFlightRequests(t *testing.T) {
	srv := startBinary(t, "-trusted-proxies", "127.0.0.1/32")
	base, dbPath, cmd, logs, exited := srv.base, srv.db, srv.cmd, srv.logs, srv.exited

	// Every request on a connection of its own, so a request either reaches the server
	// before it stops accepting or is refused outright.
	var dialed atomic.Int64
	client := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
				c, err := (&net.Dialer{}).DialContext(ctx, network, a)
				if err == nil {
					dialed.Add(1)
				}
				return c, err
			}}}
	post := func(path string, form url.Values, forwardedFor ...string) (*http.Response, error) {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, ip := range forwardedFor {
			req.Header.Set("X-Forwarded-For", ip)
		}
		res, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		return res, err
	}
	creds := url.Values{"email": {"ann@example.com"}, "password": {"correct horse battery staple"}}
	if res, err := post("/signup", creds); err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("signup: %v %v", res, err)
	}

	var (
		mu        sync.Mutex
		statuses  = map[int]int{}
		signIns   = 1 // the sign-up's session
		lateErrs  int
		earlyErrs []error
		termAt    atomic.Int64
	)
	note := func(res *http.Response, err error, signIn bool) bool {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if termAt.Load() == 0 {
				earlyErrs = append(earlyErrs, err)
			} else {
				lateErrs++
			}
			return false
		}
		statuses[res.StatusCode]++
		if signIn && res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/account/security" {
			signIns++
		}
		return true
	}
	// Background load until the server is gone.
	var load sync.WaitGroup
	for i := range 6 {
		load.Add(1)
		go func() {
			defer load.Done()
			for n := 0; ; n++ {
				var ok bool
				switch (i + n) % 3 {
				case 0:
					res, err := post("/login", creds)
					ok = note(res, err, true)
				case 1:
					res, err := client.Get(base + "/login")
					if err == nil {
						res.Body.Close()
					}
					ok = note(res, err, false)
				default: // not wrong passwords: ten of them would lock this address out
					res, err := client.Get(base + "/healthz")
					if err == nil {
						res.Body.Close()
					}
					ok = note(res, err, false)
				}
				if !ok {
					return
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)

	// The in-flight batch: sign-ups (each a new account, signed in) queued behind
	// argon2id when SIGTERM arrives. They are separate accounts from separate addresses,
	// as real traffic is: the limits allow only ten attempts in flight for one email.
	// Each asks "Expect: 100-continue" and sends its body only once the server's handler
	// reads it: the "100 Continue" proves the request is in the server's hands, so SIGTERM
	// waits for all of them. (A connection only dialed may still sit in the listen
	// backlog, unaccepted, when the listener closes: on a loaded machine that was EOF.)
	const inFlight = 40
	var inServer atomic.Int64
	inFlightClient := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{DisableKeepAlives: true, ExpectContinueTimeout: time.Minute}}
	results := make(chan error, inFlight)
	var drained atomic.Int64 // in-flight sign-ins answered after SIGTERM was sent
	for i := range inFlight {
		go func() {
			form := url.Values{"email": {fmt.Sprintf("drain%d@example.com", i)}, "password": creds["password"]}
			req, _ := http.NewRequest("POST", base+"/signup", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Expect", "100-continue")
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
				Got100Continue: func() { inServer.Add(1) }}))
			res, err := inFlightClient.Do(req)
			if err == nil {
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusSeeOther {
					err = fmt.Errorf("status %d", res.StatusCode)
				}
			}
			if err == nil {
				if at := termAt.Load(); at != 0 && time.Now().UnixNano() > at {
					drained.Add(1)
				}
				mu.Lock()
				signIns++
				mu.Unlock()
			}
			results <- err
		}()
	}
	for deadline := time.Now().Add(time.Minute); inServer.Load() < inFlight; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d sign-ups reached a handler in a minute", inServer.Load(), inFlight)
		}
	}
	termAt.Store(time.Now().UnixNano())
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for range inFlight {
		if err := <-results; err != nil {
			t.Errorf("an in-flight sign-in did not finish: %v", err)
		}
	}
	if drained.Load() == 0 {
		t.Error("no sign-in was answered after SIGTERM: nothing was in flight to drain")
	}
	load.Wait()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit: %v, want status 0", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("the server did not exit after SIGTERM")
	}
	mu.Lock()
	t.Logf("statuses %v; %d sign-ins answered, %d of the %d in flight after SIGTERM; %d requests refused after SIGTERM",
		statuses, signIns, drained.Load(), inFlight, lateErrs)
	for code, n := range statuses {
		if code >= 500 {
			t.Errorf("%d responses with status %d", n, code)
		}
	}
	for _, err := range earlyErrs {
		t.Errorf("request failed before SIGTERM: %v", err)
	}
	if !strings.Contains(logs.String(), "stopped") {
		t.Error("the server did not log a clean stop")
	}

	// The database: intact, and holding exactly the sessions that were answered.
	raw, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var check string
	if err := raw.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: %q %v", check, err)
	}
	raw.Close()
	d, err := db.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// A busy run may pass the 50-device cap for ann: each device the cap signed out is
	// in the log instead.
	var sessions, events, capped int
	d.Read.QueryRow(`SELECT COUNT(*) FROM sessions`).Scan(&sessions)
	d.Read.QueryRow(`SELECT COUNT(*) FROM events WHERE kind = 'signed-in'`).Scan(&events)
	d.Read.QueryRow(`SELECT COUNT(*) FROM events WHERE kind = 'session-limit'`).Scan(&capped)
	if sessions+capped != signIns || events != signIns {
		t.Errorf("%d sessions (and %d signed out by the cap) and %d sign-in events stored, %d sign-ins answered",
			sessions, capped, events, signIns)
	}
	mu.Unlock()
}

// TestUserAddRefusesHostileInput: the command line judges emails and passwords as the
// sign-up form does, and reads at most a bounded line of password.
func TestUserAddRefusesHostileInput(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "cli.db")
	for _, tc := range []struct{ email, password, want string }{
		{"ann\u0085@example.com", "correct horse battery staple\n", "does not look like an email"},
		{"ann\u202e@example.com", "correct horse battery staple\n", "does not look like an email"},
		{"' OR 1=1 --", "correct horse battery staple\n", "does not look like an email"},
		{"ann@example.com", strings.Repeat("x", 100000), "at most 256"},
		{"ann@example.com", "short\n", "at least 8"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), []string{"-db", dbPath, "user", "add", tc.email}, strings.NewReader(tc.password), &out, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("user add %q: %v, want %q", tc.email, err, tc.want)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-db", dbPath, "user", "add", "Ann@Example.com"},
		strings.NewReader("correct horse battery staple\r\n"), &out, io.Discard); err != nil || !strings.Contains(out.String(), "created ann@example.com") {
		t.Errorf("user add: %v %q", err, out.String())
	}
}

// TestFlagsAfterTheCommand: a person types the command first and its flags after it, as
// with most tools. Without -base-url, the base URL follows -addr's port, so the server
// answers the address it was told to listen on.
func TestFlagsAfterTheCommand(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs lockedBuffer
	go func() {
		done <- run(ctx, []string{"serve", "-addr", addr, "-db", filepath.Join(t.TempDir(), "e.db")}, strings.NewReader(""), io.Discard, &logs)
	}()
	get := func(path string) (int, error) {
		res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get("http://" + addr + path)
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		return res.StatusCode, nil
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if st, err := get("/healthz"); err == nil && st == http.StatusOK {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve -addr %s stopped: %v\n%s", addr, err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve -addr %s did not answer /healthz within a minute\n%s", addr, logs.String())
		}
	}
	if st, err := get("/login"); err != nil || st != http.StatusOK {
		t.Errorf("GET /login at the address it listens on: %d %v, want 200", st, err)
	}
	_, port, _ := net.SplitHostPort(addr)
	if !strings.Contains(logs.String(), "base_url=http://localhost:"+port) {
		t.Errorf("the base URL does not follow -addr:\n%s", logs.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve after its context ended: %v", err)
	}
}

// TestSecretFromFileOrEnvironment: the stamp secret comes from a file or the environment,
// which other users of the machine cannot read in the process list; given on the command
// line it still works but is warned about.
func TestSecretFromFileOrEnvironment(t *testing.T) {
	dir := t.TempDir()
	hexKey := strings.Repeat("ab", 32)
	file := filepath.Join(dir, "secret")
	if err := os.WriteFile(file, []byte(hexKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := config{SecretFile: file}.secret()
	if err != nil || len(got) != 32 || got[0] != 0xab {
		t.Errorf("secret from a file: %x, %v", got, err)
	}
	if _, err := (config{SecretFile: file, Secret: hexKey}).secret(); err == nil {
		t.Error("both -secret and -secret-file were accepted")
	}
	os.WriteFile(file, []byte("not hex"), 0o600)
	if _, err := (config{SecretFile: file}).secret(); err == nil || !strings.Contains(err.Error(), "-secret-file") {
		t.Errorf("a file that is not hex: %v, want an error naming -secret-file", err)
	}
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"version", "-secret", hexKey}, strings.NewReader(""), io.Discard, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "process list") {
		t.Errorf("no warning for -secret on the command line: %q", stderr.String())
	}
}

// TestOperatorSessionsCommands: an operator whose user calls in ("my phone was stolen,
// and it is my only device") lists that account's devices and signs them all out; the
// devices are refused at their next request and the owner's log says who did it.
func TestOperatorSessionsCommands(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "ops.db")
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append(args, "-db", dbPath), strings.NewReader("correct horse battery staple\n"), &out, io.Discard)
		return out.String(), err
	}
	if _, err := cli("user", "add", "ann@example.com"); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	app, err := handlers.New(ctx, d, handlers.Config{BaseURL: "http://localhost:8080", SweepEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	u, err := app.Users().ByEmail(ctx, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	var tokens [][]byte
	for _, ua := range []string{
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
		modelstest.UAChromeMac,
	} {
		_, hash := models.NewToken()
		if _, _, err := app.Sessions().SignIn(ctx, hash, models.NewSession{UserID: u.ID, UserAgent: ua, IP: "198.51.100.7"}); err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, hash)
	}
	d.Close()

	out, err := cli("sessions", "list", "Ann@Example.com")
	if err != nil || !strings.Contains(out, "iPhone · Safari 18") || !strings.Contains(out, "Mac · Chrome 131") ||
		!strings.Contains(out, "198.51.100.7") || !strings.Contains(out, "2 signed in to ann@example.com") {
		t.Errorf("sessions list: %v\n%s", err, out)
	}
	if out, err := cli("sessions", "revoke", "ann@example.com"); err != nil || !strings.Contains(out, "signed out 2 device(s)") {
		t.Errorf("sessions revoke: %v %q", err, out)
	}
	if out, err := cli("sessions", "list", "ann@example.com"); err != nil || !strings.Contains(out, "0 signed in") {
		t.Errorf("sessions list after revoke: %v\n%s", err, out)
	}
	if _, err := cli("sessions", "revoke", "nobody@example.com"); err == nil || !strings.Contains(err.Error(), "no account") {
		t.Errorf("sessions revoke of an unknown account: %v", err)
	}

	d, err = db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	app, err = handlers.New(ctx, d, handlers.Config{BaseURL: "http://localhost:8080", SweepEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range tokens {
		if _, _, err := app.Sessions().Lookup(ctx, tok, ""); !errors.Is(err, models.ErrSessionEnded) {
			t.Errorf("a revoked device's next request: %v, want ErrSessionEnded", err)
		}
	}
	var kind string
	d.Read.QueryRow(`SELECT kind FROM events ORDER BY id DESC LIMIT 1`).Scan(&kind)
	if kind != string(models.EventOperatorRevoked) {
		t.Errorf("newest log entry %q, want %q", kind, models.EventOperatorRevoked)
	}
}

// TestUserAddDoesNotEchoThePassword: typed at a terminal (a real pseudo-terminal here),
// the password is read without being shown.
func TestUserAddDoesNotEchoThePassword(t *testing.T) {
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	defer master.Close()
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var screen lockedBuffer // what the terminal shows: the echo, if any
	go io.Copy(&screen, master)

	var out lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"user", "add", "ann@example.com", "-db", filepath.Join(t.TempDir(), "tty.db")}, tty, &out, io.Discard)
	}()
	// Type only once the command has turned echo off, as a person would after the prompt.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "Password") && tio.Lflag&unix.ECHO == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no password prompt with echo off within a minute: %q", out.String())
		}
	}
	if _, err := master.Write([]byte("correct horse battery staple\n")); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("user add at a terminal: %v", err)
	}
	if !strings.Contains(out.String(), "created ann@example.com") {
		t.Errorf("output %q", out.String())
	}
	if strings.Contains(screen.String(), "horse") {
		t.Errorf("the password was echoed: %q", screen.String())
	}
}

// TestBoundCookieAgeFlag: -bound-cookie-age (and ELSEWHERE_BOUND_COOKIE_AGE) takes a
// duration of at least 10 seconds; a shorter one is refused before anything starts.
func TestBoundCookieAgeFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  string
		ok   bool
	}{
		{[]string{"version"}, "", true},
		{[]string{"version", "-bound-cookie-age", "10s"}, "", true},
		{[]string{"version", "-bound-cookie-age", "9s"}, "", false},
		{[]string{"version", "-bound-cookie-age", "0"}, "", false},
		{[]string{"version"}, "5s", false},
		{[]string{"version"}, "15m", true},
	} {
		if tc.env != "" {
			t.Setenv("ELSEWHERE_BOUND_COOKIE_AGE", tc.env)
		}
		err := run(context.Background(), tc.args, strings.NewReader(""), io.Discard, io.Discard)
		if (err == nil) != tc.ok {
			t.Errorf("%v with ELSEWHERE_BOUND_COOKIE_AGE=%q: %v", tc.args, tc.env, err)
		}
	}
}
