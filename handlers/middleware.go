package handlers

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/elsewhere-dev/elsewhere/models/text"
	"github.com/elsewhere-dev/elsewhere/views"
)

// MaxBodyBytes is the largest request body accepted.
const MaxBodyBytes = 64 << 10

const ctxRequestID = "elsewhere.request_id"

const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

func (a *App) requestID(c *gin.Context) {
	b := make([]byte, 8)
	rand.Read(b)
	id := hex.EncodeToString(b)
	c.Set(ctxRequestID, id)
	c.Header("X-Request-Id", id)
	c.Next()
}

func requestIDOf(c *gin.Context) string { return c.GetString(ctxRequestID) }

// recoverPanic turns a panic into a logged 500 page; the stack goes to the log, never the client.
func (a *App) recoverPanic(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			a.log.Error("panic", "request_id", requestIDOf(c), "path", logPath(c), "panic", v, "stack", string(debug.Stack()))
			if !c.Writer.Written() {
				a.renderError(c, http.StatusInternalServerError, views.TitleSomethingWrong,
					views.TextPanic)
			}
			c.Abort()
		}
	}()
	c.Next()
}

// acceptCH asks Chromium browsers for the client hints that name a device: the model
// ("Pixel 8"), the system's real version and the browser's full version list.
const acceptCH = "Sec-CH-UA, Sec-CH-UA-Mobile, Sec-CH-UA-Platform, Sec-CH-UA-Platform-Version, Sec-CH-UA-Model, Sec-CH-UA-Full-Version-List"

// criticalCH are the hints a sign-in needs from the very first visit: a browser that
// did not send them retries the sign-in or sign-up page with them (Critical-CH), so the
// form's POST carries them too.
const criticalCH = "Sec-CH-UA-Model, Sec-CH-UA-Platform-Version, Sec-CH-UA-Full-Version-List"

func (a *App) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
	h.Set("Accept-CH", acceptCH)
	if a.secure {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	// Nothing but the versioned static assets may be kept by a browser or a proxy: pages,
	// fragments and redirects may name a signed-in person's devices (static overrides this).
	h.Set("Cache-Control", "no-store")
	c.Next()
}

// checkHost refuses a request addressed to any host but the base URL's (421), so a page
// reached through DNS rebinding (an attacker's name pointing at this server) gets nothing:
// the browser would treat it as the attacker's own origin. A base URL on a loopback name
// also answers to the other loopback names on the same port.
func (a *App) checkHost(c *gin.Context) {
	scheme := "http"
	if a.secure {
		scheme = "https"
	}
	seen, proto := c.Request.Host, scheme
	// Behind a reverse proxy that sets Host to its upstream (nginx's default), the address
	// the browser used is in X-Forwarded-Host: believed from a trusted proxy only, as is
	// X-Forwarded-Proto. From anyone else they could name any site.
	if a.fromTrustedProxy(c) {
		if h := firstForwarded(c.GetHeader("X-Forwarded-Host")); h != "" {
			seen = h
		}
		if p := strings.ToLower(firstForwarded(c.GetHeader("X-Forwarded-Proto"))); p != "" {
			proto = p
		}
	}
	got := canonicalHost(proto, seen)
	if proto != scheme || (got != a.host && !(isLoopbackHost(got) && isLoopbackHost(a.host) && port(got) == port(a.host))) {
		a.wrongAddress(c, proto+"://"+seen)
		a.renderError(c, http.StatusMisdirectedRequest, views.TitleWrongAddress,
			views.TextWrongAddress(a.cfg.BaseURL))
		c.Abort()
		return
	}
	c.Next()
}

// firstForwarded is the first value of an X-Forwarded-* header: the one the proxy
// nearest the browser set.
func firstForwarded(v string) string {
	v, _, _ = strings.Cut(v, ",")
	return strings.TrimSpace(v)
}

// fromTrustedProxy reports whether the request's peer is one of Config.TrustedProxies.
func (a *App) fromTrustedProxy(c *gin.Context) bool {
	ip, err := netip.ParseAddr(c.RemoteIP())
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range a.proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// wrongAddress logs a request refused for its address, at most once a minute for each
// address: enough for the operator of a misconfigured proxy to see what arrives and what
// to set, too little for a scanner to flood the log.
func (a *App) wrongAddress(c *gin.Context, seen string) {
	seen = text.Clean(seen, 200)
	now := a.now()
	a.misdirected.mu.Lock()
	last, ok := a.misdirected.last[seen]
	if ok && now.Sub(last) < time.Minute {
		a.misdirected.mu.Unlock()
		return
	}
	if a.misdirected.last == nil || len(a.misdirected.last) >= 1024 {
		a.misdirected.last = map[string]time.Time{} // forget old ones rather than grow
	}
	a.misdirected.last[seen] = now
	a.misdirected.mu.Unlock()
	a.log.Warn("421: request for another address", "seen", seen, "base_url", a.cfg.BaseURL,
		"x_forwarded_host", text.Clean(c.GetHeader("X-Forwarded-Host"), 200), "peer", c.RemoteIP(),
		"fix", "if browsers use the address seen, set -base-url (Config.BaseURL) to it; behind a reverse proxy "+
			"that rewrites Host, list the proxy in -trusted-proxies (Config.TrustedProxies) so its X-Forwarded-Host and X-Forwarded-Proto are believed",
		"request_id", requestIDOf(c))
}

// canonicalHost lower-cases host[:port], drops a trailing dot and the scheme's default port.
func canonicalHost(scheme, hostport string) string {
	h, p, err := net.SplitHostPort(hostport)
	if err != nil {
		h, p = strings.Trim(hostport, "[]"), ""
	}
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if (scheme == "http" && p == "80") || (scheme == "https" && p == "443") {
		p = ""
	}
	if p == "" {
		return h
	}
	return net.JoinHostPort(h, p)
}

func port(hostport string) string {
	if _, p, err := net.SplitHostPort(hostport); err == nil {
		return p
	}
	return ""
}

func isLoopbackHost(hostport string) bool {
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		h = hostport
	}
	if h == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}

// limitBody refuses bodies over MaxBodyBytes with 413, before any handler reads them.
// A body of unknown length (chunked) is read here, at most MaxBodyBytes of it, so every
// route refuses an oversized one alike, including routes that never read their body.
func (a *App) limitBody(c *gin.Context) {
	tooLarge := func() {
		a.renderError(c, http.StatusRequestEntityTooLarge, views.TitleTooLarge, views.TextTooLarge)
		c.Abort()
	}
	if c.Request.ContentLength > MaxBodyBytes {
		tooLarge()
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes)
	if c.Request.ContentLength < 0 && c.Request.Body != http.NoBody {
		b, err := io.ReadAll(c.Request.Body)
		var maxErr *http.MaxBytesError
		switch {
		case errors.As(err, &maxErr):
			tooLarge()
			return
		case err != nil:
			a.badForm(c, err)
			c.Abort()
			return
		}
		c.Request.Body = io.NopCloser(bytes.NewReader(b))
		c.Request.ContentLength = int64(len(b))
	}
	c.Next()
}

// parseForm reads the request's form fields: url-encoded, as every form here posts
// them, or multipart. Errors are a MaxBytesError or a malformed body (see badForm).
func parseForm(r *http.Request) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		return r.ParseMultipartForm(MaxBodyBytes)
	}
	return r.ParseForm()
}

// crossOrigin refuses cross-origin writes (Sec-Fetch-Site, or Origin against the host).
func (a *App) crossOrigin(c *gin.Context) {
	if err := a.cop.Check(c.Request); err != nil {
		a.renderError(c, http.StatusForbidden, views.TitleRefused, views.TextCrossOrigin)
		c.Abort()
		return
	}
	c.Next()
}

func isHTMX(c *gin.Context) bool { return c.GetHeader("HX-Request") == "true" }
