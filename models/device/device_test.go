package device

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/mssola/useragent"
)

// User agents of current browsers (2025-2026), as they send them.
const (
	uaChromeWindows  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"
	uaChromeMac      = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"
	uaChromeAndroid  = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36"
	uaSafariIPhone   = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1"
	uaSafariMac      = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Safari/605.1.15"
	uaFirefoxWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		ua   string
		want Device
	}{
		// Chrome
		{"Chrome on Windows", uaChromeWindows,
			Device{Browser: "Chrome 142", OS: "Windows", Type: Desktop}},
		{"Chrome on macOS", uaChromeMac,
			Device{Browser: "Chrome 142", OS: "macOS", Type: Desktop}},
		{"Chrome on Linux", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
			Device{Browser: "Chrome 142", OS: "Linux", Type: Desktop}},
		{"Chrome on ChromeOS", "Mozilla/5.0 (X11; CrOS x86_64 16328.65.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
			Device{Browser: "Chrome 142", OS: "ChromeOS", Type: Desktop}},
		{"Chrome on Windows 7", "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36",
			Device{Browser: "Chrome 109", OS: "Windows 7", Type: Desktop}},
		{"Chrome on Android, reduced UA: K is no model, 10 no version", uaChromeAndroid,
			Device{Browser: "Chrome 142", OS: "Android", Type: Phone}},
		{"Chrome on Android with model", "Mozilla/5.0 (Linux; Android 15; Pixel 9 Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.7444.48 Mobile Safari/537.36",
			Device{Browser: "Chrome 142", OS: "Android 15", Type: Phone, Model: "Pixel 9 Pro"}},
		{"Chrome on Android tablet (no Mobile token)", "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
			Device{Browser: "Chrome 142", OS: "Android 14", Type: Tablet, Model: "Galaxy Tab"}},
		{"Chrome on Android tablet, reduced UA", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
			Device{Browser: "Chrome 142", OS: "Android", Type: Tablet}},
		{"Chrome on Android, old UA with Build", "Mozilla/5.0 (Linux; Android 9; SM-G960F Build/PPR1.180610.011) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/74.0.3729.157 Mobile Safari/537.36",
			Device{Browser: "Chrome 74", OS: "Android 9", Type: Phone, Model: "Galaxy S9"}},
		{"Chrome on iPhone (CriOS)", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/142.0.7444.46 Mobile/15E148 Safari/604.1",
			Device{Browser: "Chrome 142", OS: "iOS 18", Type: Phone, Model: "iPhone"}},
		{"Chrome on iPad asking for desktop sites", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/142 Version/15.0 Safari/605.1.15",
			Device{Browser: "Chrome 142", OS: "iPadOS", Type: Tablet, Model: "iPad"}},

		// Safari
		{"Safari on iPhone is Safari, not Mobile Safari", uaSafariIPhone,
			Device{Browser: "Safari 18", OS: "iOS 18", Type: Phone, Model: "iPhone"}},
		{"Safari 26 on iOS 26, which freezes the OS at 18_6", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Mobile/15E148 Safari/604.1",
			Device{Browser: "Safari 26", OS: "iOS 26", Type: Phone, Model: "iPhone"}},
		{"Safari on iPad", "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
			Device{Browser: "Safari 17", OS: "iPadOS 17", Type: Tablet, Model: "iPad"}},
		{"Safari on iPad before iPadOS", "Mozilla/5.0 (iPad; CPU OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1",
			Device{Browser: "Safari 12", OS: "iOS 12", Type: Tablet, Model: "iPad"}},
		{"Safari on macOS", uaSafariMac,
			Device{Browser: "Safari 26", OS: "macOS", Type: Desktop}},
		{"Safari on an old Mac shows its version", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_13_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.2 Safari/605.1.15",
			Device{Browser: "Safari 13", OS: "macOS 10.13", Type: Desktop}},

		// Firefox
		{"Firefox on Windows", uaFirefoxWindows,
			Device{Browser: "Firefox 145", OS: "Windows", Type: Desktop}},
		{"Firefox on macOS", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:145.0) Gecko/20100101 Firefox/145.0",
			Device{Browser: "Firefox 145", OS: "macOS", Type: Desktop}},
		{"Firefox on Ubuntu", "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0",
			Device{Browser: "Firefox 145", OS: "Ubuntu", Type: Desktop}},
		{"Firefox on Android phone", "Mozilla/5.0 (Android 15; Mobile; rv:145.0) Gecko/145.0 Firefox/145.0",
			Device{Browser: "Firefox 145", OS: "Android 15", Type: Phone}},
		{"Firefox on Android tablet", "Mozilla/5.0 (Android 14; Tablet; rv:145.0) Gecko/145.0 Firefox/145.0",
			Device{Browser: "Firefox 145", OS: "Android 14", Type: Tablet}},
		{"Firefox on iPhone (FxiOS)", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/145.0 Mobile/15E148 Safari/605.1.15",
			Device{Browser: "Firefox 145", OS: "iOS 18", Type: Phone, Model: "iPhone"}},
		{"Firefox on iPad asking for desktop sites", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/145.0 Safari/605.1.15",
			Device{Browser: "Firefox 145", OS: "iPadOS", Type: Tablet, Model: "iPad"}},

		// Edge
		{"Edge on Windows", uaChromeWindows + " Edg/142.0.0.0",
			Device{Browser: "Edge 142", OS: "Windows", Type: Desktop}},
		{"Edge on Android (EdgA)", uaChromeAndroid + " EdgA/142.0.0.0",
			Device{Browser: "Edge 142", OS: "Android", Type: Phone}},
		{"Edge on iPhone (EdgiOS)", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 EdgiOS/142.3595.66 Mobile/15E148 Safari/605.1.15",
			Device{Browser: "Edge 142", OS: "iOS 18", Type: Phone, Model: "iPhone"}},

		// Other Chromium and WebKit browsers
		{"Samsung Internet", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/28.0 Chrome/130.0.0.0 Mobile Safari/537.36",
			Device{Browser: "Samsung Internet 28", OS: "Android", Type: Phone}},
		{"Samsung Internet in desktop mode is still Android", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/28.0 Chrome/130.0.0.0 Safari/537.36",
			Device{Browser: "Samsung Internet 28", OS: "Android", Type: Tablet}},
		{"Opera on Windows (OPR)", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36 OPR/123.0.0.0",
			Device{Browser: "Opera 123", OS: "Windows", Type: Desktop}},
		{"Opera on Android (OPR)", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Mobile Safari/537.36 OPR/92.0.0.0",
			Device{Browser: "Opera 92", OS: "Android", Type: Phone}},
		{"Opera on iPhone (OPT)", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1 OPT/6.1.0",
			Device{Browser: "Opera 6", OS: "iOS 18", Type: Phone, Model: "iPhone"}},
		{"Opera Mini on iPhone (OPiOS)", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) OPiOS/16.0.15.124050 Mobile/15E148 Safari/9537.53",
			Device{Browser: "Opera Mini 16", OS: "iOS 16", Type: Phone, Model: "iPhone"}},
		{"Opera Mobile before Chromium", "Opera/9.80 (Android 2.3.3; Linux; Opera Mobi/ADR-1111101157; U; es-ES) Presto/2.9.201 Version/11.50",
			Device{Browser: "Opera 11", OS: "Android 2", Type: Phone}},
		{"Opera Presto on Windows", "Opera/9.80 (Windows NT 6.1) Presto/2.12.388 Version/12.16",
			Device{Browser: "Opera 12", OS: "Windows 7", Type: Desktop}},
		{"Brave on Android names itself", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36 Brave/142",
			Device{Browser: "Brave 142", OS: "Android 14", Type: Phone, Model: "Pixel 8"}},
		{"Brave on iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1 Brave",
			Device{Browser: "Brave", OS: "iOS 18", Type: Phone, Model: "iPhone"}},
		{"Vivaldi", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 Vivaldi/7.6.3797.63",
			Device{Browser: "Vivaldi 7", OS: "Windows", Type: Desktop}},
		{"Yandex", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 YaBrowser/25.8.0.0 Safari/537.36",
			Device{Browser: "Yandex 25", OS: "Windows", Type: Desktop}},
		{"Yandex on Android", "Mozilla/5.0 (Linux; arm_64; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 YaBrowser/25.6.3.110.00 SA/3 Mobile Safari/537.36",
			Device{Browser: "Yandex 25", OS: "Android 14", Type: Phone, Model: "Galaxy A"}},
		{"DuckDuckGo on Android", "Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/142.0.0.0 Mobile DuckDuckGo/5 Safari/537.36",
			Device{Browser: "DuckDuckGo 5", OS: "Android 15", Type: Phone, Model: "Pixel 8"}},
		{"DuckDuckGo on iPhone (Ddg)", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1 Ddg/18.6",
			Device{Browser: "DuckDuckGo 18", OS: "iOS 18", Type: Phone, Model: "iPhone"}},
		{"Android WebView inside an app", "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240805.005; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/142.0.0.0 Mobile Safari/537.36",
			Device{Browser: "Android WebView 142", OS: "Android 14", Type: Phone, Model: "Pixel 8"}},

		// Bots and command-line clients
		{"curl", "curl/8.5.0", Device{Browser: "curl 8", Type: Bot}},
		{"Go", "Go-http-client/2.0", Device{Browser: "Go-http-client 2", Type: Bot}},
		{"python-requests", "python-requests/2.32.3", Device{Browser: "python-requests 2", Type: Bot}},
		{"Python urllib", "Python-urllib/3.12", Device{Browser: "Python-urllib 3", Type: Bot}},
		{"Wget", "Wget/1.21.4", Device{Browser: "Wget 1", Type: Bot}},
		{"Googlebot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
			Device{Browser: "Googlebot 2", Type: Bot}},
		{"Googlebot for smartphones", "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
			Device{Browser: "Googlebot 2", OS: "Android 6", Type: Bot}},
		{"Bingbot", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
			Device{Browser: "bingbot 2", Type: Bot}},
		{"headless Chrome", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/142.0.0.0 Safari/537.36",
			Device{Browser: "Headless Chrome", OS: "Windows", Type: Bot}},
		{"a Cubot phone is not a bot; a model not in the tables is not shown", "Mozilla/5.0 (Linux; Android 13; CUBOT KINGKONG 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36",
			Device{Browser: "Chrome 142", OS: "Android 13", Type: Phone}},

		// Nothing to read
		{"empty", "", Device{Type: Unknown}},
		{"blank", "  \t ", Device{Type: Unknown}},
		{"a word", "asdf", Device{Type: Unknown}},
		{"punctuation", "}{%$#@!", Device{Type: Unknown}},
		{"a bare Mozilla", "Mozilla/5.0", Device{Type: Unknown}},
		{"a dash, as some proxies send", "-", Device{Type: Unknown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(tt.ua, Hints{})
			if got != tt.want {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.ua, got, tt.want)
			}
			checkDevice(t, got)
		})
	}
}

func TestLabel(t *testing.T) {
	tests := []struct {
		d    Device
		want string
	}{
		{Device{Browser: "Chrome 131", OS: "macOS", Type: Desktop}, "Mac · Chrome 131"},
		{Device{Browser: "curl 8", Type: Bot}, "curl 8"},
		{Device{OS: "iOS 18", Type: Phone}, "iPhone · Unknown browser"},
		{Device{Browser: "Chrome 143", OS: "ChromeOS", Type: Desktop}, "Chromebook"},
		{Device{Browser: "Firefox 145", OS: "ChromeOS", Type: Desktop}, "Chromebook · Firefox 145"},
		{Device{Browser: "Edge 143", OS: "Windows 11", Type: Desktop}, "Windows PC · Edge 143"},
		{Device{Browser: "Chrome 143", OS: "Android 15", Type: Phone}, "Android phone · Chrome 143"},
		{Device{Browser: "Firefox 145", OS: "Ubuntu", Type: Desktop}, "Linux PC · Firefox 145"},
		{Device{Browser: "Opera 12", Type: Phone}, "Phone · Opera 12"},
		{Device{Browser: "Opera 12", Type: Unknown}, "Opera 12"},
		{Device{Type: Unknown}, "Unknown device"},
		{Parse("", Hints{}), "Unknown device"},
		{Parse("\x00\x01\xff", Hints{}), "Unknown device"},
		{Parse(uaChromeMac, Hints{}), "Mac · Chrome 142"},
		{Parse(uaSafariIPhone, Hints{}), "iPhone · Safari 18"},
	}
	for _, tt := range tests {
		if got := tt.d.Label(); got != tt.want {
			t.Errorf("%+v.Label() = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// Attacker-written strings come out as short, printable text with no markup.
func TestParseHostile(t *testing.T) {
	tests := []struct {
		name  string
		ua    string
		hints Hints
	}{
		{"markup, controls and invalid UTF-8 in the UA",
			"Mozilla/5.0 (Linux; Android 14; <script>alert(1)</script>\x00\x1b[31m\xff\xfe) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36", Hints{}},
		{"bidi override and zero-width characters in the model",
			"Mozilla/5.0 (Linux; Android 14; Pixel\u202e8\u200b\u2066) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36", Hints{}},
		{"a huge UA", strings.Repeat("Mozilla/5.0 (Linux; Android 14; "+strings.Repeat("A", 5000)+") ", 200), Hints{}},
		{"deeply nested comments", "Mozilla/5.0 " + strings.Repeat("(", 100000), Hints{}},
		{"a bot with a huge name", strings.Repeat("x", 3000) + "bot/1.0", Hints{}},
		{"hostile hints", uaChromeAndroid, Hints{
			UA:              `"<b>Evil</b>\u0000";v="1", "` + strings.Repeat("A", 10000) + `";v="` + strings.Repeat("9", 10000) + `"`,
			Mobile:          "?1",
			Platform:        `"Android\x00`,
			PlatformVersion: `"99999999999999999999.0"`,
			Model:           "\"<img src=x onerror=alert(1)>\u202e\xff\x7f" + strings.Repeat("é", 100) + "\"",
		}},
		{"unterminated structured fields", uaChromeWindows, Hints{
			UA: `"Chromium;v="131, "Google Chrome";v=`, Platform: `"Windows`, PlatformVersion: `"`, Model: `"`,
		}},
		{"endless brand list", uaChromeWindows, Hints{UA: strings.Repeat(`"Brave";v="1", `, 10000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Parse(tt.ua, tt.hints)
			checkDevice(t, d)
			for _, field := range []string{d.Browser, d.OS, d.Model, d.Label()} {
				if strings.ContainsAny(field, "<>\"`\\") {
					t.Errorf("field %q keeps markup characters", field)
				}
			}
		})
	}
}

func TestClientHints(t *testing.T) {
	chromeBrands := `"Chromium";v="142", "Not_A Brand";v="24", "Google Chrome";v="142"`
	tests := []struct {
		name  string
		ua    string
		hints Hints
		want  Device
	}{
		{"Windows 11 from the platform version", uaChromeWindows,
			Hints{UA: chromeBrands, Mobile: "?0", Platform: `"Windows"`, PlatformVersion: `"15.0.0"`},
			Device{Browser: "Chrome 142", OS: "Windows 11", Type: Desktop}},
		{"Windows 10 from the platform version", uaChromeWindows,
			Hints{UA: chromeBrands, Platform: `"Windows"`, PlatformVersion: `"10.0.0"`},
			Device{Browser: "Chrome 142", OS: "Windows 10", Type: Desktop}},
		{"Windows 8.1 from the platform version", uaChromeWindows,
			Hints{Platform: `"Windows"`, PlatformVersion: `"0.3.0"`},
			Device{Browser: "Chrome 142", OS: "Windows 8.1", Type: Desktop}},
		{"Windows without the high-entropy version stays Windows", uaChromeWindows,
			Hints{UA: chromeBrands, Mobile: "?0", Platform: `"Windows"`},
			Device{Browser: "Chrome 142", OS: "Windows", Type: Desktop}},
		{"a bare platform value from a lenient client", uaChromeWindows,
			Hints{Platform: `Windows`, PlatformVersion: `13.0.0`},
			Device{Browser: "Chrome 142", OS: "Windows 11", Type: Desktop}},
		{"the real Android model and version behind the reduced UA", uaChromeAndroid,
			Hints{UA: chromeBrands, Mobile: "?1", Platform: `"Android"`, PlatformVersion: `"14.0.0"`, Model: `"Pixel 8"`},
			Device{Browser: "Chrome 142", OS: "Android 14", Type: Phone, Model: "Pixel 8"}},
		{"the Android model without the version", uaChromeAndroid,
			Hints{Mobile: "?1", Platform: `"Android"`, Model: `"Pixel 8"`},
			Device{Browser: "Chrome 142", OS: "Android", Type: Phone, Model: "Pixel 8"}},
		{"an Android tablet says it is not mobile", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
			Hints{Mobile: "?0", Platform: `"Android"`, PlatformVersion: `"15.0.0"`, Model: `"SM-X910"`},
			Device{Browser: "Chrome 142", OS: "Android 15", Type: Tablet, Model: "Galaxy Tab"}},
		{"Brave from the brand list", uaChromeWindows,
			Hints{UA: `"Brave";v="142", "Chromium";v="142", "Not_A Brand";v="24"`, Platform: `"Windows"`},
			Device{Browser: "Brave 142", OS: "Windows", Type: Desktop}},
		{"Brave on Android", uaChromeAndroid,
			Hints{UA: `"Chromium";v="142", "Brave";v="142", "Not?A_Brand";v="99"`, Mobile: "?1", Platform: `"Android"`},
			Device{Browser: "Brave 142", OS: "Android", Type: Phone}},
		{"Edge from the brand list", uaChromeWindows,
			Hints{UA: `"Chromium";v="142", "Microsoft Edge";v="142", "Not/A)Brand";v="8"`, Platform: `"Windows"`, PlatformVersion: `"19.0.0"`},
			Device{Browser: "Edge 142", OS: "Windows 11", Type: Desktop}},
		{"Opera from the brand list", uaChromeWindows + " OPR/123.0.0.0",
			Hints{UA: `"Opera";v="123", "Chromium";v="138", "Not)A;Brand";v="8"`, Platform: `"Windows"`},
			Device{Browser: "Opera 123", OS: "Windows", Type: Desktop}},
		{"a fork the UA names is not downgraded by a Chromium-only list", uaChromeWindows + " Vivaldi/7.6.3797.63",
			Hints{UA: `"Chromium";v="142", "Not A(Brand";v="24"`, Platform: `"Windows"`},
			Device{Browser: "Vivaldi 7", OS: "Windows", Type: Desktop}},
		{"hints alone, with no UA", "",
			Hints{UA: `"Google Chrome";v="142", "Chromium";v="142", "Not_A Brand";v="24"`, Mobile: "?0", Platform: `"Linux"`},
			Device{Browser: "Chrome 142", OS: "Linux", Type: Desktop}},
		{"ChromeOS", uaChromeWindows,
			Hints{UA: chromeBrands, Platform: `"Chrome OS"`},
			Device{Browser: "Chrome 142", OS: "ChromeOS", Type: Desktop}},
		{"Linux hints keep the distribution the UA names", "Mozilla/5.0 (X11; Ubuntu; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
			Hints{UA: chromeBrands, Platform: `"Linux"`},
			Device{Browser: "Chrome 142", OS: "Ubuntu", Type: Desktop}},
		{"a headless browser is a bot", uaChromeWindows,
			Hints{UA: `"HeadlessChrome";v="142", "Chromium";v="142", "Not_A Brand";v="24"`},
			Device{Browser: "Headless Chrome 142", OS: "Windows", Type: Bot}},

		// Macs and iPads. Safari on an iPad sends exactly the Mac string and no
		// client hints, so that iPad reads as a Mac: nothing server-side can
		// tell. What can tell: a browser that exists only on iOS (see
		// TestParse), WebKit's "Mobile/" build token, and hints naming
		// iOS or a mobile device, which no Mac sends.
		{"a Mac stays a Mac", uaChromeMac,
			Hints{UA: chromeBrands, Mobile: "?0", Platform: `"macOS"`},
			Device{Browser: "Chrome 142", OS: "macOS", Type: Desktop}},
		{"the macOS version from hints", uaChromeMac,
			Hints{UA: chromeBrands, Mobile: "?0", Platform: `"macOS"`, PlatformVersion: `"15.1.0"`},
			Device{Browser: "Chrome 142", OS: "macOS 15", Type: Desktop}},
		{"Safari on an iPad asking for desktop sites cannot be told from a Mac", uaSafariMac,
			Hints{},
			Device{Browser: "Safari 26", OS: "macOS", Type: Desktop}},
		{"a Mac string with WebKit's Mobile build token is an iPad", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
			Hints{},
			Device{OS: "iPadOS", Type: Tablet, Model: "iPad"}},
		{"a Mac string whose hints name iOS is an iPad", uaSafariMac,
			Hints{Platform: `"iOS"`, PlatformVersion: `"18.1"`},
			Device{Browser: "Safari 26", OS: "iPadOS 18", Type: Tablet, Model: "iPad"}},
		{"a Mac string whose hints say mobile is an iPad", uaSafariMac,
			Hints{Mobile: "?1"},
			Device{Browser: "Safari 26", OS: "iPadOS", Type: Tablet, Model: "iPad"}},
		{"a Mac string whose hints say macOS but mobile is an iPad", uaSafariMac,
			Hints{Mobile: "?1", Platform: `"macOS"`},
			Device{Browser: "Safari 26", OS: "iPadOS", Type: Tablet, Model: "iPad"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(tt.ua, tt.hints)
			if got != tt.want {
				t.Errorf("Parse(%q, %+v)\n got %+v\nwant %+v", tt.ua, tt.hints, got, tt.want)
			}
			checkDevice(t, got)
		})
	}
}

func TestClientHintsBrandList(t *testing.T) {
	type brand struct{ name, version string }
	tests := []struct {
		header string
		want   []brand
	}{
		{`"Chromium";v="131", "Not_A Brand";v="24", "Google Chrome";v="131"`,
			[]brand{{"Chromium", "131"}, {"Not_A Brand", "24"}, {"Google Chrome", "131"}}},
		{`"Not/A)Brand";v="8","Chromium";v="126"`, []brand{{"Not/A)Brand", "8"}, {"Chromium", "126"}}},
		{`" Not;A Brand";v="99", "Opera";v="114"`, []brand{{" Not;A Brand", "99"}, {"Opera", "114"}}},
		{`"Quo\"ted\\";v="1"`, []brand{{`Quo"ted\`, "1"}}},
		{`Token;v=2, "Brave";v="131";extra=?1`, []brand{{"Token", "2"}, {"Brave", "131"}}},
		{`"No version"`, []brand{{"No version", ""}}},
		{``, nil},
		{`,,, ;;; ==`, nil},
		{`"Unterminated;v="1`, []brand{{"Unterminated;v=", ""}}},
	}
	for _, tt := range tests {
		var got []brand
		forEachBrand(tt.header, func(name, version string) { got = append(got, brand{name, version}) })
		if len(got) != len(tt.want) {
			t.Errorf("forEachBrand(%q) = %q, want %q", tt.header, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("forEachBrand(%q) = %q, want %q", tt.header, got, tt.want)
				break
			}
		}
	}

	for _, grease := range []string{"Not_A Brand", "Not/A)Brand", "Not A(Brand", "Not)A;Brand", " Not;A Brand", "Not.A/Brand", "Not:A-Brand", "Not?A_Brand", "Not=A?Brand"} {
		if !isGreaseBrand(grease) {
			t.Errorf("isGreaseBrand(%q) = false, want true", grease)
		}
	}
	for _, real := range []string{"Chromium", "Google Chrome", "Brave", "Microsoft Edge", "Not A Browser", ""} {
		if isGreaseBrand(real) {
			t.Errorf("isGreaseBrand(%q) = true, want false", real)
		}
	}
}

// checkDevice fails the test unless every field of d is valid, printable,
// bounded UTF-8 and its type is one of the five.
func checkDevice(t testing.TB, d Device) {
	t.Helper()
	switch d.Type {
	case Desktop, Phone, Tablet, Bot, Unknown:
	default:
		t.Errorf("type %q is not one of the five", d.Type)
	}
	for _, field := range []string{d.Browser, d.OS, d.Model} {
		if len(field) > maxFieldLength {
			t.Errorf("field is %d bytes, more than %d: %q", len(field), maxFieldLength, field)
		}
		if !utf8.ValidString(field) {
			t.Errorf("field is not valid UTF-8: %q", field)
		}
		for _, r := range field {
			if !unicode.IsGraphic(r) || unicode.Is(unicode.Cf, r) {
				t.Errorf("field has control or format character %U: %q", r, field)
			}
		}
		if field != strings.TrimSpace(field) {
			t.Errorf("field has surrounding space: %q", field)
		}
	}
	if d.Label() == "" {
		t.Error("empty label")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(uaChromeWindows, `"Chromium";v="142", "Not_A Brand";v="24", "Google Chrome";v="142"`, `"Windows"`, `""`)
	f.Add(uaChromeAndroid, `"Brave";v="142", "Chromium";v="142"`, `"Android"`, `"Pixel 8"`)
	f.Add(uaSafariIPhone, "", "", "")
	f.Add(uaSafariMac, "", `"iOS"`, "")
	f.Add("curl/8.5.0", `"`, `"\`, "\"\\")
	f.Add("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", ";;;", "?1", "K")
	f.Add("Opera/9.80 (Android 2.3.3; Linux; Opera Mobi/ADR-1111101157; U; es-ES) Presto/2.9.201 Version/11.50", `"Not)A;Brand";v=`, `"Chrome OS"`, "\x00\xff")
	f.Add("\xff\xfe(((((", `"\u202e";v="1"`, "\x7f", "<script>")
	f.Fuzz(func(t *testing.T, ua, chua, platform, model string) {
		d := Parse(ua, Hints{UA: chua, Mobile: model, Platform: platform, PlatformVersion: platform, Model: model})
		checkDevice(t, d)
	})
}

func BenchmarkParse(b *testing.B) {
	cases := []struct {
		name  string
		ua    string
		hints Hints
	}{
		{"chrome-windows-hints", uaChromeWindows, Hints{
			UA: `"Chromium";v="142", "Not_A Brand";v="24", "Google Chrome";v="142"`, Mobile: "?0", Platform: `"Windows"`, PlatformVersion: `"15.0.0"`}},
		{"chrome-android", uaChromeAndroid, Hints{}},
		{"safari-iphone", uaSafariIPhone, Hints{}},
		{"firefox-windows", uaFirefoxWindows, Hints{}},
		{"curl", "curl/8.5.0", Hints{}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Parse(c.ua, c.hints)
			}
		})
	}
	// The cost of mssola/useragent alone, which Parse runs first.
	b.Run("mssola-only/chrome-windows", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			useragent.New(uaChromeWindows)
		}
	})
}

// Parse reads no more of a header than a session keeps of it (MaxUserAgentLen,
// MaxHintLen), so a label never rests on bytes that were not stored.
func TestParseReadsWhatIsKept(t *testing.T) {
	ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) " + strings.Repeat("x", MaxUserAgentLen) + " Firefox/145.0"
	if d := Parse(ua, Hints{}); strings.HasPrefix(d.Browser, "Firefox") {
		t.Errorf("Parse read past %d bytes of the user agent: %+v", MaxUserAgentLen, d)
	}
	brands := `"` + strings.Repeat("a", MaxHintLen) + `";v="1", "Brave";v="142"`
	if d := Parse(uaChromeWindows, Hints{UA: brands}); d.Browser != "Chrome 142" {
		t.Errorf("Parse read past %d bytes of Sec-CH-UA: %+v", MaxHintLen, d)
	}
	if h := (Hints{UA: brands, Model: strings.Repeat("é", 100)}).Clean(); len(h.UA) != MaxHintLen || len(h.Model) > 128 {
		t.Errorf("Clean kept %d bytes of Sec-CH-UA and %d of the model", len(h.UA), len(h.Model))
	}
}
