package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// fleet is the app servers: the binary, built once, each serving on a port of its own
// with metrics on another.
type fleet struct {
	bin, work, pg, base, smtp string

	mu      sync.Mutex
	servers []*server
}

type server struct {
	i           int
	addr        string // host:port of the app
	metricsAddr string
	cmd         *exec.Cmd
	done        chan struct{}
	generation  int
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// start starts server i: a new one, or a replacement on the same ports.
func (f *fleet) start(i int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.servers) <= i {
		f.servers = append(f.servers, nil)
	}
	s := f.servers[i]
	if s == nil {
		addr, err := freePort()
		if err != nil {
			return err
		}
		maddr, err := freePort()
		if err != nil {
			return err
		}
		s = &server{i: i, addr: addr, metricsAddr: maddr}
		f.servers[i] = s
	} else {
		s.generation++
	}
	logf, err := os.Create(filepath.Join(f.work, fmt.Sprintf("server-%d.%d.log", i, s.generation)))
	if err != nil {
		return err
	}
	cmd := exec.Command(f.bin, "serve", "-db", f.pg, "-addr", s.addr, "-base-url", f.base,
		"-trusted-proxies", "127.0.0.1/32", "-metrics-addr", s.metricsAddr)
	// The mail server's URL as the environment, as the README says to give one.
	cmd.Env = append(os.Environ(), "ELSEWHERE_SMTP_URL=smtp://"+f.smtp)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = procAttr() // the servers end with the soak, however it ends
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start server %d: %w", i, err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func(done chan struct{}) {
		cmd.Wait()
		logf.Close()
		close(done)
	}(s.done)
	return nil
}

// kill ends server i at once (SIGKILL): no draining, no goodbye to its streams.
func (f *fleet) kill(i int) {
	f.mu.Lock()
	s := f.servers[i]
	f.mu.Unlock()
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

func (f *fleet) stopAll() {
	f.mu.Lock()
	servers := append([]*server(nil), f.servers...)
	f.mu.Unlock()
	for _, s := range servers {
		if s != nil && s.cmd != nil {
			s.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for _, s := range servers {
		if s == nil || s.cmd == nil {
			continue
		}
		select {
		case <-s.done:
		case <-time.After(35 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
	}
}

func (f *fleet) addrs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, s := range f.servers {
		out = append(out, s.addr)
	}
	return out
}

// waitReady waits until every server's /readyz is 200.
func (f *fleet) waitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for _, addr := range f.addrs() {
		for {
			res, err := http.Get("http://" + addr + "/readyz")
			if err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("server %s not ready within %s (see -keep for its log)", addr, within)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// scrapeAll sums the elsewhere_ counters of every server's /metrics by series (a killed
// server's counts before it died are lost, as they would be to Prometheus).
func (f *fleet) scrapeAll() map[string]float64 {
	f.mu.Lock()
	servers := append([]*server(nil), f.servers...)
	f.mu.Unlock()
	sum := map[string]float64{}
	for _, s := range servers {
		res, err := http.Get("http://" + s.metricsAddr + "/metrics")
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "elsewhere_") || strings.Contains(line, "_bucket") {
				continue
			}
			i := strings.LastIndexByte(line, ' ')
			v, err := strconv.ParseFloat(line[i+1:], 64)
			if err != nil {
				continue
			}
			sum[line[:i]] += v
		}
		res.Body.Close()
	}
	return sum
}
