package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// proxy is a round-robin reverse proxy over the app servers. A server that refuses the
// connection (killed) is skipped for the next one, which is safe for any method: the
// request never reached it. It appends the client's address to X-Forwarded-For as a
// real proxy does; the servers trust 127.0.0.1 as a proxy.
type proxy struct {
	url      string
	srv      *http.Server
	mu       sync.RWMutex
	backends []string
	next     atomic.Uint64
	tr       *http.Transport
}

func startProxy() (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{url: "http://" + ln.Addr().String(), tr: &http.Transport{
		MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second,
		DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
	}}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

func (p *proxy) close() { p.srv.Close() }

func (p *proxy) setBackends(addrs []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.backends = addrs
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "proxy: read body", http.StatusBadRequest)
		return
	}
	p.mu.RLock()
	backends := p.backends
	p.mu.RUnlock()
	start := p.next.Add(1)
	for i := range backends {
		backend := backends[(int(start)+i)%len(backends)]
		out := r.Clone(r.Context())
		out.RequestURI = ""
		out.URL.Scheme, out.URL.Host = "http", backend
		out.Host = r.Host // the servers check the base URL's host
		out.Body, out.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		client, _, _ := net.SplitHostPort(r.RemoteAddr)
		if prior := r.Header.Get("X-Forwarded-For"); prior != "" {
			client = prior + ", " + client
		}
		out.Header.Set("X-Forwarded-For", client)
		res, err := p.tr.RoundTrip(out)
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			continue // not listening: the next server
		}
		if err != nil {
			http.Error(w, "proxy: "+err.Error(), http.StatusBadGateway)
			return
		}
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		flushCopy(w, res.Body)
		res.Body.Close()
		return
	}
	http.Error(w, "proxy: no server answers", http.StatusBadGateway)
}

// flushCopy copies a response through as it comes, so a live stream flows.
func flushCopy(w http.ResponseWriter, r io.Reader) {
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			rc.Flush()
		}
		if err != nil {
			return
		}
	}
}
