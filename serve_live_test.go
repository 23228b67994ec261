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
	base := "http://" + addr
	cmd := exec.Command(bin, "serve", "-addr", addr, "-db", filepath.Join(dir, "elsewhere.db"))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ELSEWHERE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var logs lockedBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("server output:\n%s", logs.String())
		}
	})

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if res, err := client.Get(base + "/healthz"); err == nil && res.StatusCode == 200 {
			res.Body.Close()
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatalf("the server did not come up:\n%s", logs.String())
		}
	}
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
