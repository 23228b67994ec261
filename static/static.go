// Package static holds the CSS, scripts, icons and vendored htmx, embedded in the binary,
// each with a gzip (.gz) and a brotli (.br) copy made by `go generate ./static/` and
// committed.
package static

//go:generate go run precompress.go

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"path"
	"strings"
)

// FS is every static file, with the precompressed copies.
//
//go:embed *.css *.js *.svg *.gz *.br
var FS embed.FS

// Encodings are the precompressed copies there are, by Content-Encoding, each with the
// suffix of its file; the best first.
var Encodings = []struct{ Name, Suffix string }{{"br", ".br"}, {"gzip", ".gz"}}

// isCopy reports whether name is a precompressed copy rather than an asset.
func isCopy(name string) bool {
	for _, e := range Encodings {
		if strings.HasSuffix(name, e.Suffix) {
			return true
		}
	}
	return false
}

// Assets lists the assets themselves (not their copies or the Go files).
func Assets() ([]string, error) {
	var out []string
	err := fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || isCopy(p) || path.Ext(p) == ".go" {
			return err
		}
		out = append(out, p)
		return nil
	})
	return out, err
}

// Versions maps each asset's name to a short hash of its content, for cache-busting URLs
// and as its ETag.
func Versions() (map[string]string, error) {
	names, err := Assets()
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(names))
	for _, name := range names {
		b, err := FS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		out[name] = hex.EncodeToString(sum[:6])
	}
	return out, nil
}
