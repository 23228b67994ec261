package handlers

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/elsewhere-dev/elsewhere/static"
	"github.com/elsewhere-dev/elsewhere/views"
)

// static serves embedded assets: the precompressed copy the browser accepts (brotli,
// else gzip, else the asset itself), with Vary: Accept-Encoding and an ETag for each
// encoding, so a cache never hands one encoding to a browser that asked for another.
// Versioned URLs are cached for a year; others are revalidated (304 by ETag).
func (a *App) static(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("filepath"), "/")
	version, ok := a.versions[name]
	if !ok {
		a.renderError(c, http.StatusNotFound, views.TitleFileNotFound, views.TextFileNotFound)
		return
	}
	h := c.Writer.Header()
	if c.Query("v") != "" {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	h.Add("Vary", "Accept-Encoding")
	file, etag := name, version
	for _, e := range static.Encodings {
		if acceptsEncoding(c.GetHeader("Accept-Encoding"), e.Name) {
			file, etag = name+e.Suffix, version+"-"+e.Name
			h.Set("Content-Encoding", e.Name)
			c.Request.Header.Del("Range") // ranges of the encoded bytes: not worth the trouble
			break
		}
	}
	b, err := static.FS.ReadFile(file)
	if err != nil {
		a.fail(c, fmt.Errorf("static asset %s: %w", file, err))
		return
	}
	h.Set("ETag", `"`+etag+`"`)
	if file != name { // ServeContent leaves the length of an encoded body unsaid
		h.Set("Content-Length", strconv.Itoa(len(b)))
	}
	http.ServeContent(c.Writer, c.Request, name, time.Time{}, bytes.NewReader(b))
}

// acceptsEncoding reports whether an Accept-Encoding header value names coding with a
// weight above zero.
func acceptsEncoding(header, coding string) bool {
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(name), coding) {
			continue
		}
		for p := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				if q, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil || q <= 0 {
					return false
				}
			}
		}
		return true
	}
	return false
}
