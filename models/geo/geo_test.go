package geo_test

import (
	"strings"
	"testing"

	"github.com/elsewhere-dev/elsewhere/models/geo"
	"github.com/elsewhere-dev/elsewhere/models/geo/geotest"
)

func TestPlace(t *testing.T) {
	l, err := geo.Open(geotest.Write(t, "GeoLite2-City"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for ip, want := range map[string]string{
		"203.0.113.5":        "Berlin, Germany",
		"::ffff:203.0.113.5": "Berlin, Germany", // IPv4 as gin may give it
		"2001:db8::1":        "Tokyo, Japan",
		"198.51.100.7":       "France",
		"192.0.2.1":          "", // not in the file
		"10.1.2.3":           "", // private
		"192.168.0.1":        "",
		"127.0.0.1":          "", // loopback
		"::1":                "",
		"fe80::1":            "", // link-local
		"fd00::1":            "", // unique local
		"":                   "",
		"not an address":     "",
		"203.0.113.5%eth0":   "",
	} {
		if got := l.Place(ip); got != want {
			t.Errorf("Place(%q) = %q, want %q", ip, got, want)
		}
	}
	var none *geo.Locator
	if got := none.Place("203.0.113.5"); got != "" {
		t.Errorf("a nil locator said %q", got)
	}
}

func TestOpenRefusesOtherDatabases(t *testing.T) {
	if _, err := geo.Open(geotest.Write(t, "GeoLite2-ASN")); err == nil || !strings.Contains(err.Error(), "City or Country") {
		t.Errorf("an ASN database: %v, want refused", err)
	}
	if _, err := geo.Open(t.TempDir() + "/missing.mmdb"); err == nil {
		t.Error("a missing file opened")
	}
	l, err := geo.Open(geotest.Write(t, "GeoLite2-Country"))
	if err != nil {
		t.Fatalf("a Country database: %v", err)
	}
	l.Close()
}
