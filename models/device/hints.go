package device

import (
	"strings"

	"github.com/elsewhere-dev/elsewhere/models/text"
)

// Clean returns the hints made fit to store: valid UTF-8 without control
// characters, each header cut to what a session keeps of it.
func (h Hints) Clean() Hints {
	return Hints{UA: text.Clean(h.UA, MaxHintLen), FullVersionList: text.Clean(h.FullVersionList, MaxHintLen),
		Mobile: text.Clean(h.Mobile, 8), Platform: text.Clean(h.Platform, 64),
		PlatformVersion: text.Clean(h.PlatformVersion, 64), Model: text.Clean(h.Model, 128), Touch: TouchPoints(h.Touch),
		TimeZone: text.Clean(h.TimeZone, 64)}
}

// TouchPoints is a reported navigator.maxTouchPoints if it is one a device can have
// (1 to 32), 0 otherwise.
func TouchPoints(n int) int {
	if n < 1 || n > 32 {
		return 0
	}
	return n
}

// uaHints is what the User-Agent Client Hints say, once parsed.
type uaHints struct {
	family, version string // browser named by the most specific brand; "" when none
	chromium        bool   // the brand list names Chromium
	headless        bool   // the brand list names HeadlessChrome
	mobile          int    // Sec-CH-UA-Mobile: 1 for "?1", 0 for "?0", -1 when absent or malformed
	platform        string // "Windows", "macOS", "Android", "ChromeOS", "Linux", "iOS"; "" when absent or unknown
	platformVersion string // "15.0.0"
	model           string // "Pixel 8", named from the model hint by modelName
	touch           int    // touch points the sign-in page's script saw
}

// hintBrands maps the brands browsers put in Sec-CH-UA to the family a person
// reads. "Google Chrome" ranks below the others because Chrome's forks do not
// always drop it; "Chromium" is only a last resort.
var hintBrands = []struct{ brand, family string }{
	{"Microsoft Edge", "Edge"},
	{"Brave", "Brave"},
	{"Opera GX", "Opera GX"},
	{"Opera", "Opera"},
	{"Vivaldi", "Vivaldi"},
	{"YaBrowser", "Yandex"},
	{"Yandex", "Yandex"},
	{"Samsung Internet", "Samsung Internet"},
	{"DuckDuckGo", "DuckDuckGo"},
	{"Google Chrome", "Chrome"},
}

// parseHints reads the raw client hint headers. It never fails: what cannot be
// read is left out.
func parseHints(h Hints) uaHints {
	out := uaHints{mobile: -1}
	rank := len(hintBrands)
	brands := h.UA
	if h.FullVersionList != "" {
		brands = h.FullVersionList // the same brands, with full versions
	}
	forEachBrand(boundBytes(brands, MaxHintLen), func(brand, version string) {
		switch {
		case isGreaseBrand(brand):
			return
		case strings.EqualFold(brand, "Chromium"):
			out.chromium = true
			if out.family == "" {
				out.version = version
			}
			return
		case strings.EqualFold(brand, "HeadlessChrome"):
			out.headless = true
			return
		}
		for i, b := range hintBrands {
			if i < rank && strings.EqualFold(brand, b.brand) {
				rank, out.family, out.version = i, b.family, version
				return
			}
		}
	})
	switch strings.TrimSpace(h.Mobile) {
	case "?1":
		out.mobile = 1
	case "?0":
		out.mobile = 0
	}
	switch p := sfString(h.Platform); {
	case strings.EqualFold(p, "Windows"):
		out.platform = "Windows"
	case strings.EqualFold(p, "macOS"):
		out.platform = "macOS"
	case strings.EqualFold(p, "Android"):
		out.platform = "Android"
	case strings.EqualFold(p, "Chrome OS"), strings.EqualFold(p, "Chromium OS"), strings.EqualFold(p, "ChromeOS"):
		out.platform = "ChromeOS"
	case strings.EqualFold(p, "Linux"):
		out.platform = "Linux"
	case strings.EqualFold(p, "iOS"):
		out.platform = "iOS"
	}
	out.platformVersion = sfString(h.PlatformVersion)
	out.model = modelName(sfString(h.Model))
	out.touch = TouchPoints(h.Touch)
	return out
}

// isGreaseBrand reports whether a brand is one of the made-up names Chromium
// adds so servers do not rely on the list's shape ("Not_A Brand",
// "Not/A)Brand", ";Not A Brand"): its letters spell "notabrand".
func isGreaseBrand(brand string) bool {
	const want = "notabrand"
	n := 0
	for i := 0; i < len(brand); i++ {
		b := brand[i]
		if b >= 'A' && b <= 'Z' {
			b += 'a' - 'A'
		}
		if !isLowerASCII(b) {
			continue
		}
		if n == len(want) || b != want[n] {
			return false
		}
		n++
	}
	return n == len(want)
}

// boundBytes cuts s to at most n bytes.
func boundBytes(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// sfString reads a structured-field string ("\"Windows\"") from a header
// value, and tolerates a bare value ("Windows") from a lenient client.
func sfString(raw string) string {
	s := strings.TrimSpace(boundBytes(raw, MaxHintLen))
	if s == "" || s[0] != '"' {
		return s
	}
	v, _ := readQuoted(s, 0)
	return v
}

// readQuoted reads the quoted string that starts at s[i] and returns it
// unescaped with the index just past its closing quote (or the end of s).
func readQuoted(s string, i int) (string, int) {
	i++ // opening quote
	start := i
	for i < len(s) && s[i] != '"' && s[i] != '\\' {
		i++
	}
	if i >= len(s) || s[i] == '"' {
		end := min(i+1, len(s))
		return s[start:i], end
	}
	// Rare: escapes. Copy the string so far, then unescape the rest.
	var b strings.Builder
	b.WriteString(s[start:i])
	for i < len(s) && s[i] != '"' {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String(), min(i+1, len(s))
}

// forEachBrand calls fn for each item of a Sec-CH-UA structured-field list,
// `"Chromium";v="131", "Google Chrome";v="131"`, with the brand and its "v"
// parameter. Malformed items are skipped; at most maxBrands items are read.
func forEachBrand(s string, fn func(brand, version string)) {
	i := 0
	for items := 0; i < len(s) && items < maxBrands; items++ {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			return
		}
		var brand, version string
		ok := true
		brand, i, ok = readBareItem(s, i)
		for ok && i < len(s) && s[i] == ';' {
			i++
			for i < len(s) && s[i] == ' ' {
				i++
			}
			keyStart := i
			for i < len(s) && s[i] != '=' && s[i] != ';' && s[i] != ',' {
				i++
			}
			key := s[keyStart:i]
			if i < len(s) && s[i] == '=' {
				var value string
				value, i, ok = readBareItem(s, i+1)
				if key == "v" {
					version = value
				}
			}
		}
		if ok && brand != "" {
			fn(brand, version)
		}
		// Move to the next item, wherever this one ended.
		for i < len(s) && s[i] != ',' {
			if s[i] == '"' {
				_, i = readQuoted(s, i)
				continue
			}
			i++
		}
		i++ // the comma
	}
}

// readBareItem reads a structured-field string or token at s[i].
func readBareItem(s string, i int) (string, int, bool) {
	if i >= len(s) {
		return "", i, false
	}
	if s[i] == '"' {
		v, next := readQuoted(s, i)
		return v, next, true
	}
	start := i
	for i < len(s) && s[i] != ';' && s[i] != ',' && s[i] != ' ' && s[i] != '=' && s[i] != '"' {
		i++
	}
	return s[start:i], i, i > start
}

// browser prefers the browser the hints name over the one the string names,
// except that hints saying only "Google Chrome" or "Chromium" do not overrule a
// Chrome fork the string names (Vivaldi, Yandex, ...).
func (h uaHints) browser(family, version string) (string, string) {
	hf := h.family
	if hf == "" && h.chromium {
		hf = "Chromium"
	}
	switch {
	case hf == "":
		return family, version
	case hf == "Chromium" && family != "":
		return family, version
	case hf == "Chrome" && family != "" && family != "Chrome" && family != "Chromium":
		return family, version
	}
	return hf, h.version
}

// apply corrects what the string says about the system with what the hints
// say: the real Windows and Android versions, and the real Android model that
// Chrome's reduced User-Agent hides.
func (h uaHints) apply(p uaPlatform, ua string) uaPlatform {
	major, minor := splitVersion(h.platformVersion)
	n := versionNumber(major)
	switch h.platform {
	case "Windows":
		q := uaPlatform{os: "Windows", typ: Desktop}
		if p.os == "Windows" {
			q.version = p.version
		}
		switch {
		case major == "":
		case n >= 13: // Windows 11 reports 13 and up; Windows 10 reports 1 to 10.
			q.version = "11"
		case n >= 1:
			q.version = "10"
		case minor == "1":
			q.version = "7"
		case minor == "2":
			q.version = "8"
		case minor == "3":
			q.version = "8.1"
		}
		p = q
	case "macOS":
		if p.os == "iPadOS" {
			break // a Mac string the hints call mobile: see claimsIPad
		}
		q := uaPlatform{os: "macOS", typ: Desktop, mac: true}
		if p.os == "macOS" {
			q.version = p.version
		}
		if n >= 11 {
			q.version = major
		} else if n == 10 && minor != "" {
			q.version = "10." + minor
		}
		p = q
	case "Android":
		q := uaPlatform{os: "Android", typ: p.typ, model: p.model}
		if p.os == "Android" {
			q.version = p.version
		} else {
			q.typ, q.model = mobileOrTablet(ua), ""
		}
		if n > 0 {
			q.version = major
		}
		switch h.mobile {
		case 1:
			q.typ = Phone
		case 0:
			q.typ = Tablet
		}
		p = q
	case "ChromeOS":
		p = uaPlatform{os: "ChromeOS", typ: Desktop}
	case "Linux":
		switch p.os {
		case "Linux", "Ubuntu", "Fedora", "Debian":
			p = uaPlatform{os: p.os, typ: Desktop}
		default:
			p = uaPlatform{os: "Linux", typ: Desktop}
		}
	case "iOS":
		q := uaPlatform{os: "iOS", typ: Phone, model: "iPhone"}
		if p.os == "iOS" || p.os == "iPadOS" {
			q.version = p.version
		}
		if p.os == "iPadOS" || p.mac || p.model == "iPad" {
			q.os, q.typ, q.model = "iPadOS", Tablet, "iPad"
		}
		if n > 0 {
			q.version = major
		}
		p = q
	}
	if h.model != "" {
		p.model = h.model
	}
	return p
}
