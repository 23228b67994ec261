//go:build ignore

// Command precompress writes a gzip (.gz) and a brotli (.br) copy of every asset in this
// folder, at the highest levels, so the server sends compressed bytes without compressing
// at request time. Run it with `go generate ./static/` after changing an asset, and commit
// the copies: TestPrecompressedCopiesMatch fails while one is stale.
package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/andybalholm/brotli"
)

func main() {
	var names []string
	for _, pattern := range []string{"*.css", "*.js", "*.svg"} { // static.go embeds the same
		m, err := filepath.Glob(pattern)
		if err != nil {
			log.Fatal(err)
		}
		names = append(names, m...)
	}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			log.Fatal(err)
		}
		var gz, br bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		if _, err := zw.Write(b); err != nil {
			log.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			log.Fatal(err)
		}
		bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
		if _, err := bw.Write(b); err != nil {
			log.Fatal(err)
		}
		if err := bw.Close(); err != nil {
			log.Fatal(err)
		}
		for ext, out := range map[string][]byte{".gz": gz.Bytes(), ".br": br.Bytes()} {
			if err := os.WriteFile(filepath.Clean(name+ext), out, 0o644); err != nil {
				log.Fatal(err)
			}
		}
		fmt.Printf("%-22s %7d bytes, gzip %6d, brotli %6d\n", name, len(b), gz.Len(), br.Len())
	}
}
