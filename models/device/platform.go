package device

import "strings"

// uaPlatform is what a User-Agent string says about the operating system and
// the hardware it runs on.
type uaPlatform struct {
	os      string // family a person reads: "Windows", "macOS", "iOS", "iPadOS", "Android"
	version string // shown after the family: "7", "18", "10.6"; "" when the string cannot tell
	typ     Type
	model   string
	mac     bool // the string claims a Mac, which an iPad asking for desktop sites also does
}

// String is the operating system as a person reads it: "iOS 18", "macOS".
func (p uaPlatform) String() string {
	if p.os == "" || p.version == "" {
		return p.os
	}
	return p.os + " " + p.version
}

// parsePlatform reads the operating system, device type and model from a
// User-Agent string. Order matters: phones claim to be "like Mac OS X", Windows
// Phone claims to be Android and iPhone, and Android claims to be Linux.
func parsePlatform(ua string) uaPlatform {
	c := platformComment(ua)
	switch {
	case strings.Contains(ua, "Windows Phone") || strings.Contains(ua, "Windows Mobile") || strings.Contains(c, "ZuneWP7") || strings.Contains(c, "XBLWP7"):
		v, _ := versionAfter(ua, "Windows Phone OS ")
		if v == "" {
			v, _ = versionAfter(ua, "Windows Phone ")
		}
		return uaPlatform{os: "Windows Phone", version: leadingNumber(v), typ: Phone}
	case hasWord(c, "CrOS"):
		return uaPlatform{os: "ChromeOS", typ: Desktop}
	case strings.Contains(ua, "OpenHarmony") || strings.Contains(ua, "HarmonyOS"):
		return uaPlatform{os: "HarmonyOS", typ: mobileOrTablet(ua)}
	case strings.Contains(ua, "iPad"):
		p := applePlatform(ua, c)
		p.typ, p.model = Tablet, "iPad"
		if versionNumber(p.version) >= 13 {
			p.os = "iPadOS"
		}
		return p
	case strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPod"):
		p := applePlatform(ua, c)
		p.typ, p.model = Phone, "iPhone"
		if strings.Contains(ua, "iPod") {
			p.model = "iPod touch"
		}
		return p
	case strings.Contains(ua, "tvOS"):
		v, _ := versionAfter(ua, "tvOS ")
		return uaPlatform{os: "tvOS", version: leadingNumber(v), typ: Unknown, model: "Apple TV"}
	case strings.Contains(ua, "watchOS"):
		v, _ := versionAfter(ua, "watchOS/")
		return uaPlatform{os: "watchOS", version: leadingNumber(v), typ: Unknown, model: "Apple Watch"}
	case strings.Contains(ua, "KAIOS") || strings.Contains(ua, "KaiOS"):
		return uaPlatform{os: "KaiOS", typ: Phone}
	case strings.Contains(ua, "Sailfish"):
		return uaPlatform{os: "Sailfish", typ: Phone}
	case strings.Contains(ua, "MeeGo"):
		return uaPlatform{os: "MeeGo", typ: Phone}
	case strings.Contains(ua, "CFNetwork/") && strings.Contains(ua, "Darwin/"):
		return darwinPlatform(ua)
	case strings.Contains(ua, "Bada/"):
		return uaPlatform{os: "Bada", typ: Phone}
	case strings.Contains(ua, "BREW") || strings.Contains(ua, "Brew MP") || strings.Contains(ua, " BMP/") || strings.HasPrefix(c, "BMP "):
		if strings.Contains(ua, "Brew MP") || strings.Contains(ua, "BMP") {
			return uaPlatform{os: "Brew MP", typ: Phone}
		}
		return uaPlatform{os: "BREW", typ: Phone}
	case strings.Contains(ua, "Series40"):
		return uaPlatform{os: "Nokia Series 40", typ: Phone}
	case strings.Contains(ua, "SymbianOS") || strings.Contains(ua, "Series 60") || strings.Contains(ua, "S60V5"):
		return uaPlatform{os: "Symbian", typ: Phone}
	case strings.HasPrefix(ua, "Roku/"):
		return uaPlatform{os: "Roku", typ: Unknown}
	case strings.Contains(ua, "Web0S"):
		return uaPlatform{os: "webOS", typ: Unknown}
	case strings.Contains(ua, "WebTV/"):
		return uaPlatform{os: "WebTV", typ: Unknown}
	case strings.Contains(ua, "Kindle/"):
		return uaPlatform{os: "Kindle", typ: Tablet}
	case hasWord(c, "iOS") || strings.Contains(c, ";iOS ") || strings.Contains(c, "; iOS "):
		v, _ := versionAfter(c, "iOS ")
		return uaPlatform{os: "iOS", version: leadingNumber(v), typ: Phone}
	case strings.Contains(ua, ";Darwin/") && (strings.Contains(ua, ";i386") || strings.Contains(ua, ";x86_64") || strings.Contains(ua, ";arm64")):
		return uaPlatform{os: "macOS", typ: Desktop, mac: true}
	}
	if p, ok := androidPlatform(ua, c); ok {
		return p
	}
	switch {
	case strings.Contains(ua, "Macintosh") || strings.Contains(ua, "Mac OS X") || strings.Contains(ua, "Mac_PowerPC"):
		return macPlatform(ua)
	case strings.Contains(ua, "Windows") || strings.Contains(ua, "Win98") || strings.Contains(ua, "Win95") ||
		strings.Contains(ua, "Win 9x") || strings.Contains(ua, "WinNT") || hasWord(c, "Win32") || hasWord(c, "Win64"):
		return uaPlatform{os: "Windows", version: windowsVersion(ua), typ: Desktop}
	case strings.Contains(ua, "BlackBerry") || strings.Contains(ua, "BB10"):
		return uaPlatform{os: "BlackBerry", typ: Phone}
	case strings.Contains(ua, "PlayBook") || strings.Contains(ua, "RIM Tablet OS"):
		return uaPlatform{os: "BlackBerry", typ: Tablet}
	case strings.Contains(ua, "Symbian") || strings.Contains(ua, "Series60") || strings.Contains(ua, "S60;"):
		return uaPlatform{os: "Symbian", typ: Phone}
	case strings.Contains(ua, "webOS") || strings.Contains(ua, "hpwOS"):
		return uaPlatform{os: "webOS", typ: Phone}
	case strings.Contains(ua, "Tizen"):
		return uaPlatform{os: "Tizen", typ: mobileOrTablet(ua)}
	case strings.Contains(ua, "Ubuntu"):
		return uaPlatform{os: "Ubuntu", typ: Desktop}
	case strings.Contains(ua, "Fedora"):
		return uaPlatform{os: "Fedora", typ: Desktop}
	case strings.Contains(ua, "Debian"):
		return uaPlatform{os: "Debian", typ: Desktop}
	case strings.Contains(ua, "FreeBSD"):
		return uaPlatform{os: "FreeBSD", typ: Desktop}
	case strings.Contains(ua, "OpenBSD"):
		return uaPlatform{os: "OpenBSD", typ: Desktop}
	case strings.Contains(ua, "NetBSD"):
		return uaPlatform{os: "NetBSD", typ: Desktop}
	case strings.Contains(c, "BSD"):
		return uaPlatform{os: "BSD", typ: Desktop}
	case strings.Contains(ua, "SunOS"):
		return uaPlatform{os: "Solaris", typ: Desktop}
	case strings.Contains(ua, "Linux") || hasWord(c, "X11"):
		return uaPlatform{os: "Linux", typ: Desktop}
	case strings.Contains(ua, "Gecko/") && (strings.HasPrefix(c, "Mobile;") || strings.HasPrefix(c, "Tablet;")):
		// Firefox OS: Gecko on a phone that names no other system.
		return uaPlatform{os: "Firefox OS", typ: mobileOrTablet(c)}
	}
	return uaPlatform{typ: Unknown}
}

// darwinPlatform reads the system of an Apple app that sends only its own name
// and the networking library's ("Name/1.0 CFNetwork/1410 Darwin/22.6.0"). Most
// such apps run on iOS; a Mac names its hardware or architecture.
func darwinPlatform(ua string) uaPlatform {
	for _, mac := range []string{"Macintosh", "MacBook", "Macmini", "iMac", "MacPro", "(x86_64)", "(i386)", "(arm64)"} {
		if strings.Contains(ua, mac) {
			return uaPlatform{os: "macOS", typ: Desktop, mac: true}
		}
	}
	return uaPlatform{os: "iOS", typ: Phone}
}

// mobileOrTablet tells a phone from a tablet the way Android browsers say it:
// phones add a "Mobile" token, tablets leave it out.
func mobileOrTablet(ua string) Type {
	if hasWord(ua, "Mobile") || strings.Contains(ua, "Opera Mobi") {
		return Phone
	}
	return Tablet
}

// applePlatform reads the iOS version of an iPhone, iPad or iPod.
func applePlatform(ua, comment string) uaPlatform {
	v, ok := versionAfter(comment, " OS ")
	if !ok {
		v, _ = versionAfter(ua, "iOS ")
	}
	major := leadingNumber(v)
	// Since iOS 26, Safari freezes the system version in the string at 18.6
	// but its own version, which matches the system's, keeps moving.
	if major == "18" {
		if sv, ok := productVersion(ua, "Version/"); ok {
			if m := leadingNumber(sv); versionNumber(m) >= 26 {
				major = m
			}
		}
	}
	return uaPlatform{os: "iOS", version: major}
}

// androidPlatform reads Android's version, the phone-or-tablet distinction and
// the model from the platform comment: "Linux; Android 14; Pixel 8".
func androidPlatform(ua, comment string) (uaPlatform, bool) {
	at := -1
	for from := 0; from < len(ua); {
		i := strings.Index(ua[from:], "Android")
		if i < 0 {
			break
		}
		i += from
		end := i + len("Android")
		if (i == 0 || isTokenEdge(ua[i-1])) && (end == len(ua) || strings.IndexByte(" ;):/", ua[end]) >= 0) {
			at = i
			break
		}
		from = end
	}
	if at < 0 {
		return uaPlatform{}, false
	}
	p := uaPlatform{os: "Android", typ: mobileOrTablet(ua)}
	v, ok := versionAfter(ua[at:], "Android ")
	if !ok {
		v, _ = versionAfter(ua[at:], "Android/")
	}
	p.version = leadingNumber(v)
	raw := androidModel(comment)
	p.model = modelName(raw)
	// Chrome's reduced User-Agent freezes every device at "Android 10; K".
	if raw == "K" && p.version == "10" {
		p.version = ""
	}
	return p, true
}

// androidModel picks the hardware model out of an Android platform comment:
// the first part after "Android x" that is not a flag, locale or architecture.
func androidModel(comment string) string {
	seenAndroid := false
	for comment != "" {
		part := comment
		if i := strings.IndexByte(comment, ';'); i >= 0 {
			part, comment = comment[:i], comment[i+1:]
		} else {
			comment = ""
		}
		part = strings.TrimSpace(part)
		if !seenAndroid {
			seenAndroid = strings.HasPrefix(part, "Android")
			continue
		}
		if i := strings.Index(part, "Build/"); i >= 0 {
			part = strings.TrimSpace(part[:i])
		}
		if part == "" || isAndroidFiller(part) {
			continue
		}
		return part
	}
	return ""
}

// isAndroidFiller reports whether a platform comment part is something other
// than a model: "U", "wv", "Mobile", "rv:133.0", "en-us", "arm_64", a version,
// a product token ("Opera Mobi/ADR-1111101157").
func isAndroidFiller(s string) bool {
	switch s {
	case "U", "I", "N", "wv", "Mobile", "Tablet", "Linux", "arm", "arm_64", "aarch64", "x86", "x86_64":
		return true
	}
	if strings.HasPrefix(s, "rv:") || s[0] >= '0' && s[0] <= '9' || strings.IndexByte(s, '/') >= 0 {
		return true
	}
	// Locales: "en", "en-us", "pt_BR".
	if len(s) == 2 && isLowerASCII(s[0]) && isLowerASCII(s[1]) {
		return true
	}
	if len(s) == 5 && (s[2] == '-' || s[2] == '_') && isLetterASCII(s[0]) && isLetterASCII(s[1]) && isLetterASCII(s[3]) && isLetterASCII(s[4]) {
		return true
	}
	return false
}

// macPlatform reads a Mac's system version. Browsers have frozen it at
// 10.15.7 since macOS 11, so only older versions are shown.
func macPlatform(ua string) uaPlatform {
	p := uaPlatform{os: "macOS", typ: Desktop, mac: true}
	v, _ := versionAfter(ua, "Mac OS X ")
	major, minor := splitVersion(v)
	if major == "10" && minor != "" && versionNumber(minor) < 15 {
		p.version = "10." + minor
	}
	return p
}

// windowsVersion names the Windows release behind an NT version. "Windows NT
// 10.0" is both Windows 10 and 11, so it gives no version.
func windowsVersion(ua string) string {
	if v, ok := versionAfter(ua, "Windows NT "); ok {
		switch v {
		case "6.3":
			return "8.1"
		case "6.2":
			return "8"
		case "6.1":
			return "7"
		case "6.0":
			return "Vista"
		case "5.1", "5.2":
			return "XP"
		case "5.0", "5.01":
			return "2000"
		}
		return ""
	}
	switch {
	case strings.Contains(ua, "Windows XP"):
		return "XP"
	case strings.Contains(ua, "Windows 2000"):
		return "2000"
	case strings.Contains(ua, "Windows 98") || strings.Contains(ua, "Win98"):
		return "98"
	case strings.Contains(ua, "Windows 95") || strings.Contains(ua, "Win95"):
		return "95"
	case strings.Contains(ua, "Windows ME") || strings.Contains(ua, "Win 9x 4.90"):
		return "ME"
	}
	return ""
}
