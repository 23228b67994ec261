package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// maxNextLen bounds the path to return to that sign-in carries along.
const maxNextLen = 1024

// safeNext is s if it is a plain path on this site to return to after signing in, else "".
// Only "/..." that no browser reads as another origin passes: "//evil.example" and
// "/\evil.example" are scheme-relative to browsers, "https://evil.example" absolute;
// control characters, backslashes, and anything url.Parse sees a host in are refused.
func safeNext(s string) string {
	if s == "" || len(s) > maxNextLen || s[0] != '/' || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\") {
		return ""
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return ""
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return ""
	}
	return s
}

// nextOf is the path to return to that a request carries (a query's or a form's next).
func nextOf(c *gin.Context) string {
	if n := c.PostForm("next"); n != "" {
		return safeNext(n)
	}
	return safeNext(c.Query("next"))
}

// afterSignIn sends a browser that just signed in where it was going, or to the Security page.
func (a *App) afterSignIn(c *gin.Context) {
	to := a.path("/account/security")
	if n := nextOf(c); n != "" {
		to = n
	}
	c.Redirect(http.StatusSeeOther, to)
}

// loginWithNext is the sign-in page's path with the host page this request wanted, so
// signing in returns there. Only a GET is worth returning to.
func (a *App) loginWithNext(c *gin.Context) string {
	if c.Request.Method != http.MethodGet {
		return a.path("/login")
	}
	next := safeNext(c.Request.URL.RequestURI())
	if next == "" {
		return a.path("/login")
	}
	return a.path("/login") + "?next=" + url.QueryEscape(next)
}
