// Command flood measures another account's sign-in and sign-out while wrk floods one
// account with wrong passwords, against a real `elsewhere serve`: bob signs in and out
// -n times with nothing else running, then again while wrk (-conns connections, each
// guess from an address of its own through X-Forwarded-For) posts wrong passwords for
// ann. It prints bob's median and 99th percentile both times, their ratio, and how many
// guesses wrk made and how many were refused.
//
//	go run ./scripts/flood -db postgres://…/empty -conns 800
//
// Without -db it uses a new SQLite file. It needs wrk (Debian's wrk package).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

const password = "flood-test-password-7fz1"

func main() {
	dsn := flag.String("db", "", "postgres:// URL of an empty database, or an SQLite file (default: a new one)")
	conns := flag.Int("conns", 800, "wrk's connections")
	n := flag.Int("n", 200, "bob's sign-ins and sign-outs, quiet and under the flood each")
	flag.Parse()
	log.SetFlags(0)
	if _, err := exec.LookPath("wrk"); err != nil {
		log.Fatal("flood: needs wrk (apt-get install wrk)")
	}
	work, err := os.MkdirTemp("", "elsewhere-flood-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(work)
	if *dsn == "" {
		*dsn = filepath.Join(work, "flood.db")
	}
	bin := filepath.Join(work, "elsewhere")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		log.Fatalf("flood: build: %v\n%s", err, out)
	}
	for _, email := range []string{"ann@example.com", "bob@example.com"} {
		cmd := exec.Command(bin, "-db", *dsn, "user", "add", email)
		cmd.Stdin = strings.NewReader(password + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			log.Fatalf("flood: user add %s: %v\n%s", email, err, out)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	args := []string{"serve", "-addr", addr, "-base-url", base, "-db", *dsn, "-trusted-proxies", "127.0.0.1/32"}
	srv := exec.Command(bin, args...)
	logf, _ := os.Create(filepath.Join(work, "server.log"))
	srv.Stdout, srv.Stderr = logf, logf
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer srv.Process.Kill()
	ready(base)

	quiet := bob(base, *n, 0)
	script := filepath.Join(work, "guess.lua")
	os.WriteFile(script, []byte(guessLua), 0o600)
	wrk := exec.Command("wrk", "-t2", fmt.Sprintf("-c%d", *conns), "-d10m", "--timeout", "30s", "-s", script, base+"/login")
	var wout bytes.Buffer
	wrk.Stdout, wrk.Stderr = &wout, &wout
	if err := wrk.Start(); err != nil {
		log.Fatal(err)
	}
	time.Sleep(5 * time.Second) // the flood under way, ann locked out
	flood := bob(base, *n, 1)
	wrk.Process.Signal(os.Interrupt)
	wrk.Wait()

	q50, q99 := pct(quiet, 50), pct(quiet, 99)
	f50, f99 := pct(flood, 50), pct(flood, 99)
	fmt.Printf("database: %s\nwrk: %d connections\n", describe(*dsn), *conns)
	fmt.Printf("bob, quiet:      p50 %6.2f ms  p99 %7.2f ms  (%d sign-ins and sign-outs)\n", ms(q50), ms(q99), len(quiet))
	fmt.Printf("bob, flood:      p50 %6.2f ms  p99 %7.2f ms\n", ms(f50), ms(f99))
	fmt.Printf("p50 ratio:       %.2f\n", float64(f50)/float64(q50))
	if m := regexp.MustCompile(`(\d+) requests in ([\d.]+\w+)`).FindStringSubmatch(wout.String()); m != nil {
		fmt.Printf("guesses:         %s in %s\n", m[1], m[2])
	}
	if m := regexp.MustCompile(`RESULT refused=(\d+) other=(\d+)`).FindStringSubmatch(wout.String()); m != nil {
		fmt.Printf("refused (429):   %s, other answers %s\n", m[1], m[2])
	}
}

// guessLua posts ann's wrong password, each request from an address of its own.
const guessLua = `
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) refused = 0; other = 0; n = 0 end
function request()
  n = n + 1
  local ip = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
  return wrk.format("POST", "/login", {["Content-Type"] = "application/x-www-form-urlencoded", ["X-Forwarded-For"] = ip},
    "email=ann%40example.com&password=not-her-password")
end
function response(status, headers, body)
  if status == 429 then refused = refused + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local r, o = 0, 0
  for _, t in ipairs(threads) do r = r + t:get("refused"); o = o + t:get("other") end
  io.write(string.format("RESULT refused=%d other=%d\n", r, o))
end
`

// bob signs in and out n times, from a new address each time, and returns how long
// each pair took.
func bob(base string, n, round int) []time.Duration {
	out := make([]time.Duration, 0, n)
	for i := range n {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: time.Minute,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		ip := fmt.Sprintf("198.51.%d.%d", round*100+i/250, 1+i%250)
		start := time.Now()
		post(c, base, "/login", ip, url.Values{"email": {"bob@example.com"}, "password": {password}})
		post(c, base, "/logout", ip, nil)
		out = append(out, time.Since(start))
	}
	return out
}

func post(c *http.Client, base, path, ip string, form url.Values) {
	req, _ := http.NewRequestWithContext(context.Background(), "POST", base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", ip)
	req.Header.Set("Origin", base)
	res, err := c.Do(req)
	if err != nil {
		log.Fatalf("flood: bob: %v", err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		log.Fatalf("flood: bob's POST %s answered %d", path, res.StatusCode)
	}
}

func ready(base string) {
	for range 300 {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	log.Fatal("flood: the server did not get ready in 30 s")
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func describe(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && strings.HasPrefix(dsn, "postgres") {
		return "PostgreSQL " + u.Path
	}
	return "SQLite"
}
