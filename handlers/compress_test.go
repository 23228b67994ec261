package handlers_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"github.com/elsewhere-dev/elsewhere/static"
)

// decode undoes a response's Content-Encoding.
func decode(t *testing.T, r response) string {
	t.Helper()
	var rd io.Reader
	switch enc := r.header.Get("Content-Encoding"); enc {
	case "":
		return r.body
	case "gzip":
		zr, err := gzip.NewReader(strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		rd = zr
	case "br":
		rd = brotli.NewReader(strings.NewReader(r.body))
	case "zstd":
		zr, err := zstd.NewReader(strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		rd = zr
	default:
		t.Fatalf("unknown Content-Encoding %q", enc)
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatalf("decode %s: %v", r.header.Get("Content-Encoding"), err)
	}
	return string(b)
}

// TestStaticAssetsArePrecompressed: each asset goes out as the precompressed copy the
// browser accepts (brotli first, then gzip), or as itself; with Vary: Accept-Encoding, a
// distinct ETag per encoding, and 304 for a copy the browser already holds.
func TestStaticAssetsArePrecompressed(t *testing.T) {
	ta := newTestApp(t)
	d := ta.device("A", uaChromeMac, "")
	versions, err := static.Versions()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"htmx.min.js", "app.css", "app.js", "htmx-ext-sse.min.js", "favicon.svg"} {
		orig, err := static.FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		path := "/static/" + name + "?v=" + versions[name]
		etags := map[string]string{}
		for _, tc := range []struct{ accept, want string }{
			{"gzip, deflate, br, zstd", "br"},
			{"br;q=0, gzip", "gzip"},
			{"gzip;q=0.5", "gzip"},
			{"BR", "br"},
			{"identity", ""},
			{"br;q=0", ""},
			{"zstd", ""},
		} {
			r := d.do("GET", path, nil, false, "Accept-Encoding", tc.accept)
			if r.status != http.StatusOK {
				t.Fatalf("%s with %q: %d", name, tc.accept, r.status)
			}
			if got := r.header.Get("Content-Encoding"); got != tc.want {
				t.Errorf("%s with Accept-Encoding %q: Content-Encoding %q, want %q", name, tc.accept, got, tc.want)
			}
			if !strings.Contains(r.header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("%s: Vary %q lacks Accept-Encoding", name, r.header.Get("Vary"))
			}
			if got := decode(t, r); got != string(orig) {
				t.Errorf("%s with %q: the body does not decode to the asset", name, tc.accept)
			}
			if n, _ := strconv.Atoi(r.header.Get("Content-Length")); n != len(r.body) {
				t.Errorf("%s with %q: Content-Length %q for %d bytes", name, tc.accept, r.header.Get("Content-Length"), len(r.body))
			}
			if tc.want != "" && len(r.body) >= len(orig) {
				t.Errorf("%s as %s: %d bytes, no fewer than the %d of the asset", name, tc.want, len(r.body), len(orig))
			}
			etag := r.header.Get("ETag")
			if prev, ok := etags[tc.want]; ok && prev != etag {
				t.Errorf("%s: two ETags %q and %q for the same encoding %q", name, prev, etag, tc.want)
			}
			etags[tc.want] = etag
			if r.header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
				t.Errorf("%s: Cache-Control %q", name, r.header.Get("Cache-Control"))
			}
			// Revalidation with the ETag of that encoding: 304 and no body.
			if r := d.do("GET", "/static/"+name, nil, false, "Accept-Encoding", tc.accept, "If-None-Match", etag); r.status != http.StatusNotModified || r.body != "" {
				t.Errorf("%s with If-None-Match %s: %d and %d bytes, want 304 and none", name, etag, r.status, len(r.body))
			}
		}
		if len(etags) != 3 || etags["br"] == etags["gzip"] || etags["br"] == etags[""] || etags["gzip"] == etags[""] {
			t.Errorf("%s: ETags by encoding %q, want three different ones", name, etags)
		}
		// A brotli copy is not valid for a browser that asked for gzip.
		if r := d.do("GET", "/static/"+name, nil, false, "Accept-Encoding", "gzip", "If-None-Match", etags["br"]); r.status != http.StatusOK {
			t.Errorf("%s: the brotli ETag revalidated a gzip request (%d)", name, r.status)
		}
	}
	for _, bad := range []string{"/static/app.js.gz", "/static/app.js.br", "/static/static.go", "/static/precompress.go", "/static/", "/static/nope.js"} {
		if r := d.do("GET", bad, nil, false, "Accept-Encoding", "gzip, br"); r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", bad, r.status)
		}
	}
}

// TestPagesAreCompressedOnlyWhereNothingCanBeGuessed: a page without a session cookie is
// compressed for a browser that offers it; a signed-in page only for a request from its
// own site (Sec-Fetch-Site same-origin) or the person (none), never for one another site
// started or one that does not say (BREACH); the content is the same either way.
func TestPagesAreCompressedOnlyWhereNothingCanBeGuessed(t *testing.T) {
	ta := newTestApp(t)
	a, _, _ := threeDevices(t, ta)
	anon := ta.device("anonymous", uaChromeMac, "")
	if r := anon.do("GET", "/login", nil, false, "Accept-Encoding", "gzip"); r.header.Get("Content-Encoding") != "gzip" ||
		!strings.Contains(decode(t, r), `action="/login"`) {
		t.Errorf("the sign-in page for a browser offering gzip: Content-Encoding %q", r.header.Get("Content-Encoding"))
	}
	if r := anon.do("GET", "/login", nil, false, "Accept-Encoding", "gzip, deflate, br, zstd"); r.header.Get("Content-Encoding") != "zstd" {
		t.Errorf("the sign-in page for a browser offering zstd: Content-Encoding %q", r.header.Get("Content-Encoding"))
	}
	_, plain := a.page()
	for _, tc := range []struct {
		site string
		want string
	}{
		{"same-origin", "gzip"},
		{"none", "gzip"},
		{"cross-site", ""},
		{"same-site", ""},
		{"", ""},
	} {
		r := a.do("GET", "/account/security", nil, false, "Accept-Encoding", "gzip", "Sec-Fetch-Site", tc.site)
		if r.status != http.StatusOK {
			t.Fatalf("Sec-Fetch-Site %q: %d", tc.site, r.status)
		}
		if got := r.header.Get("Content-Encoding"); got != tc.want {
			t.Errorf("signed-in page with Sec-Fetch-Site %q: Content-Encoding %q, want %q", tc.site, got, tc.want)
		}
		if got := decode(t, r); len(got) != len(plain) || !strings.Contains(got, `id="sessions"`) {
			t.Errorf("Sec-Fetch-Site %q: the page is %d bytes, want the %d of the uncompressed one", tc.site, len(got), len(plain))
		}
		if tc.want == "" {
			if n, _ := strconv.Atoi(r.header.Get("Content-Length")); n != len(r.body) {
				t.Errorf("Sec-Fetch-Site %q: Content-Length %q for %d bytes", tc.site, r.header.Get("Content-Length"), len(r.body))
			}
		}
	}
	// An htmx fragment from the page itself is compressed too.
	if r := a.do("GET", "/account/security", nil, true, "Accept-Encoding", "gzip", "Sec-Fetch-Site", "same-origin"); r.header.Get("Content-Encoding") != "gzip" ||
		!strings.Contains(decode(t, r), `id="sessions"`) {
		t.Errorf("the live refresh fragment: Content-Encoding %q", r.header.Get("Content-Encoding"))
	}
}

// TestLiveStreamIsNotCompressed: the live stream goes out as it is written, each event
// flushed, even to a browser that offers compression from its own page.
func TestLiveStreamIsNotCompressed(t *testing.T) {
	ta := newTestApp(t)
	a, _, _ := threeDevices(t, ta)
	req, err := a.request("GET", "/account/events?seen=0", nil, "", false,
		"Accept-Encoding", "gzip, br, zstd", "Sec-Fetch-Site", "same-origin", "Accept", "text/event-stream")
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") || res.Header.Get("Content-Encoding") != "" {
		t.Fatalf("the stream: Content-Type %q, Content-Encoding %q, want an uncompressed event stream", ct, res.Header.Get("Content-Encoding"))
	}
	// The stream stays open: the first event can only be read if it was flushed.
	got := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(res.Body)
		var seen bytes.Buffer
		for sc.Scan() {
			seen.WriteString(sc.Text() + "\n")
			if sc.Text() == "event: sessions" {
				break
			}
		}
		got <- seen.String()
	}()
	select {
	case s := <-got:
		if !strings.Contains(s, "event: sessions") {
			t.Errorf("the stream ended before its first event: %q", s)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no event read from the open stream in 30 s: it is being held back")
	}
}
