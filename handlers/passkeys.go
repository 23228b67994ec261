package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/views"
)

// Passkeys: the ceremonies go through go-webauthn in models.Passkeys; these handlers hand
// the browser its options as JSON and take its answers back. The page script
// (static/app.js) calls navigator.credentials; without JavaScript there are no passkeys
// and every password path works as before.

// maxCredentialJSON is the largest authenticator answer taken (a real one is ~1 KB).
const maxCredentialJSON = 16 << 10

// passkeysOn lets a passkey route through where passkeys work (a base URL with a domain);
// elsewhere it answers 404.
func (a *App) passkeysOn(c *gin.Context) {
	if a.passkeys == nil {
		a.renderError(c, http.StatusNotFound, views.TitleNotFound, views.TextNotFound)
		c.Abort()
		return
	}
	c.Next()
}

// passkeyJSON answers one of the script's passkey requests.
func passkeyJSON(c *gin.Context, status int, options []byte) {
	c.Header("Cache-Control", "no-store")
	c.Data(status, "application/json; charset=utf-8", options)
}

// passkeyError answers one of the script's passkey requests with a sentence to show.
func passkeyError(c *gin.Context, status int, msg string) {
	c.Header("Cache-Control", "no-store")
	c.JSON(status, gin.H{"error": msg})
}

// credentialField reads the authenticator's answer the script put in a form field;
// false when it is missing or too large to be one.
func credentialField(c *gin.Context, name string) ([]byte, bool) {
	v := c.PostForm(name)
	if v == "" || len(v) > maxCredentialJSON {
		return nil, false
	}
	return []byte(v), true
}

// passkeySignInOptions starts a sign-in with a passkey: anyone may ask, as anyone may
// open the sign-in page.
func (a *App) passkeySignInOptions(c *gin.Context) {
	opts, err := a.passkeys.BeginSignIn(c.Request.Context())
	if err != nil {
		a.fail(c, err)
		return
	}
	passkeyJSON(c, http.StatusOK, opts)
}

// passkeySignIn signs the browser in with a passkey's assertion (field credential),
// through the same sign-in as a password (signIn: the session, its cap, the known
// device, the device cookie, the log and the alerts), and under the same per-address
// limits; a refused passkey counts as a failed sign-in.
func (a *App) passkeySignIn(c *gin.Context) {
	ctx := c.Request.Context()
	if err := parseForm(c.Request); err != nil {
		a.badForm(c, err)
		return
	}
	form := views.AuthForm{Remember: c.PostForm("remember") == "on", SignupOpen: a.cfg.SignupOpen,
		RememberFor: a.rememberFor(), MailOn: a.cfg.Mailer != nil, Next: nextOf(c)}
	failed := func(status int, msg string) {
		form.Error = msg
		a.page(c, status, views.TitleSignIn, views.LoginPage(form))
	}
	ipKey := models.AddressKey(c.ClientIP())
	att, wait, err := a.limits.Try(ctx, models.LimitKey{Limit: a.cfg.Limits.LoginIP, Key: ipKey},
		models.LimitKey{Limit: a.cfg.Limits.LoginIPAll, Key: ipKey})
	if err != nil {
		a.fail(c, err)
		return
	}
	if wait > 0 {
		a.refusedByLimit(c, wait)
		failed(http.StatusTooManyRequests, views.TextSignInLocked(wait))
		return
	}
	err = models.ErrPasskeyRefused
	if resp, ok := credentialField(c, "credential"); ok {
		var uid int64
		if uid, err = a.passkeys.SignIn(ctx, resp); err == nil {
			var user models.User
			if user, err = a.users.ByID(ctx, uid); err == nil {
				err = a.signIn(c, user, form.Remember, user.PasswordVersion)
			}
		}
	}
	switch {
	case err == nil:
		if err := a.limits.Succeeded(ctx, att); err != nil {
			a.log.Error("release sign-in attempt", "err", err, "request_id", requestIDOf(c))
		}
		a.afterSignIn(c)
	case errors.Is(err, models.ErrPasskeyRefused), errors.Is(err, models.ErrNotFound):
		wait, err := a.limits.Failed(ctx, att)
		if err != nil {
			a.fail(c, err)
			return
		}
		if wait > 0 {
			a.refusedByLimit(c, wait)
			failed(http.StatusTooManyRequests, views.TextSignInLocked(wait))
			return
		}
		failed(http.StatusUnauthorized, views.TextPasskeyRefused)
	default:
		a.fail(c, err)
	}
}

// passkeyConfirmOptions starts confirming an action with a passkey: options naming the
// account's passkeys, for a challenge only this session can answer. 409 when the account
// has none.
func (a *App) passkeyConfirmOptions(c *gin.Context) {
	cur := current(c)
	opts, err := a.passkeys.BeginConfirm(c.Request.Context(), cur.UserID, cur.Handle)
	if errors.Is(err, models.ErrNoPasskeys) {
		passkeyError(c, http.StatusConflict, views.TextNoPasskeys)
		return
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	passkeyJSON(c, http.StatusOK, opts)
}

// passkeyAddOptions starts adding a passkey. It needs a fresh confirmation (the password
// or a passkey, given now: an open confirmation window is not enough), and only then
// gives out the challenge, which the addition must answer within its short lifetime.
func (a *App) passkeyAddOptions(c *gin.Context) {
	if err := parseForm(c.Request); err != nil {
		a.badForm(c, err)
		return
	}
	refuse := func(status int, msg string) { passkeyError(c, status, msg) }
	if _, err := models.CheckDeviceName(c.PostForm("name")); err != nil {
		refuse(http.StatusUnprocessableEntity, views.Problem(err))
		return
	}
	// The window is neither needed nor opened: the challenge is the fresh confirmation.
	if _, ok := a.confirm(c, c.PostForm("password"), false, refuse); !ok {
		return
	}
	cur := current(c)
	opts, err := a.passkeys.BeginAdd(c.Request.Context(), cur.UserID, cur.Handle)
	if errors.Is(err, models.ErrTooManyPasskeys) {
		refuse(http.StatusConflict, views.TextTooManyPasskeys)
		return
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	passkeyJSON(c, http.StatusOK, opts)
}

// addPasskey keeps the passkey the browser made (field credential) for the challenge
// passkeyAddOptions gave this session, under the name given. It answers JSON: where to go
// next, or why not.
func (a *App) addPasskey(c *gin.Context) {
	if err := parseForm(c.Request); err != nil {
		a.badForm(c, err)
		return
	}
	cur := current(c)
	name, err := models.CheckDeviceName(c.PostForm("name"))
	if err != nil {
		passkeyError(c, http.StatusUnprocessableEntity, views.Problem(err))
		return
	}
	resp, ok := credentialField(c, "credential")
	if !ok {
		passkeyError(c, http.StatusUnprocessableEntity, views.TextPasskeyRefused)
		return
	}
	_, ev, err := a.passkeys.FinishAdd(c.Request.Context(), cur.UserID, cur.Handle, resp,
		models.NewPasskey{Name: name, Actor: models.Actor{IP: c.ClientIP(), Device: cur.Device.Label()}})
	switch {
	case errors.Is(err, models.ErrPasskeyRefused):
		passkeyError(c, http.StatusUnprocessableEntity, views.TextPasskeyRefused)
		return
	case errors.Is(err, models.ErrTooManyPasskeys):
		passkeyError(c, http.StatusConflict, views.TextTooManyPasskeys)
		return
	case err != nil:
		a.fail(c, err)
		return
	}
	a.emit(ev)
	a.setFlash(c, "e"+strconv.FormatInt(ev.ID, 10))
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"redirect": a.path("/account/security")})
}

// passkeyTarget resolves a passkey action's {id}: one of the user's passkeys; 404 for
// anything else, before any password is asked.
func (a *App) passkeyTarget(c *gin.Context) (models.Passkey, bool) {
	if err := parseForm(c.Request); err != nil {
		a.badForm(c, err)
		return models.Passkey{}, false
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err == nil && id > 0 {
		list, err := a.passkeys.List(c.Request.Context(), current(c).UserID)
		if err != nil {
			a.fail(c, err)
			return models.Passkey{}, false
		}
		for _, pk := range list {
			if pk.ID == id {
				return pk, true
			}
		}
	}
	a.renderError(c, http.StatusNotFound, views.TitleNoSuchPasskey, views.TextNoSuchPasskey)
	return models.Passkey{}, false
}

// removePasskeyPage asks before removing a passkey: a page of its own.
func (a *App) removePasskeyPage(c *gin.Context) {
	pk, ok := a.passkeyTarget(c)
	if !ok {
		return
	}
	f := views.RemovePasskeyConfirmation(pk.ID, pk.ShownName())
	a.page(c, http.StatusOK, f.Title, views.ConfirmPage(f, "", a.confirmOpen(current(c), a.now())))
}

// removePasskey removes one of the user's passkeys, confirmed as a sign-out is.
func (a *App) removePasskey(c *gin.Context) {
	pk, ok := a.passkeyTarget(c)
	if !ok {
		return
	}
	refuse := a.refuseConfirm(c, views.RemovePasskeyConfirmation(pk.ID, pk.ShownName()))
	conf, ok := a.confirm(c, c.PostForm("password"), true, refuse)
	if !ok {
		return
	}
	a.finish(c, conf, conf.password, refuse, func(ch models.Change) (models.Event, error) {
		return a.sessions.RemovePasskey(c.Request.Context(), ch, pk.ID)
	}, func(v views.Security) templ.Component { return views.PasskeySection(v, false) })
}

// renamePasskeyPage is the rename form for a passkey.
func (a *App) renamePasskeyPage(c *gin.Context) {
	pk, ok := a.passkeyTarget(c)
	if !ok {
		return
	}
	a.page(c, http.StatusOK, views.TitleRenamePasskey, views.RenamePasskeyPage(pk.ID, pk.ShownName(), pk.Name, ""))
}

// renamePasskey names one of the user's passkeys; like naming a device, it asks for no
// password (it changes no access) and is logged.
func (a *App) renamePasskey(c *gin.Context) {
	pk, ok := a.passkeyTarget(c)
	if !ok {
		return
	}
	cur := current(c)
	name, err := models.CheckDeviceName(c.PostForm("name"))
	if err != nil {
		a.page(c, http.StatusUnprocessableEntity, views.TitleRenamePasskey,
			views.RenamePasskeyPage(pk.ID, pk.ShownName(), c.PostForm("name"), views.Problem(err)))
		return
	}
	ev, err := a.passkeys.Rename(c.Request.Context(), cur.UserID, pk.ID, name, models.Actor{IP: c.ClientIP(), Device: cur.Device.Label()})
	if errors.Is(err, models.ErrNotFound) {
		a.renderError(c, http.StatusNotFound, views.TitleNoSuchPasskey, views.TextNoSuchPasskey)
		return
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	a.emit(ev)
	a.setFlash(c, "e"+strconv.FormatInt(ev.ID, 10))
	c.Redirect(http.StatusSeeOther, a.path("/account/security"))
}

// passkeyViews are the user's passkeys as the page shows them.
func (a *App) passkeyViews(c *gin.Context, loc *time.Location) ([]views.PasskeyView, error) {
	list, err := a.passkeys.List(c.Request.Context(), current(c).UserID)
	if err != nil {
		return nil, err
	}
	out := make([]views.PasskeyView, 0, len(list))
	for _, pk := range list {
		v := views.PasskeyView{ID: pk.ID, Name: pk.ShownName(), Authenticator: pk.Authenticator, AddedDevice: pk.AddedDevice,
			AddedAt: pk.AddedAt.In(loc), Synced: pk.BackedUp}
		if !pk.LastUsedAt.IsZero() {
			v.LastUsed = pk.LastUsedAt.In(loc)
		}
		out = append(out, v)
	}
	return out, nil
}
