package handlers

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzhttp"
)

// compression wraps h so that its answers are compressed (zstd or gzip, as the browser
// offers) wherever that cannot leak what a page shows: see compressible. The static
// assets are sent precompressed by the static handler and pass through as they are;
// the live stream (text/event-stream) is never compressed, so each event is flushed as
// it is written.
func (a *App) compression(h http.Handler) (http.Handler, error) {
	wrap, err := gzhttp.NewWrapper(
		gzhttp.ContentTypeFilter(func(ct string) bool {
			return gzhttp.DefaultContentTypeFilter(ct) && !strings.HasPrefix(ct, "text/event-stream")
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("compression: %w", err)
	}
	compressed := wrap(h)
	a.compressing = true
	static := a.path("/static/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, static) || !a.compressible(r) {
			h.ServeHTTP(w, r)
			return
		}
		compressed.ServeHTTP(w, r)
	}), nil
}

// compressible says whether the answer to r may be compressed. A compressed length tells
// whoever sees it (on the network) how well a page's parts repeat one another; someone
// who can also make the browser fetch the page many times, with text of their choosing
// in it, can guess the rest a character at a time (BREACH). Elsewhere's pages hold no
// secret that grants anything (no CSRF token: cross-origin writes are refused by Fetch
// Metadata and Origin; the session token is in an HttpOnly cookie and in no page), but a
// signed-in page shows private things (emails, addresses, devices). So an answer to a
// request carrying a session cookie is compressed only when the browser says its own
// page (Sec-Fetch-Site: same-origin) or the person (none: typed, bookmarked) asked for
// it, never another site; a browser that does not say gets it uncompressed. Without a
// session cookie a page shows nothing private to guess.
func (a *App) compressible(r *http.Request) bool {
	if _, err := r.Cookie(a.cookieName); err != nil {
		return true
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	}
	return false
}

// encodingFor is the encoding the answer to r goes in when its body is already at hand
// compressed (the kept Security page): "zstd" or "gzip" where the answer would be
// compressed at all (compressible, and only behind compression), the one the browser
// rates higher, zstd when it rates both alike, as the compression wrapper chooses;
// "" for none.
func (a *App) encodingFor(r *http.Request) string {
	if !a.compressing || !a.compressible(r) {
		return ""
	}
	zstdQ, gzipQ := acceptQ(r.Header.Get("Accept-Encoding"))
	switch {
	case zstdQ > 0 && zstdQ >= gzipQ:
		return "zstd"
	case gzipQ > 0:
		return "gzip"
	}
	return ""
}

// acceptQ reads the weights an Accept-Encoding header gives zstd and gzip (0: not
// accepted; a coding listed twice counts as first listed; "*" is not taken, as the
// compression wrapper does not take it).
func acceptQ(header string) (zstdQ, gzipQ float64) {
	zstdQ, gzipQ = -1, -1
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			name, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(name), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0
				}
				q = f
			}
		}
		switch c := strings.ToLower(strings.TrimSpace(coding)); {
		case c == "zstd" && zstdQ < 0:
			zstdQ = q
		case c == "gzip" && gzipQ < 0:
			gzipQ = q
		}
	}
	return max(zstdQ, 0), max(gzipQ, 0)
}
