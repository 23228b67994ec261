package handlers

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/views"
)

// page renders body inside the layout with status.
func (a *App) page(c *gin.Context, status int, title string, body templ.Component) {
	p := views.Page{Title: title, Assets: a.assets}
	if u, ok := CurrentUser(c); ok {
		p.Email = u.Email
	}
	a.render(c, status, a.layout()(p, body))
}

// layout is the layout pages are drawn in: the host's, or Elsewhere's own.
func (a *App) layout() func(views.Page, templ.Component) templ.Component {
	if a.cfg.Layout != nil {
		return a.cfg.Layout
	}
	return views.Layout
}

// maxPooledBuffer is the largest render buffer kept for reuse; a rare bigger page's
// buffer is left to the garbage collector rather than held.
const maxPooledBuffer = 1 << 20

// render writes a component (a whole page or an htmx fragment) with status. It renders
// into a pooled buffer and writes it once, with its Content-Length: one write to the
// connection rather than many small ones.
func (a *App) render(c *gin.Context, status int, comp templ.Component) {
	buf := a.buffer()
	defer a.release(buf)
	if !a.draw(c, comp, buf) {
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	c.Status(status)
	c.Writer.Write(buf.Bytes())
}

// buffer is a render buffer from the pool, empty; release gives it back.
func (a *App) buffer() *bytes.Buffer {
	buf, _ := a.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	return buf
}

func (a *App) release(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBuffer {
		a.bufs.Put(buf)
	}
}

// draw renders comp into buf; when it cannot, it has answered the request and returns
// false.
func (a *App) draw(c *gin.Context, comp templ.Component, buf *bytes.Buffer) bool {
	if err := comp.Render(views.WithSite(c.Request.Context(), a.base, a.passkeys != nil), buf); err != nil {
		a.log.Error("render", "err", err, "request_id", requestIDOf(c))
		if c.Request.Context().Err() != nil {
			c.Status(499) // the client went away; nobody reads this
			return false
		}
		c.String(http.StatusInternalServerError, views.TextFailed)
		return false
	}
	return true
}

// renderError shows a person what went wrong; htmx requests get the message alone.
func (a *App) renderError(c *gin.Context, status int, title, message string) {
	if isHTMX(c) {
		if status >= 500 {
			message += " Request id: " + requestIDOf(c) + "."
		}
		c.Header("HX-Reswap", "none")
		c.String(status, message)
		return
	}
	a.page(c, status, title, views.ErrorPage(status, title, message, requestIDOf(c)))
}

// fail maps an error that no handler expected to a response, in one place.
func (a *App) fail(c *gin.Context, err error) {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		a.renderError(c, http.StatusRequestEntityTooLarge, views.TitleTooLarge, views.TextTooLarge)
	case errors.Is(err, models.ErrSessionEnded):
		// Signed out from another device between loading the session and acting: the
		// same answer as when the next request finds it gone.
		a.setFlash(c, flashEnded)
		a.toLogin(c, a.path("/login"))
	case errors.Is(err, models.ErrPasswordChanged):
		// Another device changed the password between this request's check and its
		// write; nothing was changed here.
		a.renderError(c, http.StatusConflict, views.TitlePasswordJustChanged,
			views.TextPasswordJustChanged)
	case errors.Is(err, context.Canceled):
		c.Status(499) // the client went away; nobody reads this
	case db.IsBusy(err):
		a.metrics.dbError(err)
		a.log.Error("database busy", "err", err, "request_id", requestIDOf(c))
		retryAfter(c, 5*time.Second)
		a.renderError(c, http.StatusServiceUnavailable, views.TitleBusy, views.TextBusy)
	case errors.Is(err, context.DeadlineExceeded):
		a.metrics.dbError(err)
		a.log.Error("request timed out", "err", err, "request_id", requestIDOf(c))
		a.renderError(c, http.StatusServiceUnavailable, views.TitleBusy, views.TextBusy)
	default:
		a.metrics.dbError(err)
		a.log.Error("request failed", "err", err, "request_id", requestIDOf(c), "path", logPath(c))
		a.renderError(c, http.StatusInternalServerError, views.TitleSomethingWrong,
			views.TextFailed)
	}
}

// retryAfter sets Retry-After to wait, in whole seconds rounded up.
func retryAfter(c *gin.Context, wait time.Duration) {
	c.Header("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
}

// Flash codes travel in a short-lived cookie across a redirect; each maps to fixed text
// (or, for "e<id>", to one of the user's own security events), so it can carry no markup.
const (
	flashCookie     = "elsewhere_notice"
	flashEnded      = "ended"
	flashLoggedOut  = "signed-out"
	flashGuessedOut = "guessed-out"
	flashTakenBack  = "taken-back"
	flashReset      = "reset"
)

var flashText = map[string]string{
	flashEnded:      views.TextSignedOutElsewhere,
	flashLoggedOut:  views.TextSignedOut,
	flashGuessedOut: views.TextGuessedOut,
	flashTakenBack:  views.TextTakenBack,
	flashReset:      views.TextResetDone,
}

func (a *App) setFlash(c *gin.Context, code string) { a.carry(c, flashCookie, "/", code, time.Minute) }

// takeFlash returns the pending flash code and clears it, so a notice is shown once.
func (a *App) takeFlash(c *gin.Context) string {
	code, ok := a.takeCarried(c, flashCookie, "/")
	if !ok || len(code) > 32 {
		return ""
	}
	return code
}

// carry keeps value in this browser for a later request under path, for at most life:
// a short-lived cookie of the app's own (HttpOnly, SameSite=Lax, Secure on https) that
// takeCarried reads once. It holds nothing secret; its reader checks what it finds.
func (a *App) carry(c *gin.Context, name, path, value string, life time.Duration) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: path, MaxAge: int(life / time.Second),
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode})
}

// takeCarried returns what carry kept under name and clears it; ok is false when nothing is.
func (a *App) takeCarried(c *gin.Context, name, path string) (value string, ok bool) {
	ck, err := c.Request.Cookie(name)
	if err != nil {
		return "", false
	}
	a.carry(c, name, path, "", -time.Second) // MaxAge -1: gone now
	return ck.Value, true
}

// logPath is the request's route for a log line: the pattern ("/password/reset/:token"),
// never the path itself, which may carry a mailed link's token.
func logPath(c *gin.Context) string {
	if p := c.FullPath(); p != "" {
		return p
	}
	return "(no route)"
}
