package handlers

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/models/device"
	"github.com/elsewhere-dev/elsewhere/models/text"
)

// deviceCookieAge is how long the device cookie lasts: 400 days, the most browsers keep a
// cookie; every sign-in renews it.
const deviceCookieAge = 400 * 24 * time.Hour

// browser is what a request says of the browser it came from, for the device cookie: the
// cookie's value when the server issued it, and the device its headers describe.
type browser struct {
	cookie string        // an issued device cookie, or ""
	dev    device.Device // from the user agent, client hints and the sign-in form's hints
}

// browserOf reads the request's device cookie and device. A value the server did not
// issue is ignored: it is never adopted, and the browser is given a fresh one at sign-in.
// (Values from before cookies were authenticated are such values: each of those browsers
// is a new device once, since a plain value cannot be told from a copy.)
// A sign-in asks twice (its budget, then the sign-in itself): the answer is kept with the
// request, parsed and checked once.
func (a *App) browserOf(c *gin.Context) browser {
	if v, ok := c.Get(ctxBrowser); ok {
		return v.(browser)
	}
	b := browser{dev: device.Parse(text.Clean(c.Request.UserAgent(), device.MaxUserAgentLen), signInHints(c))}
	if ck, err := c.Request.Cookie(a.deviceName); err == nil && a.devices.Issued(ck.Value) {
		b.cookie = ck.Value
	}
	c.Set(ctxBrowser, b)
	return b
}

// ctxBrowser keys the request's browser among gin's values.
const ctxBrowser = "elsewhere.browser"

// hash is the device hash under which an account may know this browser, nil for none.
func (b browser) hash() []byte {
	if b.cookie == "" {
		return nil
	}
	return models.DeviceHash(b.cookie, b.dev)
}

// signingIn gives the browser signing in an issued device cookie (its own, or a fresh one)
// for another 400 days and returns the hash the sign-in records it under.
func (a *App) signingIn(c *gin.Context) []byte {
	b := a.browserOf(c)
	if b.cookie == "" {
		b.cookie = a.devices.New()
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: a.deviceName, Value: b.cookie, Path: "/", MaxAge: int(deviceCookieAge.Seconds()),
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode})
	return b.hash()
}
