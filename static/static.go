// Package static holds the CSS, scripts, icons and vendored htmx, embedded in the binary.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
)

// FS is every static file.
//
//go:embed *.css *.js *.svg
var FS embed.FS

// Versions maps each file name to a short hash of its content, for cache-busting URLs.
func Versions() (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := FS.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[path] = hex.EncodeToString(sum[:6])
		return nil
	})
	return out, err
}
