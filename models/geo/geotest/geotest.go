// Package geotest builds a small real .mmdb file for tests, with maxmind/mmdbwriter, in
// the layout of MaxMind's GeoLite2-City (DB-IP's City files use the same fields).
package geotest

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Places are the networks the file knows, by CIDR.
var Places = map[string][2]string{ // city, country
	"203.0.113.0/24":  {"Berlin", "Germany"},
	"198.51.100.0/24": {"", "France"}, // a country-only answer
	"2001:db8::/32":   {"Tokyo", "Japan"},
}

// Write writes the file into the test's temporary directory and returns its path.
// databaseType is "GeoLite2-City" or "GeoLite2-Country", say.
func Write(tb testing.TB, databaseType string) string {
	tb.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: databaseType, RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		tb.Fatal(err)
	}
	for cidr, p := range Places {
		_, network, err := net.ParseCIDR(cidr)
		if err != nil {
			tb.Fatal(err)
		}
		rec := mmdbtype.Map{"country": mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(p[1])}}}
		if p[0] != "" {
			rec["city"] = mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(p[0])}}
		}
		if err := w.Insert(network, rec); err != nil {
			tb.Fatal(err)
		}
	}
	path := filepath.Join(tb.TempDir(), "places.mmdb")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := w.WriteTo(f); err != nil {
		tb.Fatal(err)
	}
	return path
}
