package device

import "strings"

// httpClients are command-line tools and HTTP libraries, recognised by the
// product that starts their User-Agent string (compared in lower case).
var httpClients = []struct{ prefix, name string }{
	{"curl/", "curl"},
	{"wget/", "Wget"},
	{"go-http-client/", "Go-http-client"},
	{"python-requests/", "python-requests"},
	{"python-urllib/", "Python-urllib"},
	{"python-httpx/", "python-httpx"},
	{"python/", "Python"},
	{"aiohttp/", "aiohttp"},
	{"httpie/", "HTTPie"},
	{"postmanruntime/", "PostmanRuntime"},
	{"insomnia/", "Insomnia"},
	{"axios/", "axios"},
	{"node-fetch", "node-fetch"},
	{"undici", "undici"},
	{"node/", "Node.js"},
	{"java/", "Java"},
	{"apache-httpclient/", "Apache-HttpClient"},
	{"okhttp/", "okhttp"},
	{"libwww-perl/", "libwww-perl"},
	{"lwp-", "libwww-perl"},
	{"ruby", "Ruby"},
	{"faraday", "Faraday"},
	{"guzzlehttp/", "Guzzle"},
	{"reqwest/", "reqwest"},
	{"dart/", "Dart"},
	{"deno/", "Deno"},
	{"bun/", "Bun"},
	{"winhttp", "WinHTTP"},
	{"rest-client/", "rest-client"},
	{"restsharp/", "RestSharp"},
	{"hackney/", "hackney"},
	{"mechanize", "Mechanize"},
	{"zgrab", "zgrab"},
	{"masscan", "masscan"},
	{"nmap", "Nmap"},
}

// botMarks are fragments (in lower case) that only crawlers, link previewers,
// monitors and headless browsers put in a User-Agent string. An empty name
// means the bot's own product token names it.
var botMarks = []struct{ mark, name string }{
	{"headlesschrome", "Headless Chrome"},
	{"phantomjs", "PhantomJS"},
	{"chrome-lighthouse", "Lighthouse"},
	{"google page speed", "PageSpeed Insights"},
	{"google web preview", "Google Web Preview"},
	{"google-inspectiontool", "Google-InspectionTool"},
	{"googleother", "GoogleOther"},
	{"google-read-aloud", "Google-Read-Aloud"},
	{"mediapartners-google", "Mediapartners-Google"},
	{"feedfetcher", "Feedfetcher"},
	{"facebookexternalhit", "facebookexternalhit"},
	{"facebookcatalog", "facebookcatalog"},
	{"whatsapp/", "WhatsApp"},
	{"bingpreview", "BingPreview"},
	{"skypeuripreview", "SkypeUriPreview"},
	{"embedly", "Embedly"},
	{"datanyze", "Datanyze"},
	{"pingdom", "Pingdom"},
	{"statuscake", "StatusCake"},
	{"uptime", ""},
	{"yottaamonitor", "YottaaMonitor"},
	{"newrelicpinger", "NewRelicPinger"},
	{"ruxitsynthetic", "RuxitSynthetic"},
	{"gtmetrix", "GTmetrix"},
	{" ptst/", "WebPageTest"},
	{"spider", ""},
	{"crawl", ""},
	{"slurp", ""},
	{"scrape", ""},
	{"archiver", ""},
	{"scrapy", "Scrapy"},
}

// detectBot returns the name and version of the crawler or HTTP client behind
// a User-Agent string, or ok false when it looks like a person's browser.
// lower is asciiLower(ua); baseBot is the verdict of mssola/useragent.
func detectBot(ua, lower string, baseBot bool) (name, version string, ok bool) {
	for _, c := range httpClients {
		if strings.HasPrefix(lower, c.prefix) {
			rest := ua[len(c.prefix):]
			if !strings.HasSuffix(c.prefix, "/") {
				// The prefix is part of the name ("node-fetch"); the version follows a '/'.
				if j := strings.IndexByte(rest, '/'); j >= 0 && !strings.ContainsAny(rest[:j], " ;()") {
					rest = rest[j+1:]
				} else {
					rest = ""
				}
			}
			return c.name, untilEdge(rest), true
		}
	}
	if i := strings.Index(lower, "powershell/"); i >= 0 {
		return "PowerShell", untilEdge(ua[i+len("powershell/"):]), true
	}
	for _, m := range botMarks {
		i := strings.Index(lower, m.mark)
		if i < 0 {
			continue
		}
		if m.name != "" {
			return m.name, "", true
		}
		if name, version, ok := botToken(ua, i); ok {
			return name, version, true
		}
		return "Bot", "", true
	}
	if i := botWord(lower); i >= 0 {
		if name, version, ok := botToken(ua, i); ok {
			return name, version, true
		}
		return "Bot", "", true
	}
	if baseBot || strings.Contains(lower, "+http") {
		return "Bot", "", true
	}
	return "", "", false
}

// botWord finds "bot" ending a word ("Googlebot", "AspiegelBot", "bot/1.0")
// and not the Cubot phone brand, or returns -1.
func botWord(lower string) int {
	for from := 0; from < len(lower); {
		i := strings.Index(lower[from:], "bot")
		if i < 0 {
			return -1
		}
		i += from
		end := i + 3
		if (end == len(lower) || !isLowerASCII(lower[end])) && !(i >= 2 && lower[i-2:i] == "cu") {
			return i
		}
		from = end
	}
	return -1
}

// botToken returns the product token around position i of ua, "Googlebot/2.1"
// read as "Googlebot", "2.1". URLs ("+http://example.com/bot.html") do not count.
func botToken(ua string, i int) (name, version string, ok bool) {
	start, end := i, i
	for start > 0 && !isTokenEdge(ua[start-1]) {
		start--
	}
	for end < len(ua) && !isTokenEdge(ua[end]) {
		end++
	}
	token := ua[start:end]
	if strings.Contains(token, ":") || strings.HasPrefix(token, "+") || strings.HasPrefix(token, "http") {
		return "", "", false
	}
	name, version, _ = strings.Cut(token, "/")
	known, ok := knownName(name)
	if !ok {
		return "", "", false
	}
	return known, version, true
}
