package models

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// commonPasswordsGz holds, gzipped, those of the 100,000 most common passwords that are
// at least MinPasswordLen long: lower-cased, sorted, one per line, after a '#' header
// (source and license) that ends at the first blank line. See common_passwords_gen.go.
//
//go:embed common_passwords.txt.gz
var commonPasswordsGz []byte

// passwordList is a sorted list of passwords kept as one string, so that 40,000
// entries cost one allocation and four bytes of index each rather than a map.
type passwordList struct {
	text   string   // the entries in byte order, each ended by '\n'
	starts []uint32 // where each entry begins in text, then len(text)
}

func (l passwordList) len() int { return len(l.starts) - 1 }

func (l passwordList) at(i int) string { return l.text[l.starts[i] : l.starts[i+1]-1] }

// contains reports whether pw is on the list, by binary search.
func (l passwordList) contains(pw string) bool {
	i := sort.Search(l.len(), func(i int) bool { return l.at(i) >= pw })
	return i < l.len() && l.at(i) == pw
}

// parsePasswordList reads a gzipped list in the format of common_passwords.txt.gz.
func parsePasswordList(gz []byte) (passwordList, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return passwordList{}, fmt.Errorf("common passwords: %w", err)
	}
	var b strings.Builder
	if _, err := io.Copy(&b, zr); err != nil {
		return passwordList{}, fmt.Errorf("common passwords: %w", err)
	}
	text := b.String()
	_, body, ok := strings.Cut(text, "\n\n")
	if !ok {
		return passwordList{}, fmt.Errorf("common passwords: no blank line after the header")
	}
	l := passwordList{text: body, starts: make([]uint32, 0, strings.Count(body, "\n")+1)}
	prev := ""
	for start := 0; start < len(body); {
		end := strings.IndexByte(body[start:], '\n')
		if end < 0 {
			return passwordList{}, fmt.Errorf("common passwords: last line has no newline")
		}
		pw := body[start : start+end]
		if pw == "" || (len(l.starts) > 0 && pw <= prev) {
			return passwordList{}, fmt.Errorf("common passwords: %q is empty, repeated or out of order", pw)
		}
		l.starts = append(l.starts, uint32(start))
		prev, start = pw, start+end+1
	}
	l.starts = append(l.starts, uint32(len(body)))
	return l, nil
}

// commonPasswords parses the embedded list once, on first use. The list is part of the
// binary, so a parse error is a build mistake that the package's tests catch.
var commonPasswords = sync.OnceValue(func() passwordList {
	l, err := parsePasswordList(commonPasswordsGz)
	if err != nil {
		panic(err)
	}
	return l
})

// isCommonPassword reports whether password is among the 100,000 most common passwords,
// ignoring case. Only entries of at least MinPasswordLen characters are kept, so a
// shorter password is reported as not common: check the length first.
func isCommonPassword(password string) bool {
	return commonPasswords().contains(strings.ToLower(password))
}
