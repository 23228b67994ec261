package models

import (
	"time"
	_ "time/tzdata" // zones for hosts without a zoneinfo database: the binary runs anywhere
)

// TimeZone returns the location named by an IANA zone a browser reported
// (Intl.DateTimeFormat().resolvedOptions().timeZone), and false for anything else. The
// name comes from a form anyone can post, so only a short name of the characters zone
// names use is looked up.
func TimeZone(name string) (*time.Location, bool) {
	if name == "" || len(name) > 64 || name == "Local" {
		return nil, false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '/' || c == '_' || c == '-' || c == '+') {
			return nil, false
		}
	}
	if name[0] == '/' || name[len(name)-1] == '/' {
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, false
	}
	return loc, true
}

// In returns the location named by zone, UTC when zone is not one.
func In(zone string) *time.Location {
	if loc, ok := TimeZone(zone); ok {
		return loc
	}
	return time.UTC
}
