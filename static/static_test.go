package static

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"

	"github.com/andybalholm/brotli"
)

// TestPrecompressedCopiesMatch: every asset has a gzip and a brotli copy that decode to
// exactly its bytes and are smaller; a copy left behind by an asset that changed fails
// here until `go generate ./static/` is run again.
func TestPrecompressedCopiesMatch(t *testing.T) {
	names, err := Assets()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 5 {
		t.Fatalf("only %d assets embedded: %v", len(names), names)
	}
	decoders := map[string]func(io.Reader) (io.Reader, error){
		".gz": func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
		".br": func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil },
	}
	for _, name := range names {
		orig, err := FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, enc := range Encodings {
			packed, err := FS.ReadFile(name + enc.Suffix)
			if err != nil {
				t.Errorf("%s has no %s copy: run go generate ./static/", name, enc.Name)
				continue
			}
			r, err := decoders[enc.Suffix](bytes.NewReader(packed))
			if err != nil {
				t.Errorf("%s%s: %v", name, enc.Suffix, err)
				continue
			}
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, orig) {
				t.Errorf("%s%s does not decode to %s (err %v): run go generate ./static/", name, enc.Suffix, name, err)
			}
			if len(packed) >= len(orig) {
				t.Errorf("%s%s is %d bytes, no smaller than the %d of the original", name, enc.Suffix, len(packed), len(orig))
			}
		}
	}
	// No copy without its asset (one left behind by a deleted or renamed file).
	versions, err := Versions()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := FS.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		for _, enc := range Encodings {
			if n := e.Name(); len(n) > len(enc.Suffix) && n[len(n)-len(enc.Suffix):] == enc.Suffix {
				if _, ok := versions[n[:len(n)-len(enc.Suffix)]]; !ok {
					t.Errorf("%s is a copy of no asset", n)
				}
			}
		}
	}
}
