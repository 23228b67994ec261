package models

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"errors"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

// Of the 100,000 most common passwords (distinct after lower-casing), this many have at
// least MinPasswordLen characters; the shorter ones are refused by length instead.
const commonPasswordsKept = 39_855

func TestCommonPasswordsList(t *testing.T) {
	l := commonPasswords()
	if got := l.len(); got != commonPasswordsKept {
		t.Fatalf("common password list has %d entries, want %d (the top 100,000 of at least %d characters)",
			got, commonPasswordsKept, MinPasswordLen)
	}
	for i := range l.len() {
		pw := l.at(i)
		if utf8.RuneCountInString(pw) < MinPasswordLen || pw != strings.ToLower(pw) {
			t.Errorf("entry %q is shorter than %d characters or not lower-cased", pw, MinPasswordLen)
		}
	}
}

func TestCheckNewPasswordRefusesCommonPasswords(t *testing.T) {
	for _, pw := range []string{
		"password123", "Password123", "qwertyuiop", "QWERTYUIOP", "iloveyou", "12345678",
		"100years",     // rank 49,998
		"10091970",     // rank 50,001
		"revolutiontt", // rank 99,000
		"reversion",    // rank 99,003
	} {
		if err := CheckNewPassword(pw); !errors.Is(err, ErrPasswordCommon) {
			t.Errorf("CheckNewPassword(%q) = %v, want it refused as common", pw, err)
		}
	}
}

func TestCheckNewPasswordAcceptsStrongPasswords(t *testing.T) {
	for _, pw := range []string{
		"correct horse battery staple 7Qz!",
		"zq8-Vinyl-Marmot-Lantern-41",
		"Glacier-" + rand.Text(), // a fresh random passphrase
	} {
		if err := CheckNewPassword(pw); err != nil {
			t.Errorf("CheckNewPassword(%q) = %v, want accepted", pw, err)
		}
	}
}

func TestParsePasswordListRefusesMalformedData(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	for name, data := range map[string][]byte{
		"not gzip":        []byte("# header\n\npassword\n"),
		"no header end":   gz("# header\npassword\n"),
		"out of order":    gz("# header\n\nqwertyuiop\npassword\n"),
		"repeated":        gz("# header\n\npassword\npassword\n"),
		"no last newline": gz("# header\n\npassword"),
	} {
		if _, err := parsePasswordList(data); err == nil {
			t.Errorf("%s: parsePasswordList succeeded, want an error", name)
		}
	}
	l, err := parsePasswordList(gz("# header\n\nbaseball\npassword\n"))
	if err != nil || l.len() != 2 || !l.contains("baseball") || !l.contains("password") || l.contains("football") {
		t.Errorf("parsePasswordList of two entries = %+v, %v", l, err)
	}
}

// BenchmarkIsCommonPassword looks up a listed password, an unlisted one, and one that
// must be lower-cased first (the only case that allocates).
func BenchmarkIsCommonPassword(b *testing.B) {
	commonPasswords()
	for _, bc := range []struct{ name, pw string }{
		{"listed", "revolutiontt"},
		{"unlisted", "zq8-vinyl-marmot-lantern-41"},
		{"mixed-case", "Password123"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				isCommonPassword(bc.pw)
			}
		})
	}
}

// BenchmarkCommonPasswordsLoad measures the first use: decompressing and indexing the
// embedded list, and the heap the parsed list keeps (heap-B).
func BenchmarkCommonPasswordsLoad(b *testing.B) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	l, err := parsePasswordList(commonPasswordsGz)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(l)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parsePasswordList(commonPasswordsGz); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(after.HeapAlloc)-float64(before.HeapAlloc), "heap-B")
}
