package device

import (
	"strings"
	"testing"
)

// Devices as their owners call them, from what current browsers send: the user agent,
// the client hints Chromium sends when asked (Accept-CH), and the touch points the
// sign-in page's script reports where there are no hints (Safari, Firefox).
func TestDevicesNamedAsPeopleKnowThem(t *testing.T) {
	chrome143 := `"Google Chrome";v="143", "Chromium";v="143", "Not A(Brand";v="24"`
	full143 := `"Google Chrome";v="143.0.7499.40", "Chromium";v="143.0.7499.40", "Not A(Brand";v="24.0.0.0"`
	tests := []struct {
		name      string
		ua        string
		hints     Hints
		label     string
		os        string
		typ       Type
		unchanged bool // the label without the hints is the same
	}{
		{"iPhone, Safari 26 (UA frozen at iOS 18.6)",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Mobile/15E148 Safari/604.1",
			Hints{}, "iPhone · Safari 26", "iOS 26", Phone, true},
		{"iPad, Safari with the Mac's user agent, and five touch points",
			uaSafariMac, Hints{Touch: 5}, "iPad · Safari 26", "iPadOS", Tablet, false},
		{"iPad in the iPad's own user agent",
			"Mozilla/5.0 (iPad; CPU OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Mobile/15E148 Safari/604.1",
			Hints{}, "iPad · Safari 26", "iPadOS 26", Tablet, true},
		{"Pixel 8, Chrome's reduced UA, model and version from the hints",
			"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Mobile Safari/537.36",
			Hints{UA: chrome143, FullVersionList: full143, Mobile: "?1", Platform: `"Android"`, PlatformVersion: `"16.0.0"`, Model: `"Pixel 8"`},
			"Pixel 8 · Chrome 143", "Android 16", Phone, false},
		{"Samsung Galaxy S24 Ultra in Samsung Internet, model from the hints",
			"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/29.0 Chrome/136.0.0.0 Mobile Safari/537.36",
			Hints{UA: `"Samsung Internet";v="29.0", "Chromium";v="136", "Not.A/Brand";v="99"`, Mobile: "?1", Platform: `"Android"`, PlatformVersion: `"15.0.0"`, Model: `"SM-S928B"`},
			"Galaxy S24 Ultra · Samsung Internet 29", "Android 15", Phone, false},
		{"Samsung phone without hints",
			"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/29.0 Chrome/136.0.0.0 Mobile Safari/537.36",
			Hints{}, "Android phone · Samsung Internet 29", "Android", Phone, true},
		{"Mac, Chrome", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36",
			Hints{UA: chrome143, Mobile: "?0", Platform: `"macOS"`, PlatformVersion: `"26.1.0"`},
			"Mac · Chrome 143", "macOS 26", Desktop, true},
		{"Mac, Safari, no touch", uaSafariMac, Hints{}, "Mac · Safari 26", "macOS", Desktop, true},
		{"Windows PC, Edge", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36 Edg/143.0.0.0",
			Hints{UA: `"Microsoft Edge";v="143", "Chromium";v="143", "Not A(Brand";v="24"`, Mobile: "?0", Platform: `"Windows"`, PlatformVersion: `"19.0.0"`},
			"Windows PC · Edge 143", "Windows 11", Desktop, true},
		{"Chromebook", "Mozilla/5.0 (X11; CrOS x86_64 16433.47.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36",
			Hints{UA: chrome143, Mobile: "?0", Platform: `"Chrome OS"`, PlatformVersion: `"16433.47.0"`},
			"Chromebook", "ChromeOS", Desktop, true},
		{"Linux PC, Firefox", "Mozilla/5.0 (X11; Linux x86_64; rv:146.0) Gecko/20100101 Firefox/146.0",
			Hints{}, "Linux PC · Firefox 146", "Linux", Desktop, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Parse(tt.ua, tt.hints)
			if d.Label() != tt.label || d.OS != tt.os || d.Type != tt.typ {
				t.Errorf("Parse = %+v: label %q, want %q, OS %q, type %q", d, d.Label(), tt.label, tt.os, tt.typ)
			}
			if without := Parse(tt.ua, Hints{}).Label(); (without == tt.label) != tt.unchanged {
				t.Errorf("without hints the label is %q; the hints should matter: %v", without, !tt.unchanged)
			}
			checkDevice(t, d)
		})
	}
}

// Finding 8 of issue 18: a thief writes the user agent, so a label holds only names
// from this package's tables and numbers. Nothing else of the string reaches a page or
// a mail.
func TestLabelsHoldOnlyKnownNames(t *testing.T) {
	tests := []struct {
		ua    string
		hints Hints
		want  string
	}{
		{"Mozilla/5.0 (Windows NT 10.0) Call-1-800-555-0199-to-cancel/1", Hints{}, "Windows PC · Unknown browser"},
		{"Call-1-800-555-0199-to-cancel/1", Hints{}, "Unknown device"},
		{"Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/143.0.0.0 Safari/537.36 Call-1-800-555-0199-to-cancel/1", Hints{}, "Windows PC · Chrome 143"},
		{"Call-1-800-555-0199-to-cancel-bot/1.0", Hints{}, "Bot"},
		{"Mozilla/5.0 (compatible; Callus1800bot/2.1; +http://evil.example/)", Hints{}, "Bot"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 CallNowToCancel/1.0", Hints{}, "iPhone · In-app browser"},
		{"Mozilla/5.0 (Linux; Android 14; Call 1-800-555-0199 to cancel) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Mobile Safari/537.36", Hints{}, "Android phone · Chrome 143"},
		{"Mozilla/5.0 (Linux; Android 14; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/143.0.0.0 Mobile Safari/537.36 CallToCancel/1", Hints{}, "Android phone · Android WebView 143"},
		{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Mobile Safari/537.36",
			Hints{UA: `"Call 1-800-555-0199";v="1"`, Platform: `"Android"`, Mobile: "?1", Model: `"Call 1-800-555-0199 to cancel"`}, "Android phone · Chrome 143"},
		{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Mobile Safari/537.36",
			Hints{Platform: `"Android"`, Mobile: "?1", Model: `"Pixel 1800 Call"`}, "Android phone · Chrome 143"},
		{"CallToCancel/1.0 CFNetwork/1410 Darwin/22.6.0", Hints{}, "iPhone · Unknown browser"},
	}
	for _, tt := range tests {
		d := Parse(tt.ua, tt.hints)
		got := d.Label()
		if got != tt.want {
			t.Errorf("Parse(%q, %+v).Label() = %q, want %q", tt.ua, tt.hints, got, tt.want)
		}
		for _, word := range []string{"Call", "1-800", "555", "0199", "cancel", "evil"} {
			if strings.Contains(got, word) || strings.Contains(d.Name(), word) || strings.Contains(d.OS, word) {
				t.Errorf("Parse(%q): %+v keeps %q of the user agent", tt.ua, d, word)
			}
		}
	}
}

func TestModelNames(t *testing.T) {
	for raw, want := range map[string]string{
		"Pixel 8": "Pixel 8", "Pixel 9 Pro XL": "Pixel 9 Pro XL", "Pixel 7a": "Pixel 7a", "Pixel Fold": "Pixel Fold",
		"Nexus 5X": "Nexus 5X", "SM-S911B": "Galaxy S23", "SM-S926U": "Galaxy S24+", "SM-S938B": "Galaxy S25 Ultra",
		"SM-G991B": "Galaxy S21", "SM-F946B": "Galaxy Z Fold", "SM-A546B": "Galaxy A", "SM-X710": "Galaxy Tab",
		"K": "", "": "", "Pixel": "Pixel", "Pixel 8 Call": "", "Pixel8": "", "Pixel 123": "", "CUBOT KINGKONG 9": "",
		"<script>": "",
	} {
		if got := modelName(raw); got != want {
			t.Errorf("modelName(%q) = %q, want %q", raw, got, want)
		}
	}
}

// Every label Parse makes from the corpora passes Known and KnownLabel unchanged, so a
// stored row is never shown worse than it was made; labels an older version made from
// a thief's words do not pass.
func TestKnownAcceptsWhatParseMakes(t *testing.T) {
	for _, file := range []string{"ua_everyday.jsonl", "uap_core_cases.jsonl"} {
		for _, r := range loadCorpus(t, file) {
			for _, h := range []Hints{{}, {Touch: 5}} {
				d := Parse(r.UA, h)
				if k := d.Known(); k != d {
					t.Errorf("Parse(%q) = %+v, Known() = %+v", r.UA, d, k)
				}
				if l := d.Label(); KnownLabel(l) != l {
					t.Errorf("KnownLabel(%q) = %q", l, KnownLabel(l))
				}
			}
		}
	}
	for _, m := range []string{"Galaxy S23", "Galaxy S24+", "Galaxy S25 Ultra", "Galaxy Tab", "Pixel 9 Pro XL", "iPad"} {
		if d := (Device{Model: m, Type: Phone}); d.Known() != d {
			t.Errorf("model %q not known", m)
		}
	}
	old := Device{Browser: "Call-1-800-555-0199-to-cancel 1", OS: "Windows", Type: Desktop, Model: "Call us"}
	if k := old.Known(); k.Browser != "" || k.Model != "" || k.OS != "Windows" {
		t.Errorf("Known() = %+v", k)
	}
	for label, want := range map[string]string{
		"Call-1-800-555-0199-to-cancel 1 on Windows": "Unknown device",
		"Chrome 131 on macOS":                        "Chrome 131 on macOS",
		"Windows PC · Call-1-800-555-0199 1":         "Unknown device",
		"Pixel 8 · Chrome 143":                       "Pixel 8 · Chrome 143",
		"Call me phone · Chrome 143":                 "Unknown device",
		"Googlebot 2":                                "Googlebot 2",
		"":                                           "",
	} {
		if got := KnownLabel(label); got != want {
			t.Errorf("KnownLabel(%q) = %q, want %q", label, got, want)
		}
	}
}
