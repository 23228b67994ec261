package device

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mssola/useragent"
)

// The label corpus: uap-core's test cases (testdata/corpus/README.md, Apache 2.0),
// kept in the repository so every clone measures the labels.
const corpusDir = "testdata/corpus"

// corpusRow is one line of a corpus file: a user agent and the families
// uap-core expects for it.
type corpusRow struct {
	UA            string  `json:"ua"`
	BrowserFamily string  `json:"browser_family"`
	OSFamily      string  `json:"os_family"`
	DeviceFamily  *string `json:"device_family"`
}

// uapBrowserFamilies maps uap-core's browser families to the names this
// package shows, where they differ. Families not listed compare as they are.
var uapBrowserFamilies = map[string]string{
	"Mobile Safari":         "Safari",
	"Chrome Mobile":         "Chrome",
	"Chrome Mobile iOS":     "Chrome",
	"Firefox Mobile":        "Firefox",
	"Firefox iOS":           "Firefox",
	"Firefox Beta":          "Firefox",
	"Firefox Alpha":         "Firefox",
	"Edge Mobile":           "Edge",
	"Opera Mobile":          "Opera",
	"Opera Tablet":          "Opera",
	"Yandex Browser":        "Yandex",
	"DuckDuckGo Mobile":     "DuckDuckGo",
	"IE":                    "Internet Explorer",
	"IE Mobile":             "Internet Explorer",
	"Android":               "Android Browser",
	"Amazon Silk":           "Silk",
	"Python Requests":       "python-requests",
	"BlackBerry WebKit":     "BlackBerry Browser",
	"Chrome Mobile WebView": "Android WebView",
	// Names for the same thing.
	"Firefox (Shiretoko)":        "Firefox",
	"IE Large Screen":            "Internet Explorer",
	"Mobile Safari UI/WKWebView": InAppBrowser,
	"Other":                      "",
}

// uapOSFamilies maps uap-core's operating system families to the names this
// package shows, where they differ.
var uapOSFamilies = map[string]string{
	"Mac OS X":             "macOS",
	"Mac OS":               "macOS",
	"Chrome OS":            "ChromeOS",
	"BlackBerry OS":        "BlackBerry",
	"BlackBerry Tablet OS": "BlackBerry",
	"Symbian OS":           "Symbian",
	"Symbian^3":            "Symbian",
	"Symbian^3 Anna":       "Symbian",
	"Symbian^3 Belle":      "Symbian",
	"WatchOS":              "watchOS",
	"Web0S":                "webOS",
	"Other":                "",
}

// mssolaBrowserFamilies maps mssola/useragent's browser names to this
// package's, for the baseline figures.
var mssolaBrowserFamilies = map[string]string{
	"YaBrowser": "Yandex",
	"Android":   "Android Browser",
}

// familyOf strips the version a label adds to a family: "Chrome 131" and
// "Windows XP" give "Chrome" and "Windows"; "iPadOS 17" counts as iOS, as
// uap-core counts it.
func familyOf(label string) string {
	if i := strings.LastIndexByte(label, ' '); i >= 0 && leadingNumber(label[i+1:]) != "" && label != "Nokia Series 40" {
		label = label[:i]
	}
	switch {
	case label == "Nokia Series 40":
		return label
	case label == "iPadOS":
		return "iOS"
	case strings.HasPrefix(label, "Windows ") && label != "Windows Phone":
		return "Windows" // "Windows XP", "Windows Vista", "Windows ME"
	}
	return label
}

// mssolaOSFamily reads the family out of mssola/useragent's OS name, which
// carries versions and architectures: "Windows 10", "CrOS x86_64", "iPhone OS".
func mssolaOSFamily(name string) string {
	for _, p := range []struct{ prefix, family string }{
		{"Windows Phone", "Windows Phone"},
		{"Windows", "Windows"},
		{"Intel Mac OS X", "macOS"},
		{"Mac OS X", "macOS"},
		{"iPhone OS", "iOS"},
		{"CrOS", "ChromeOS"},
		{"Ubuntu", "Ubuntu"},
		{"Linux", "Linux"},
		{"Android", "Android"},
	} {
		if strings.HasPrefix(name, p.prefix) {
			return p.family
		}
	}
	return name
}

// mappedFamily returns m[name] when listed, name otherwise.
func mappedFamily(m map[string]string, name string) string {
	if v, ok := m[name]; ok {
		return v
	}
	return name
}

// loadCorpus reads a corpus file.
func loadCorpus(t *testing.T, name string) []corpusRow {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, name))
	if err != nil {
		t.Fatalf("open corpus: %v", err)
	}
	defer f.Close()
	var rows []corpusRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var r corpusRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s:%d: %v", name, line, err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return rows
}

// corpusAgreement is how often a parser's browser and OS families match
// uap-core's.
type corpusAgreement struct {
	rows, browser, os int
}

func (a corpusAgreement) browserPct() float64 { return 100 * float64(a.browser) / float64(a.rows) }
func (a corpusAgreement) osPct() float64      { return 100 * float64(a.os) / float64(a.rows) }

// measureCorpus compares Parse and plain mssola/useragent with uap-core on
// rows, logging the first disagreements of Parse.
func measureCorpus(t *testing.T, rows []corpusRow) (ours, base corpusAgreement) {
	t.Helper()
	logged := 0
	for _, r := range rows {
		wantBrowser := mappedFamily(uapBrowserFamilies, r.BrowserFamily)
		wantOS := mappedFamily(uapOSFamilies, r.OSFamily)

		d := Parse(r.UA, Hints{})
		gotBrowser, gotOS := familyOf(d.Browser), familyOf(d.OS)
		ours.rows++
		okBrowser := strings.EqualFold(gotBrowser, wantBrowser)
		okOS := strings.EqualFold(gotOS, wantOS)
		if okBrowser {
			ours.browser++
		}
		if okOS {
			ours.os++
		}
		if (!okBrowser || !okOS) && logged < 20 {
			logged++
			t.Logf("differs: got %q / %q, uap-core %q / %q: %q", gotBrowser, gotOS, r.BrowserFamily, r.OSFamily, r.UA)
		}

		p := useragent.New(r.UA)
		name, _ := p.Browser()
		base.rows++
		if strings.EqualFold(mappedFamily(mssolaBrowserFamilies, name), wantBrowser) {
			base.browser++
		}
		if strings.EqualFold(mssolaOSFamily(p.OSInfo().Name), wantOS) {
			base.os++
		}
	}
	return ours, base
}

func TestCorpusEveryday(t *testing.T) {
	rows := loadCorpus(t, "ua_everyday.jsonl")
	ours, base := measureCorpus(t, rows)
	t.Logf("ua_everyday.jsonl, %d rows: browser family %.1f%%, OS family %.1f%% (plain mssola/useragent: %.1f%%, %.1f%%)",
		ours.rows, ours.browserPct(), ours.osPct(), base.browserPct(), base.osPct())
	if ours.browserPct() < 99 || ours.osPct() < 99 {
		t.Errorf("agreement with uap-core below 99%%: browser %.1f%%, OS %.1f%%", ours.browserPct(), ours.osPct())
	}
}

func TestCorpusUAPCases(t *testing.T) {
	rows := loadCorpus(t, "uap_core_cases.jsonl")
	ours, base := measureCorpus(t, rows)
	t.Logf("uap_core_cases.jsonl, %d rows: browser family %.1f%%, OS family %.1f%% (plain mssola/useragent: %.1f%%, %.1f%%)",
		ours.rows, ours.browserPct(), ours.osPct(), base.browserPct(), base.osPct())
	// Apps, feature phones, consoles and TVs, named only from this package's tables
	// (names.go): before those tables, 55% and 82%.
	if ours.browserPct() < 90 || ours.osPct() < 90 {
		t.Errorf("agreement with uap-core below 90%%: browser %.1f%%, OS %.1f%%", ours.browserPct(), ours.osPct())
	}

	spiders := 0
	for _, r := range rows {
		if r.DeviceFamily == nil || *r.DeviceFamily != "Spider" {
			continue
		}
		spiders++
		if d := Parse(r.UA, Hints{}); d.Type != Bot {
			t.Errorf("uap-core calls %q a spider; got %+v", r.UA, d)
		}
	}
	if spiders == 0 {
		t.Error("no spiders in uap_core_cases.jsonl; has the corpus changed?")
	}
}
