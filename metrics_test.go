package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMetricsListener: without -metrics-addr the server opens one listener and serves no
// metrics anywhere; with it (here through ELSEWHERE_METRICS_ADDR) a second listener serves
// /metrics in Prometheus's format, and the app's own listener still does not.
func TestMetricsListener(t *testing.T) {
	if _, err := os.Stat("/proc/self/net/tcp"); err != nil {
		t.Skip("counting listeners needs Linux's /proc")
	}
	t.Run("off", func(t *testing.T) {
		before := listeners(t)
		addr, stop := startServe(t)
		defer stop()
		if n := listeners(t) - before; n != 1 {
			t.Errorf("without -metrics-addr the server listens on %d sockets, want 1", n)
		}
		if st, body := httpGet(t, "http://"+addr+"/metrics"); st != http.StatusNotFound || strings.Contains(body, "go_goroutines") {
			t.Errorf("GET /metrics on the app's listener: %d", st)
		}
	})
	t.Run("on", func(t *testing.T) {
		metricsAddr := freeAddr(t)
		t.Setenv("ELSEWHERE_METRICS_ADDR", metricsAddr)
		before := listeners(t)
		addr, stop := startServe(t)
		defer stop()
		if n := listeners(t) - before; n != 2 {
			t.Errorf("with -metrics-addr the server listens on %d sockets, want 2", n)
		}
		st, body := httpGet(t, "http://"+metricsAddr+"/metrics")
		if st != http.StatusOK {
			t.Fatalf("GET /metrics on -metrics-addr: %d", st)
		}
		for _, want := range []string{`elsewhere_sign_ins_total{result="succeeded"} 0`, "go_goroutines", "process_open_fds",
			"elsewhere_mail_queue_length 0"} {
			if !strings.Contains(body, want) {
				t.Errorf("the metrics lack %q", want)
			}
		}
		if st, _ := httpGet(t, "http://"+addr+"/metrics"); st != http.StatusNotFound {
			t.Errorf("GET /metrics on the app's listener with -metrics-addr set: %d, want 404", st)
		}
	})
}

// startServe runs `elsewhere serve` on a fresh SQLite file until stop, once it answers.
func startServe(t *testing.T) (addr string, stop func()) {
	t.Helper()
	addr = freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs lockedBuffer
	go func() {
		done <- run(ctx, []string{"serve", "-addr", addr, "-db", filepath.Join(t.TempDir(), "e.db")}, strings.NewReader(""), io.Discard, &logs)
	}()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if res, err := http.Get("http://" + addr + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not get ready within a minute\n%s", logs.String())
		}
	}
	return addr, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// listeners counts this process's TCP sockets in the LISTEN state, from /proc.
func listeners(t *testing.T) int {
	t.Helper()
	mine := map[string]bool{}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if l, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(l, "socket:[") {
			mine[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	n := 0
	for _, f := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fields := strings.Fields(line)
			if len(fields) > 9 && fields[3] == "0A" && mine[fields[9]] {
				n++
			}
		}
	}
	return n
}
