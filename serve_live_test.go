package main

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMEndsLiveStreams: an open Security page holds its live stream for as long as
// it is open, so shutdown must end streams itself. With one open, SIGTERM sends the page
// "reconnect" (it reconnects, to another server if there is one), closes the stream and
// exits cleanly, instead of waiting out the shutdown budget and failing.
func TestSIGTERMEndsLiveStreams(t *testing.T) {
	srv := startBinary(t)
	base, cmd, logs, exited := srv.base, srv.cmd, srv.logs, srv.exited

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("POST", base+"/signup", strings.NewReader(url.Values{
		"email": {"ann@example.com"}, "password": {"correct horse battery staple"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	res, err := client.Do(req)
	if err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-up: %v %v", res, err)
	}
	res.Body.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sreq, _ := http.NewRequestWithContext(ctx, "GET", base+"/account/events", nil)
	stream, err := client.Do(sreq)
	if err != nil || stream.StatusCode != http.StatusOK {
		t.Fatalf("open the stream: %v %v", stream, err)
	}
	defer stream.Body.Close()
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stream.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	if line := <-lines; line != "retry: 2000" {
		t.Fatalf("stream opened with %q", line)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var got []string
	for line := range lines { // until the server closes the stream
		if line != "" {
			got = append(got, line)
		}
	}
	if !strings.Contains(strings.Join(got, "\n"), "event: reconnect") {
		t.Errorf("the stream ended with %q, want a reconnect event first", got)
	}
	if err := <-exited; err != nil {
		t.Errorf("the server did not exit cleanly after SIGTERM with a stream open: %v\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), "stopped") {
		t.Errorf("no clean stop in the log:\n%s", logs.String())
	}
}

// binary is the built elsewhere binary serving on a free loopback port, over an SQLite
// file of its own, until the test ends.
type binary struct {
	base, db string
	cmd      *exec.Cmd
	logs     *lockedBuffer
	exited   chan error // cmd.Wait's answer, once it has exited
}

// startBinary builds the binary, starts `serve` with args besides -addr, -db and
// -base-url (none of the ELSEWHERE_ environment), and waits until /healthz answers.
func startBinary(t *testing.T, args ...string) *binary {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM on Windows")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "elsewhere")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	b := &binary{base: "http://" + addr, db: filepath.Join(dir, "elsewhere.db"), logs: &lockedBuffer{}, exited: make(chan error, 1)}
	b.cmd = exec.Command(bin, append([]string{"serve", "-addr", addr, "-db", b.db, "-base-url", b.base}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ELSEWHERE_") {
			b.cmd.Env = append(b.cmd.Env, kv)
		}
	}
	b.cmd.Stdout, b.cmd.Stderr = b.logs, b.logs
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { b.exited <- b.cmd.Wait() }()
	t.Cleanup(func() {
		if b.cmd.ProcessState == nil {
			b.cmd.Process.Kill()
			<-b.exited
		}
		if t.Failed() {
			t.Logf("server output:\n%s", b.logs.String())
		}
	})
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if res, err := http.Get(b.base + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return b
			}
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("the server did not come up within a minute:\n%s", b.logs.String())
		}
	}
}
