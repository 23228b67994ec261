// Package geo names the place an IP address is in, from a MaxMind or DB-IP .mmdb file
// (City or Country), read with maxminddb-golang.
package geo

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Locator looks places up. A nil *Locator knows no place, so callers need not check.
type Locator struct {
	db *maxminddb.Reader
}

// Open opens an .mmdb file. It must be a City or Country database.
func Open(path string) (*Locator, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geoip %s: %w", path, err)
	}
	t := r.Metadata.DatabaseType
	if !strings.Contains(t, "City") && !strings.Contains(t, "Country") {
		r.Close()
		return nil, fmt.Errorf("geoip %s: a %q database; give a City or Country one (MaxMind GeoLite2/GeoIP2 or DB-IP)", path, t)
	}
	return &Locator{db: r}, nil
}

// Close closes the file.
func (l *Locator) Close() error {
	if l == nil {
		return nil
	}
	return l.db.Close()
}

type record struct {
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	Country struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"country"`
}

// Place is "Berlin, Germany", "Germany" from a Country database, or "" when the address
// is not public (private, loopback, link-local...), unknown to the file, or not an
// address at all.
func (l *Locator) Place(ip string) string {
	if l == nil || ip == "" {
		return ""
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	a = a.Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return ""
	}
	var rec record
	if err := l.db.Lookup(a).Decode(&rec); err != nil {
		return ""
	}
	city, country := rec.City.Names["en"], rec.Country.Names["en"]
	switch {
	case city != "" && country != "":
		return city + ", " + country
	default:
		return city + country
	}
}
