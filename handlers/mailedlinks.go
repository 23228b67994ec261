package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/models/device"
	"github.com/elsewhere-dev/elsewhere/models/text"
	"github.com/elsewhere-dev/elsewhere/views"
)

// The pages reached from a mailed link, and the reset request. None needs a signed-in
// device: they are how an owner who lost theirs, or their password, gets back in.

// linkPage is one kind of mailed link: "This wasn't me" or password reset.
type linkPage struct {
	kind  string // models.LinkNotMe or models.LinkReset
	path  string // its page; old-style links add "/" and the token
	title string
	flash string // the notice the sign-in page shows after it
	form  func(r views.Recover, action string) templ.Component
}

func (a *App) notMeLink() linkPage {
	return linkPage{kind: models.LinkNotMe, path: "/account/not-me", title: views.TitleSecureAccount,
		flash: flashTakenBack, form: views.NotMePage}
}

func (a *App) resetLink() linkPage {
	return linkPage{kind: models.LinkReset, path: "/password/reset", title: views.TitleSetPassword,
		flash: flashReset, form: views.ResetPage}
}

func (a *App) notMePage(c *gin.Context) { a.showLink(c, a.notMeLink()) }
func (a *App) notMe(c *gin.Context)     { a.followLink(c, a.notMeLink()) }
func (a *App) resetPage(c *gin.Context) { a.showLink(c, a.resetLink()) }
func (a *App) reset(c *gin.Context)     { a.followLink(c, a.resetLink()) }

// linkHeaders keep a page whose address holds a token out of caches and referrers.
func linkHeaders(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Referrer-Policy", "no-referrer")
}

// linkGone answers a link that does not work: unknown, used, expired, of the other kind.
func (a *App) linkGone(c *gin.Context, lp linkPage) {
	a.page(c, http.StatusNotFound, views.TitleLinkGone, views.LinkGonePage(lp.kind == models.LinkReset))
}

// linkSecret is the secret the request carries: the token of an old-style link in its
// path, else the token the page's script posts, else the code typed from the mail (typed
// says so: a code that does not work is asked for again, not called a dead link).
func linkSecret(c *gin.Context) (secret string, typed bool) {
	if t := c.Param("token"); t != "" {
		return t, false
	}
	if t := c.PostForm("token"); t != "" {
		return t, false
	}
	return strings.TrimSpace(c.PostForm("code")), true
}

// workingLink looks the link with that secret up; when it does not work it has answered.
func (a *App) workingLink(c *gin.Context, lp linkPage, secret string) (models.Link, bool) {
	l, err := a.mail.LinkFor(c.Request.Context(), lp.kind, secret)
	switch {
	case errors.Is(err, models.ErrNotFound):
		a.linkGone(c, lp)
		return models.Link{}, false
	case err != nil:
		a.fail(c, err)
		return models.Link{}, false
	}
	return l, true
}

// showLink shows the form a link leads to. A mailed link's page has no token in its
// address (it is in the fragment, for the page's script): the form asks for the code,
// which the script removes. An old-style link, its token in the path, still works until
// it expires; its form posts the token in the body, to the address without it.
func (a *App) showLink(c *gin.Context, lp linkPage) {
	linkHeaders(c)
	token := c.Param("token")
	if token == "" {
		a.page(c, http.StatusOK, lp.title, lp.form(views.Recover{Ask: true, Next: nextOf(c)}, a.path(lp.path)))
		return
	}
	if l, ok := a.workingLink(c, lp, token); ok {
		a.page(c, http.StatusOK, lp.title, lp.form(views.Recover{Email: l.Email, Token: token, Next: nextOf(c)}, a.path(lp.path)))
	}
}

// followLink sets the new password from a working link, signs every device of the
// account out and ends the account's links, then signs this browser in.
func (a *App) followLink(c *gin.Context, lp linkPage) {
	linkHeaders(c)
	ctx := c.Request.Context()
	if err := parseForm(c.Request); err != nil {
		a.badForm(c, err)
		return
	}
	token, typed := linkSecret(c)
	// The form again, as it was sent: the secret stays in the body, never in the address.
	again := func(r views.Recover) views.Recover {
		r.Next = nextOf(c)
		if typed {
			r.Ask, r.Code = true, token
		} else {
			r.Token = token
		}
		return r
	}
	if typed {
		if _, err := a.mail.LinkFor(ctx, lp.kind, token); errors.Is(err, models.ErrNotFound) {
			a.page(c, http.StatusUnprocessableEntity, lp.title,
				lp.form(again(views.Recover{Error: views.TextCodeGone}), a.path(lp.path)))
			return
		}
	}
	l, ok := a.workingLink(c, lp, token)
	if !ok {
		return
	}
	next := c.PostForm("new_password")
	if err := models.CheckNewPassword(next); err != nil {
		a.page(c, http.StatusUnprocessableEntity, lp.title,
			lp.form(again(views.Recover{Email: l.Email, Error: views.Problem(err)}), a.path(lp.path)))
		return
	}
	// From here the work is done whatever the client does: the link is spent only with it.
	ctx = context.WithoutCancel(ctx)
	hash, err := a.hasher.Hash(ctx, next)
	if err != nil {
		a.fail(c, err)
		return
	}
	label := device.Parse(text.Clean(c.Request.UserAgent(), device.MaxUserAgentLen), signInHints(c)).Label()
	ev, err := a.sessions.TakeBack(ctx, lp.kind, token, hash, models.Actor{IP: c.ClientIP(), Device: label})
	switch {
	case errors.Is(err, models.ErrNotFound): // used a moment ago, by another request
		a.linkGone(c, lp)
		return
	case err != nil:
		a.fail(c, err)
		return
	}
	a.emit(ev)
	// The rescue ends signed in, on this browser, which the account now knows: it never
	// ends at a sign-in page that someone keeps locked by guessing at the email.
	user, err := a.users.ByID(ctx, l.UserID)
	if err == nil {
		err = a.signInRescued(c, user)
	}
	if err != nil {
		// The new password is set all the same; say so, and let the person sign in.
		a.log.Error("sign in after a mailed link", "err", err, "request_id", requestIDOf(c))
		if si := a.resolve(c); si.ok && si.user.ID == l.UserID {
			http.SetCookie(c.Writer, a.cookie("", -1)) // its session ended with the others
		}
		a.setFlash(c, lp.flash)
		c.Redirect(http.StatusSeeOther, a.path("/login"))
		return
	}
	if next := a.takeReturnTo(c); next != "" {
		c.Redirect(http.StatusSeeOther, next)
		return
	}
	a.setFlash(c, "e"+strconv.FormatInt(ev.ID, 10))
	c.Redirect(http.StatusSeeOther, a.path("/account/security"))
}

// returnToCookie carries the host page a person was going to when they asked for a reset
// link, to the browser that follows it: the link itself carries no more than its token.
// It is a plain same-site path, checked again when read, and holds nothing secret.
const returnToCookie = "elsewhere_next"

// keepReturnTo remembers next in this browser for as long as a reset link works.
func (a *App) keepReturnTo(c *gin.Context, next string) {
	if next == "" {
		return
	}
	a.carry(c, returnToCookie, a.path("/"), url.QueryEscape(next), models.ResetFor)
}

// takeReturnTo is where a browser that just got its account back goes: the request's own
// next (a "This wasn't me" or reset page opened with one), else the path kept when it
// asked for the link; "" for the Security page. The kept path is cleared either way.
func (a *App) takeReturnTo(c *gin.Context) string {
	next := nextOf(c)
	if kept, ok := a.takeCarried(c, returnToCookie, a.path("/")); ok && next == "" {
		if kept, err := url.QueryUnescape(kept); err == nil {
			next = safeNext(kept)
		}
	}
	return next
}

func (a *App) forgotPage(c *gin.Context) {
	a.page(c, http.StatusOK, views.TitleForgot, views.ForgotPage(views.Recover{Next: nextOf(c)}))
}

// forgot mails a reset link to the account with that email, if there is one. The answer
// is the same either way, and takes the same time: the mail goes from the outbox.
func (a *App) forgot(c *gin.Context) {
	ctx := c.Request.Context()
	if err := parseForm(c.Request); err != nil {
		a.badForm(c, err)
		return
	}
	given := text.Clean(c.PostForm("email"), models.MaxEmailLen+16)
	next := nextOf(c)
	email, err := models.NormalizeEmail(given)
	if err != nil {
		a.page(c, http.StatusUnprocessableEntity, views.TitleForgot,
			views.ForgotPage(views.Recover{Email: given, Error: views.Problem(err), Next: next}))
		return
	}
	_, wait, err := a.limits.Try(ctx,
		models.LimitKey{Limit: a.cfg.Limits.ResetIP, Key: models.AddressKey(c.ClientIP())},
		models.LimitKey{Limit: a.cfg.Limits.ResetEmail, Key: email})
	if err != nil {
		a.fail(c, err)
		return
	}
	if wait > 0 {
		a.refusedByLimit(c, wait)
		a.page(c, http.StatusTooManyRequests, views.TitleForgot,
			views.ForgotPage(views.Recover{Email: given, Error: views.TextTooManyResets, Next: next}))
		return
	}
	u, err := a.users.ByEmail(ctx, email)
	switch {
	case errors.Is(err, models.ErrNotFound):
	case err != nil:
		a.fail(c, err)
		return
	default:
		m := views.ResetMail{Site: a.cfg.BaseURL}
		if err := a.mail.Queue(context.WithoutCancel(ctx), models.Outgoing{UserID: u.ID, Kind: models.MailReset, To: u.Email,
			Subject: m.Subject(), Text: m.Text(), HTML: mailBody(views.ResetHTML(m))}); err != nil {
			a.fail(c, err)
			return
		}
		a.metrics.mailed("queued", 1)
	}
	// Kept whether or not the account exists, so the answer tells nothing either way.
	a.keepReturnTo(c, next)
	a.page(c, http.StatusOK, views.TitleForgot, views.ForgotPage(views.Recover{Email: given, Notice: views.TextResetSent, Next: next}))
}
