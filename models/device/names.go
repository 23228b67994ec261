package device

import (
	"strconv"
	"strings"
)

// This file holds the names a label may be made of. A user agent and its client hints
// are written by whoever sends the request, so a label never copies a word out of them:
// it is built only from the names below (and from the other tables of this package:
// browserTokens, hintBrands, httpClients, botMarks, the systems parsePlatform names) and
// from version numbers. A product this package does not know reads "Unknown browser"; a
// bot it does not know, "Bot"; a phone model it does not know, "Android phone".

// otherProducts are browsers and apps named by a token of their own, tried after
// browserTokens and before the engines every browser claims (Firefox, Chrome, Safari).
// A needle ending in '/' is a product token ("AdobeAIR/2.5"); any other must stand as a
// word ("rekonq", "baidubrowser 1.x"). The family is what a person reads.
var otherProducts = []struct{ needle, family string }{
	{"MQQBrowser/", "QQ Browser Mobile"},
	{"QQBrowser", "QQ Browser"},
	{"baidubrowser", "Baidu Browser"},
	{"BOLT/", "BOLT"},
	{"Sleipnir", "Sleipnir"},
	{"Comodo_Dragon/", "Comodo Dragon"},
	{"RockMelt/", "RockMelt"},
	{"Skyfire/", "Skyfire"},
	{"ThunderBrowse/", "ThunderBrowse"},
	{"Lightning/", "Lightning"},
	{"Thunderbird/", "Thunderbird"},
	{"Dolfin/", "Dolfin"},
	{"Shiretoko/", "Firefox"},
	{"Firefox-4.0/", "Firefox"},
	{"MozillaDeveloperPreview/", "MozillaDeveloperPreview"},
	{"FireWeb/", "FireWeb"},
	{"luakit/", "LuaKit"},
	{"rekonq", "Rekonq"},
	{"Midori/", "Midori"},
	{"Midori", "Midori"},
	{"Conkeror/", "Conkeror"},
	{"conkeror/", "Conkeror"},
	{"Nextcloud", "Nextcloud"},
	{"Bunjalloo/", "Bunjalloo"},
	{"WeTab-Browser", "WeTab"},
	{"S40OviBrowser/", "Ovi Browser"},
	{"OneBrowser/", "ONE Browser"},
	{"Openwave/", "Openwave"},
	{"UP.Browser/", "UP.Browser"},
	{"ObigoInternetBrowser/", "Obigo"},
	{"Obigo-Browser/", "Obigo"},
	{"Browser/Obigo/", "Obigo"},
	{"Browser/Phantom/", "Phantom Browser"},
	{"Planetweb/", "Planetweb"},
	{"NCSA_Mosaic/", "NCSA Mosaic"},
	{"ICE Browser/", "ICE Browser"},
	{"iBrowser/", "iBrowser Mini"},
	{"BoxNotes/", "BoxNotes"},
	{"AdobeAIR/", "AdobeAIR"},
	{"Outlook-iOS-Android/", "Outlook-iOS-Android"},
	{"ownCloud-android/", "Owncloud"},
	{"DAVdroid/", "DAVdroid"},
	{"HbbTV/", "HbbTV"},
	{"Kindle/", "Kindle"},
}

// knownApps are apps that sign a user agent with their own name as its first product
// ("Pandora/2012 CFNetwork/..."), or after WebKit's build token, as they write it (an
// "-iPad" or "-iPhone" tail aside), and the name shown for each.
var knownApps = []string{
	"Instagram", "Flipboard", "Flipboard-Briefing", "Pinterest", "Twitter", "LinkedIn", "Snapchat",
	"Facebook", "FBAV", "Messenger", "WhatsApp", "Telegram", "Slack", "Discord", "Spotify",
	"Pandora", "iTunes", "MacAppStore", "Safari", "Mail", "Outlook-iOS", "Onefootball", "PlayTube",
	"Poof", "Cooliris", "Surveyon", "Box", "Box Sync", "Nextcloud", "Owncloud", "ViaFree",
	"Reader Notifier", "CFNetwork", "Google App", "Bing for iPad", "Island for iPhone",
	"Rummy LITE iPad", "Parking Mania Free", "Planet Boing!", "DEPoker", "JDSports",
	"AngryBirdsBlack", "NightstandPaid", "Glo-De", "WormsiPhone", "MobileRSSFree",
	"babbelIndonesian", "WeltMobile", "IMPlusFull", "Roku", "Electron", "Coc Coc",
	"Internet Explorer", "Apple Watch App", "rusoto", "ibm-cos-sdk-java", "aws-sdk-dotnet-45",
	"aws-sdk-go", "aws-cli", "Phantom",
}

// knownBots are crawlers and monitors named by their own product token, as bot.go finds
// them; any other bot reads "Bot".
var knownBots = []string{
	"Googlebot", "Googlebot-Image", "Googlebot-Video", "Googlebot-News", "AdsBot-Google", "Storebot-Google",
	"bingbot", "msnbot", "AdIdxBot", "Slurp", "DuckDuckBot", "Baiduspider", "YandexBot", "YandexImages",
	"Applebot", "AspiegelBot", "PetalBot", "Sogou web spider", "Exabot", "facebot", "ia_archiver",
	"AhrefsBot", "SemrushBot", "MJ12bot", "DotBot", "rogerbot", "Twitterbot", "LinkedInBot",
	"Pinterestbot", "Discordbot", "TelegramBot", "Slackbot", "Slack-ImgProxy", "redditbot",
	"CCBot", "GPTBot", "ChatGPT-User", "ClaudeBot", "Claude-Web", "anthropic-ai", "PerplexityBot",
	"Bytespider", "SeznamBot", "Qwantify", "Mail.RU_Bot", "coccocbot", "UptimeRobot", "YottaaMonitor",
	"archive.org_bot", "Amazonbot", "BLEXBot", "MojeekBot", "Neevabot", "YisouSpider", "360Spider",
	"Screaming Frog SEO Spider", "SiteAuditBot", "Feedly", "Google-Site-Verification",
}

// appAliases are names apps sign with that differ from the name shown.
var appAliases = map[string]string{
	"atc":             "Apple Watch App",
	"mirall":          "Nextcloud",
	"ViaFree-DK":      "ViaFree",
	"Viafree-tvOS-DK": "ViaFree",
}

// knownNames maps every name above, lower-cased, to the name as it is shown.
var knownNames = func() map[string]string {
	m := make(map[string]string)
	for k, v := range appAliases {
		m[strings.ToLower(k)] = v
	}
	for _, list := range [][]string{knownApps, knownBots} {
		for _, n := range list {
			m[strings.ToLower(n)] = n
		}
	}
	return m
}()

// knownName returns the name shown for a product a user agent names, when this package
// knows it: "Googlebot" for "googlebot", "DEPoker" for "DEPoker-iPad". ok is false for
// any other word, which then never reaches a label.
func knownName(word string) (string, bool) {
	if n, ok := knownNames[strings.ToLower(word)]; ok {
		return n, true
	}
	for _, tail := range []string{"-iPad", "-iPhone", "-Android"} {
		if len(word) > len(tail) && strings.EqualFold(word[len(word)-len(tail):], tail) {
			if n, ok := knownNames[strings.ToLower(word[:len(word)-len(tail)])]; ok {
				return n, true
			}
		}
	}
	return "", false
}

// modelName names a phone or tablet from the model a user agent or Sec-CH-UA-Model
// gives, only with the names below and numbers: "Pixel 8 Pro", "Galaxy S24 Ultra",
// "Nexus 5X". Any other model gives "", and the device is named by its system
// ("Android phone").
func modelName(raw string) string {
	raw = strings.TrimSpace(raw)
	if rest, ok := strings.CutPrefix(raw, "SAMSUNG "); ok {
		raw = rest
	}
	switch {
	case strings.HasPrefix(raw, "Pixel"):
		return wordsAfter("Pixel", raw[len("Pixel"):], "Pro", "XL", "Fold", "Tablet", "a")
	case strings.HasPrefix(raw, "Nexus"):
		return wordsAfter("Nexus", raw[len("Nexus"):], "X", "S", "One", "Player")
	case strings.HasPrefix(raw, "SM-"):
		return galaxyName(raw[len("SM-"):])
	case strings.HasPrefix(raw, "iPhone"):
		return "iPhone"
	case strings.HasPrefix(raw, "iPad"):
		return "iPad"
	}
	return ""
}

// wordsAfter rebuilds a model name from family and the words of rest, each one a
// number (with at most a letter after it, "3a", "5X") or one of words; "" when rest has
// any other word.
func wordsAfter(family, rest string, words ...string) string {
	if rest != "" && rest[0] != ' ' {
		return ""
	}
	out := family
	for _, w := range strings.Fields(rest) {
		switch n := leadingNumber(w); {
		case n != "" && len(n) <= 2 && (len(w) == len(n) || len(w) == len(n)+1 && isLetterASCII(w[len(n)])):
		case containsWord(words, w):
		default:
			return ""
		}
		out += " " + w
	}
	if len(out) > 24 {
		return ""
	}
	return out
}

func containsWord(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}

// galaxyName names a Samsung phone or tablet from its model code (after "SM-"): the
// series of the flagship lines Samsung numbers by year, and the line for the rest.
func galaxyName(code string) string {
	if len(code) < 2 {
		return "Galaxy"
	}
	// SM-S9gv: the S22 (g=0) onwards; v: 1 plain, 6 plus, 8 Ultra.
	if len(code) >= 4 && code[0] == 'S' && code[1] == '9' && code[2] >= '0' && code[2] <= '9' {
		name := "Galaxy S" + strconv.Itoa(22+int(code[2]-'0'))
		switch code[3] {
		case '6':
			name += "+"
		case '8':
			name += " Ultra"
		}
		return name
	}
	switch {
	case strings.HasPrefix(code, "G99"):
		return "Galaxy S21"
	case strings.HasPrefix(code, "G98"):
		return "Galaxy S20"
	case strings.HasPrefix(code, "G97"):
		return "Galaxy S10"
	case strings.HasPrefix(code, "G96"):
		return "Galaxy S9"
	case strings.HasPrefix(code, "F9"):
		return "Galaxy Z Fold"
	case strings.HasPrefix(code, "F7"):
		return "Galaxy Z Flip"
	case strings.HasPrefix(code, "N9"):
		return "Galaxy Note"
	case code[0] == 'A':
		return "Galaxy A"
	case code[0] == 'M':
		return "Galaxy M"
	case code[0] == 'X' || code[0] == 'T' || code[0] == 'P':
		return "Galaxy Tab"
	}
	return "Galaxy"
}

// Rows written by an older version hold labels made before every name came from these
// tables, so what is read back is checked again: Known and KnownLabel keep a stored name
// only if this version could have made it.

// builtInBrowsers and builtInSystems are the names the rules in browser.go, hints.go and
// platform.go write themselves.
var (
	builtInBrowsers = []string{"Chrome", "Chromium", "Firefox", "Safari", "Internet Explorer", "Android WebView",
		"Android Browser", "BlackBerry Browser", "webOS Browser", "Nokia Browser", "Opera", "Opera Mini", "UC Browser",
		"Brave", "Facebook", "NetFront", "NetFront NX", "Obigo", "Headless Chrome", "PowerShell", "Bot", InAppBrowser}
	builtInSystems = []string{"Windows", "Windows Phone", "macOS", "iOS", "iPadOS", "Android", "ChromeOS", "Linux",
		"Ubuntu", "Fedora", "Debian", "FreeBSD", "OpenBSD", "NetBSD", "BSD", "Solaris", "HarmonyOS", "KaiOS",
		"Sailfish", "MeeGo", "BlackBerry", "Symbian", "webOS", "Tizen", "Firefox OS", "Bada", "BREW", "Brew MP",
		"Nokia Series 40", "Roku", "WebTV", "Kindle", "tvOS", "watchOS"}
	builtInModels = []string{"iPhone", "iPad", "iPod touch", "Apple Watch", "Apple TV"}
)

// knownFamilies is every browser and system name a label may hold.
var knownFamilies = func() map[string]bool {
	m := make(map[string]bool)
	for _, list := range [][]string{builtInBrowsers, builtInSystems, knownApps, knownBots} {
		for _, n := range list {
			m[n] = true
		}
	}
	for _, n := range appAliases {
		m[n] = true
	}
	for _, t := range browserTokens {
		m[t.family] = true
	}
	for _, t := range otherProducts {
		m[t.family] = true
	}
	for _, b := range hintBrands {
		m[b.family] = true
	}
	for _, c := range httpClients {
		m[c.name] = true
	}
	for _, b := range botMarks {
		if b.name != "" {
			m[b.name] = true
		}
	}
	return m
}()

// knownWithVersion reports whether s is a known family, alone or followed by a version
// number as Parse writes them ("Chrome 131", "Windows XP", "macOS 10.13").
func knownWithVersion(s string) bool {
	if knownFamilies[s] {
		return true
	}
	i := strings.LastIndexByte(s, ' ')
	if i < 0 || !knownFamilies[s[:i]] {
		return false
	}
	v := s[i+1:]
	switch v {
	case "XP", "Vista", "ME", "2000":
		return true
	}
	for j := 0; j < len(v); j++ {
		if !(v[j] >= '0' && v[j] <= '9' || v[j] == '.' && j > 0) {
			return false
		}
	}
	return v != ""
}

// knownModel reports whether s is a model name this package writes.
func knownModel(s string) bool {
	if containsWord(builtInModels, s) || s != "" && modelName(s) == s {
		return true
	}
	rest, ok := strings.CutPrefix(s, "Galaxy")
	if !ok {
		return false
	}
	switch rest {
	case "", " Z Fold", " Z Flip", " Note", " A", " M", " Tab", " S9", " S10", " S20", " S21":
		return true
	}
	rest, ok = strings.CutPrefix(rest, " S")
	rest = strings.TrimSuffix(strings.TrimSuffix(rest, "+"), " Ultra")
	return ok && len(rest) == 2 && leadingNumber(rest) == rest && rest >= "22" && rest <= "31"
}

// Known returns d with each field this version's parser could not have written made
// empty: for a device stored by an older version, whose label may hold words a user
// agent made up.
func (d Device) Known() Device {
	if d.Browser != "" && !knownWithVersion(d.Browser) {
		d.Browser = ""
	}
	if d.OS != "" && !knownWithVersion(d.OS) {
		d.OS = ""
	}
	if d.Model != "" && !knownModel(d.Model) {
		d.Model = ""
	}
	switch d.Type {
	case Desktop, Phone, Tablet, Bot, Unknown:
	default:
		d.Type = Unknown
	}
	return d
}

// KnownLabel returns a stored label (Label's, or an older version's "Chrome 131 on
// macOS") when every part of it is a name this package writes, and "Unknown device"
// otherwise.
func KnownLabel(label string) string {
	if label == "" || knownLabel(label) {
		return label
	}
	return "Unknown device"
}

func knownLabel(label string) bool {
	if name, browser, ok := strings.Cut(label, " · "); ok {
		return knownDeviceName(name) && (browser == UnknownBrowser || knownWithVersion(browser))
	}
	if browser, system, ok := strings.Cut(label, " on "); ok { // before issue 19
		return knownWithVersion(browser) && knownWithVersion(system)
	}
	return label == "Unknown device" || knownDeviceName(label) || knownWithVersion(label)
}

// knownDeviceName reports whether s is a name Device.Name gives.
func knownDeviceName(s string) bool {
	switch s {
	case "Mac", "Windows PC", "Chromebook", "Linux PC", "Phone", "Tablet", "Computer":
		return true
	}
	if family, ok := strings.CutSuffix(s, " phone"); ok {
		return knownFamilies[family]
	}
	if family, ok := strings.CutSuffix(s, " tablet"); ok {
		return knownFamilies[family]
	}
	return knownModel(s) || knownWithVersion(s)
}
