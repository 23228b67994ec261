// Package device names the device behind a session from what its browser sends:
// "Chrome 131 on macOS", from the User-Agent header and the User-Agent Client
// Hints. It is pure string parsing, with no database and no HTTP, so it can be
// tested and fuzzed on its own.
package device

import (
	"slices"
	"strings"

	"github.com/mssola/useragent"

	"github.com/elsewhere-dev/elsewhere/models/text"
)

// Type is the kind of device a session runs on, as shown by its icon.
type Type string

// The device types a session can have.
const (
	Desktop Type = "desktop"
	Phone   Type = "phone"
	Tablet  Type = "tablet"
	Bot     Type = "bot"
	Unknown Type = "unknown"
)

// Hints holds what a browser tells of itself besides its user agent: the raw
// User-Agent Client Hint headers, and what the sign-in page's script saw.
type Hints struct {
	UA              string `json:"ua,omitempty"`                // Sec-CH-UA
	FullVersionList string `json:"full_version_list,omitempty"` // Sec-CH-UA-Full-Version-List
	Mobile          string `json:"mobile,omitempty"`            // Sec-CH-UA-Mobile
	Platform        string `json:"platform,omitempty"`          // Sec-CH-UA-Platform
	PlatformVersion string `json:"platform_version,omitempty"`  // Sec-CH-UA-Platform-Version
	Model           string `json:"model,omitempty"`             // Sec-CH-UA-Model
	// Touch is navigator.maxTouchPoints as the sign-in form's script reported it (0 to
	// 32; 0 when not reported): a "Mac" with a touch screen is an iPad.
	Touch int `json:"touch,omitempty"`
	// TimeZone is the IANA zone the sign-in form's script reported ("Europe/Berlin"),
	// once models.TimeZone accepted it; "" when not reported.
	TimeZone string `json:"tz,omitempty"`
}

// Device is what a person reads about a session's device: "iPhone · Safari 26".
type Device struct {
	Browser string // browser with major version, "Chrome 131"; "" when unknown
	OS      string // operating system with version where known, "macOS", "Windows 11"; "" when unknown
	Type    Type   // desktop, phone, tablet, bot or unknown
	Model   string // hardware model where known, "Pixel 8", "iPhone", "iPad"; often ""
}

// Name is the device as people call it: "iPhone", "iPad", "Pixel 8", "Mac", "Windows
// PC", "Chromebook"; for a bot, the bot. "" when nothing is known of the hardware.
func (d Device) Name() string {
	if d.Type == Bot {
		return d.Browser
	}
	if d.Model != "" {
		return d.Model
	}
	family := d.OSFamily()
	switch family {
	case "macOS":
		return "Mac"
	case "Windows":
		return "Windows PC"
	case "ChromeOS":
		return "Chromebook"
	case "Linux", "Ubuntu", "Fedora", "Debian", "FreeBSD", "OpenBSD", "NetBSD", "BSD", "Solaris":
		return "Linux PC"
	case "iOS":
		return "iPhone"
	case "iPadOS":
		return "iPad"
	}
	switch d.Type {
	case Phone:
		if family != "" {
			return family + " phone"
		}
		return "Phone"
	case Tablet:
		if family != "" {
			return family + " tablet"
		}
		return "Tablet"
	case Desktop:
		return "Computer"
	}
	return ""
}

// OSFamily is the operating system without its version: "iOS" for "iOS 26".
func (d Device) OSFamily() string {
	if knownFamilies[d.OS] {
		return d.OS // "Nokia Series 40"
	}
	if i := strings.LastIndexByte(d.OS, ' '); i >= 0 && leadingNumber(d.OS[i+1:]) != "" {
		return d.OS[:i]
	}
	return d.OS
}

// UnknownBrowser stands for a browser this package cannot name.
const UnknownBrowser = "Unknown browser"

// Label is the one-line name of the device, the device first and its browser second:
// "iPhone · Safari 26", "Pixel 8 · Chrome 143", "Windows PC · Edge 143". A Chromebook's
// own Chrome goes without saying.
func (d Device) Label() string {
	name := d.Name()
	switch {
	case d.Type == Bot && name != "":
		return name
	case name != "" && d.Browser == "":
		return name + " · " + UnknownBrowser
	case name == "Chromebook" && strings.HasPrefix(d.Browser, "Chrome"):
		return name
	case name != "":
		return name + " · " + d.Browser
	case d.Browser != "":
		return d.Browser
	}
	return "Unknown device"
}

// Limits on what is kept and read of the headers a device sends, and on what a label
// shows. User agents and client hints are written by whoever sends the request, so
// nothing past these is stored or parsed. They are the only copies: models cuts what
// it stores with them too.
const (
	MaxUserAgentLen = 512 // bytes of the User-Agent header kept and read
	MaxHintLen      = 256 // bytes of one client hint header kept and read
	maxBrands       = 16  // items of the Sec-CH-UA list that are read
	maxFieldLength  = 64  // bytes of each Device field
)

// Parse labels a user agent, preferring client hints where they are present.
// mssola/useragent reads the string first; the rules in this package (browser.go,
// bot.go, platform.go, hints.go) correct it for current browsers and systems. It
// never fails: what it cannot tell is left empty, and a string it cannot read at
// all gives an unknown device.
func Parse(ua string, hints Hints) Device {
	ua = strings.TrimSpace(boundBytes(ua, MaxUserAgentLen))
	if strings.IndexByte(ua, ' ') < 0 && strings.IndexByte(ua, '+') >= 0 {
		ua = strings.ReplaceAll(ua, "+", " ") // form-encoded, as some proxies and logs pass it on
	}
	base := parseBase(ua)
	h := parseHints(hints)

	if name, version, ok := detectBot(ua, asciiLower(ua), base.Bot()); ok || h.headless {
		if !ok {
			name, version = "Headless Chrome", h.version
		}
		d := Device{Browser: text.Label(withMajor(name, version), maxFieldLength), Type: Bot}
		if plat := h.apply(parsePlatform(ua), ua); plat.os != "" {
			d.OS = text.Label(plat.String(), maxFieldLength)
		}
		return d
	}

	plat := parsePlatform(ua)
	family, version := parseBrowser(ua, plat)
	if family == "" {
		family, version = firstProduct(ua)
	}
	if family == "" {
		family, version = fallbackBrowser(base)
	}
	if plat.mac && plat.os == "macOS" && claimsIPad(ua, h) {
		plat = uaPlatform{os: "iPadOS", typ: Tablet, model: "iPad"}
	}
	if (plat.os == "Linux" || plat.os == "macOS") && slices.Contains(androidOnlyBrowsers, family) {
		plat = uaPlatform{os: "Android", typ: mobileOrTablet(ua)}
	}
	family, version = h.browser(family, version)
	plat = h.apply(plat, ua)

	d := Device{
		Browser: text.Label(withMajor(family, version), maxFieldLength),
		OS:      text.Label(plat.String(), maxFieldLength),
		Type:    plat.typ,
		Model:   text.Label(plat.model, maxFieldLength),
	}
	switch {
	case d.Browser == "" && d.OS == "":
		d.Type = Unknown // nothing readable: "Unknown device"
	case plat.os == "" && (base.Mobile() || h.mobile == 1):
		d.Type = Phone // a browser on a phone system not named here
	}
	return d
}

// parseBase runs mssola/useragent on ua. The string is attacker-written, so a
// panic in the library on some input must not take the sign-in down with it:
// it then counts as a string the library could not read.
func parseBase(ua string) (p *useragent.UserAgent) {
	defer func() {
		if recover() != nil {
			p = new(useragent.UserAgent)
		}
	}()
	return useragent.New(ua)
}

// withMajor joins a family and the major part of its version: "Chrome 131".
func withMajor(family, version string) string {
	if family == "" {
		return ""
	}
	if major := leadingNumber(version); major != "" {
		return family + " " + major
	}
	return family
}

// fallbackBrowser takes mssola/useragent's browser when no rule here named
// one, as long as it is a name this package knows (names.go) and not a default
// guess: the library copies product tokens out of the string as they are.
func fallbackBrowser(base *useragent.UserAgent) (family, version string) {
	name, version := base.Browser()
	switch name {
	case "", "Mozilla", "Safari", "Mobile App", "Android", "Chrome", "Firefox":
		return "", "" // default guesses, or browsers the rules here would have named
	case "Ubuntu", "Fedora", "Debian", "Linux", "Windows", "Gecko", "AppleWebKit", "KHTML", "Version", "Mobile":
		return "", "" // a system or engine read as the browser
	}
	known, ok := knownName(name)
	if !ok {
		return "", ""
	}
	return known, version
}

// firstProduct names an app that starts the string with its own product token
// ("Reader Notifier/5 CFNetwork/596.3.3 Darwin/12.3.0") when it is one this package
// knows.
func firstProduct(ua string) (family, version string) {
	name, rest, ok := strings.Cut(ua, "/")
	if !ok || strings.ContainsAny(name, "();") {
		if name, _, ok = strings.Cut(ua, " CFNetwork/"); !ok {
			return "", ""
		}
		rest = ""
	}
	known, ok := knownName(name)
	if !ok {
		return "", ""
	}
	return known, untilEdge(rest)
}

// claimsIPad reports whether a string that claims a Mac comes from an iPad
// asking for desktop sites. Safari on iPad sends exactly what Safari on a Mac
// does, so only a browser that exists only on iOS, WebKit's "Mobile/" build
// token, client hints naming iOS or a mobile device, or the touch points the
// sign-in page's script saw can tell.
func claimsIPad(ua string, h uaHints) bool {
	for _, t := range iOSOnlyTokens {
		if _, ok := productVersion(ua, t); ok {
			return true
		}
	}
	if _, ok := productVersion(ua, "Mobile/"); ok {
		return true
	}
	// A Mac has no touch screen; an iPad's script reports five touch points.
	return h.platform == "iOS" || h.mobile == 1 && (h.platform == "" || h.platform == "macOS") || h.touch > 1
}
