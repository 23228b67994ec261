package device

import "strings"

// browserTokens name a browser by the product token it adds to the string, in
// the order they are tried: browsers built on Chrome or Safari keep those
// tokens and add their own, so the more specific token must come first.
var browserTokens = []struct{ needle, family string }{
	{"Ddg/", "DuckDuckGo"},
	{"DuckDuckGo/", "DuckDuckGo"},
	{"YaBrowser/", "Yandex"},
	{"YaSearchBrowser/", "Yandex"},
	{"OculusBrowser/", "Oculus Browser"},
	{"SailfishBrowser/", "Sailfish Browser"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"OPX/", "Opera GX"},
	{"OPR/", "Opera"},
	{"OPT/", "Opera"},
	{"OPiOS/", "Opera Mini"},
	{"Vivaldi/", "Vivaldi"},
	{"EdgA/", "Edge"},
	{"EdgiOS/", "Edge"},
	{"Edg/", "Edge"},
	{"Edge/", "Edge"},
	{"Whale/", "Whale"},
	{"NokiaBrowser/", "Nokia Browser"},
	{"BrowserNG/", "Nokia Browser"},
	{"wOSBrowser/", "webOS Browser"},
	{"Konqueror/", "Konqueror"},
	{"konqueror/", "Konqueror"},
	{"Silk/", "Silk"},
	{"MiuiBrowser/", "MIUI Browser"},
	{"HuaweiBrowser/", "Huawei Browser"},
	{"CriOS/", "Chrome"},
	{"CrMo/", "Chrome"},
	{"FxiOS/", "Firefox"},
	{"GSA/", "Google App"},
	{"Electron/", "Electron"},
	{"SeaMonkey/", "SeaMonkey"},
	{"Waterfox/", "Waterfox"},
	{"PaleMoon/", "Pale Moon"},
	{"IceCat/", "IceCat"},
	{"Iceweasel/", "Iceweasel"},
	{"Chromium/", "Chromium"},
}

// androidOnlyBrowsers exist only on Android (Fire OS included). In desktop mode
// they claim Linux or a Mac, which this corrects.
var androidOnlyBrowsers = []string{"Samsung Internet", "Silk", "Oculus Browser"}

// iOSOnlyTokens are browsers that exist only on iOS and iPadOS. One of them in
// a string that claims a Mac means an iPad asking for desktop sites.
var iOSOnlyTokens = []string{"CriOS/", "FxiOS/", "EdgiOS/", "OPiOS/"}

// parseBrowser names the browser in a User-Agent string and its version
// ("Chrome", "131.0.6778.86"), or returns an empty family when it cannot tell.
func parseBrowser(ua string, plat uaPlatform) (family, version string) {
	if hasWord(ua, "Brave") || strings.Contains(ua, "brave/") {
		// Brave's own token carries no useful version; it follows Chromium's.
		v, _ := productVersion(ua, "Chrome/")
		return "Brave", v
	}
	if strings.Contains(ua, "[FBAN") || strings.Contains(ua, "[FB_IAB") {
		return "Facebook", ""
	}
	if family, version, ok := consoleBrowser(ua); ok {
		return family, version
	}
	for _, t := range otherProducts {
		if !strings.HasSuffix(t.needle, "/") {
			if hasWord(ua, t.needle) {
				v, _ := productVersion(ua, t.needle+"/")
				return t.family, v
			}
			continue
		}
		if v, ok := productVersion(ua, t.needle); ok {
			return t.family, v
		}
	}
	for _, t := range browserTokens {
		if v, ok := productVersion(ua, t.needle); ok {
			return t.family, v
		}
	}
	if strings.Contains(ua, "UCBrowser") || strings.Contains(ua, "UCWEB") || strings.Contains(ua, "UC Browser") {
		v, _ := productVersion(ua, "UCBrowser/")
		return "UC Browser", v
	}
	// Old Opera wears a Firefox mask on Android, so it comes before Firefox.
	if family, version, ok := legacyOpera(ua); ok {
		return family, version
	}
	if v, ok := productVersion(ua, "Firefox/"); ok {
		return "Firefox", v
	}
	if v, ok := productVersion(ua, "Fennec/"); ok {
		return "Firefox", v
	}
	if v, ok := versionAfter(ua, "MSIE "); ok {
		return "Internet Explorer", v
	}
	if strings.Contains(ua, "Trident/") {
		v, _ := versionAfter(ua, "rv:")
		return "Internet Explorer", v
	}
	if v, ok := productVersion(ua, "Chrome/"); ok {
		if plat.os == "Android" && isAndroidWebView(ua) {
			// An app showing a page: name the app when it signs the string.
			if app, appVersion, ok := tokenAfter(ua, "Safari/"); ok {
				return app, appVersion
			}
			return "Android WebView", v
		}
		return "Chrome", v
	}
	if !strings.Contains(ua, "AppleWebKit/") {
		return "", ""
	}
	v, hasVersion := productVersion(ua, "Version/")
	apple := plat.mac || plat.os == "iOS" || plat.os == "iPadOS"
	switch {
	case plat.os == "Android" && hasVersion:
		return "Android Browser", v
	case plat.os == "BlackBerry" && hasWord(ua, "Safari"):
		return "BlackBerry Browser", v
	case plat.os == "webOS" && hasWord(ua, "Safari"):
		return "webOS Browser", v
	case plat.os == "Symbian":
		return "Nokia Browser", v
	case hasWord(ua, "Safari") && (hasVersion || apple):
		return "Safari", v
	case apple:
		// WKWebView inside an app, which may sign the string after WebKit's
		// "Mobile/15E148" build token.
		if app, appVersion, ok := tokenAfter(ua, "Mobile/"); ok {
			return app, appVersion
		}
		if !hasWord(ua, "Safari") && !strings.Contains(ua, "Safari/") && plat.os != "macOS" {
			return InAppBrowser, ""
		}
	}
	return "", ""
}

// InAppBrowser names the web view an app shows pages in when the app does not sign the
// user agent with a name this package knows.
const InAppBrowser = "In-app browser"

// consoleBrowser names the browsers of game consoles, feature phones and e-readers,
// which sign no product token of their own or sign it inside another: NetFront, its
// WebKit successor NetFront NX, and Obigo.
func consoleBrowser(ua string) (family, version string, ok bool) {
	switch {
	case strings.Contains(ua, "NetFront"):
		i := strings.Index(ua, "NetFront/")
		if i >= 0 {
			version = untilEdge(ua[i+len("NetFront/"):])
		}
		return "NetFront", version, true
	case strings.Contains(ua, "Obigo"):
		return "Obigo", "", true
	case strings.HasPrefix(ua, "Opera"):
		return "", "", false
	case strings.Contains(ua, "PlayStation Vita"), strings.Contains(ua, "Nintendo 3DS"), strings.Contains(ua, "Nintendo Wii"),
		strings.Contains(ua, "PLAYSTATION 3") && strings.Contains(ua, "AppleWebKit/"):
		return "NetFront NX", "", true
	case strings.Contains(ua, "PLAYSTATION 3"), strings.Contains(ua, "PlayStation Portable"):
		return "NetFront", "", true
	}
	return "", "", false
}

// isAndroidWebView reports whether an Android string comes from the WebView
// inside an app, which marks itself "wv" in the platform comment.
func isAndroidWebView(ua string) bool {
	c := platformComment(ua)
	return strings.Contains(c, "; wv") && hasWord(c, "wv")
}

// tokenAfter returns the product token that follows the token named by
// needle: "Instagram", "33.0" in "... Mobile/15D60 Instagram 33.0 (...)".
func tokenAfter(ua, needle string) (name, version string, ok bool) {
	i := strings.Index(ua, needle)
	if i < 0 {
		return "", "", false
	}
	rest := ua[i+len(needle):]
	rest = strings.TrimLeft(rest[len(untilEdge(rest)):], " ")
	token := untilEdge(rest)
	name, version, _ = strings.Cut(token, "/")
	if version == "" {
		version = untilEdge(strings.TrimLeft(rest[len(token):], " "))
	}
	if name == "Safari" || name == "Mobile" {
		return "", "", false
	}
	known, ok := knownName(name)
	if !ok {
		return "", "", false
	}
	return known, version, true
}

// legacyOpera reads the Opera versions before Opera 15: Presto ("Opera/9.80 ...
// Version/12.16"), Opera Mini, Opera Mobile and "Opera 8.50" in an MSIE string.
func legacyOpera(ua string) (family, version string, ok bool) {
	if v, ok := productVersion(ua, "Opera Mini/"); ok {
		return "Opera Mini", v, true
	}
	if strings.Contains(ua, "Opera Mini") {
		return "Opera Mini", "", true
	}
	if !strings.HasPrefix(ua, "Opera") && !hasWord(ua, "Opera") && !strings.Contains(ua, "Opera Mobi") {
		return "", "", false
	}
	if v, ok := productVersion(ua, "Version/"); ok {
		return "Opera", v, true
	}
	if v, ok := productVersion(ua, "Opera/"); ok {
		return "Opera", v, true
	}
	v, _ := versionAfter(ua, "Opera ")
	return "Opera", v, true
}
