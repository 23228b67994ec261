package handlers

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/models/text"
	"github.com/elsewhere-dev/elsewhere/views"
)

func (a *App) home(c *gin.Context) {
	if a.resolve(c).ok {
		c.Redirect(http.StatusSeeOther, a.path("/account/security"))
		return
	}
	c.Redirect(http.StatusSeeOther, a.path("/login"))
}

func (a *App) loginPage(c *gin.Context) {
	if a.resolve(c).ok {
		a.afterSignIn(c)
		return
	}
	c.Header("Critical-CH", criticalCH)
	a.page(c, http.StatusOK, views.TitleSignIn, views.LoginPage(views.AuthForm{
		Notice: flashText[a.takeFlash(c)], SignupOpen: a.cfg.SignupOpen, RememberFor: a.rememberFor(),
		MailOn: a.cfg.Mailer != nil, Next: nextOf(c),
	}))
}

func (a *App) login(c *gin.Context) {
	ctx := c.Request.Context()
	if err := parseForm(c.Request); err != nil {
		a.badForm(c, err)
		return
	}
	form := views.AuthForm{Email: c.PostForm("email"), Remember: c.PostForm("remember") == "on",
		SignupOpen: a.cfg.SignupOpen, RememberFor: a.rememberFor(), MailOn: a.cfg.Mailer != nil, Next: nextOf(c)}
	form.Email = text.Clean(form.Email, models.MaxEmailLen+16)
	password := c.PostForm("password")
	loginFailed := func(status int, msg string) {
		form.Error = msg
		a.page(c, status, views.TitleSignIn, views.LoginPage(form))
	}
	locked := func(wait time.Duration) {
		a.refusedByLimit(c, wait)
		loginFailed(http.StatusTooManyRequests, views.TextSignInLocked(wait))
	}

	email, emailErr := models.NormalizeEmail(form.Email)
	// The attempt is counted before the password is checked, so parallel guesses cannot
	// all pass the limit; a right password takes it back.
	// Right passwords draw on the address's budget too: each costs a hash.
	ipKey := models.AddressKey(c.ClientIP())
	keys := []models.LimitKey{
		{Limit: a.cfg.Limits.LoginIP, Key: ipKey},
		{Limit: a.cfg.Limits.LoginIPAll, Key: ipKey},
	}
	// A browser the account signed in from has a budget of its own; only browsers it does
	// not know share the email's, so whoever locks the email locks out only strangers.
	devKey, err := a.knownBrowser(c, email)
	if err != nil {
		a.fail(c, err)
		return
	}
	if devKey != "" {
		keys = append(keys, models.LimitKey{Limit: a.cfg.Limits.LoginDevice, Key: devKey})
	} else {
		keys = append(keys, models.LimitKey{Limit: a.cfg.Limits.LoginEmail, Key: email})
	}
	att, wait, err := a.limits.Try(ctx, keys...)
	if err != nil {
		a.fail(c, err)
		return
	}
	if wait > 0 {
		a.metrics.signIn(resultRefused)
		locked(wait)
		return
	}

	err = models.ErrInvalidCredentials
	if emailErr == nil && password != "" && !models.PasswordTooLong(password) {
		var user models.User
		if user, err = a.users.Authenticate(ctx, email, password); err == nil {
			err = a.signIn(c, user, form.Remember, user.PasswordVersion)
		}
		if errors.Is(err, models.ErrPasswordChanged) {
			// The password was changed between the check and the sign-in's write: the
			// one given is no longer right.
			err = models.ErrInvalidCredentials
		}
	}
	switch {
	case err == nil:
		a.metrics.signIn(resultSucceeded)
		if err := a.limits.Succeeded(ctx, att); err != nil {
			a.log.Error("release sign-in attempt", "err", err, "request_id", requestIDOf(c))
		}
		a.afterSignIn(c)
	case errors.Is(err, models.ErrInvalidCredentials):
		wait, err := a.limits.Failed(ctx, att)
		if err != nil {
			a.fail(c, err)
			return
		}
		a.metrics.signIn(resultFailed) // checked and wrong, even when it used up the budget
		if wait > 0 {
			locked(wait)
			return
		}
		loginFailed(http.StatusUnauthorized, views.TextBadLogin)
	default:
		a.fail(c, err)
	}
}

// knownBrowser returns the sign-in budget's key of this browser for this account (one
// browser shared by two accounts has a budget for each) when the account with that email
// knows it (by its device cookie, issued by this server, in the same kind of
// browser), or "" when the account does not, or does not exist.
func (a *App) knownBrowser(c *gin.Context, email string) (string, error) {
	hash := a.browserOf(c).hash()
	if email == "" || hash == nil {
		return "", nil
	}
	known, err := a.users.KnowsDevice(c.Request.Context(), email, hash)
	if err != nil || !known {
		return "", err
	}
	return email + " " + hex.EncodeToString(hash), nil
}

func (a *App) signupPage(c *gin.Context) {
	if !a.cfg.SignupOpen {
		a.renderError(c, http.StatusNotFound, views.TitleSignupClosed, views.TextSignupClosed)
		return
	}
	if a.resolve(c).ok {
		a.afterSignIn(c)
		return
	}
	c.Header("Critical-CH", criticalCH)
	a.page(c, http.StatusOK, views.TitleCreateAccount, views.SignupPage(views.AuthForm{Next: nextOf(c)}))
}

func (a *App) signup(c *gin.Context) {
	if !a.cfg.SignupOpen {
		a.renderError(c, http.StatusNotFound, views.TitleSignupClosed, views.TextSignupClosed)
		return
	}
	if err := parseForm(c.Request); err != nil {
		a.badForm(c, err)
		return
	}
	form := views.AuthForm{Email: text.Clean(c.PostForm("email"), models.MaxEmailLen+16), Next: nextOf(c)}
	password := c.PostForm("password")
	refuse := func(msg string) {
		form.Error = msg
		a.page(c, http.StatusUnprocessableEntity, views.TitleCreateAccount, views.SignupPage(form))
	}
	email, err := models.NormalizeEmail(form.Email)
	if err != nil {
		refuse(views.Problem(err))
		return
	}
	if err := models.CheckNewPassword(password); err != nil {
		refuse(views.Problem(err))
		return
	}
	// Every attempt that gets this far costs a hash (and says whether the email is
	// taken), so each counts, created or not.
	_, wait, err := a.limits.Try(c.Request.Context(),
		models.LimitKey{Limit: a.cfg.Limits.SignupIP, Key: models.AddressKey(c.ClientIP())})
	if err != nil {
		a.fail(c, err)
		return
	}
	if wait > 0 {
		a.refusedByLimit(c, wait)
		form.Error = views.TextSignupLocked(wait)
		a.page(c, http.StatusTooManyRequests, views.TitleCreateAccount, views.SignupPage(form))
		return
	}
	hash, err := a.hasher.Hash(c.Request.Context(), password)
	if err != nil {
		a.fail(c, err)
		return
	}
	err = a.signUp(c, email, hash)
	if errors.Is(err, models.ErrEmailTaken) {
		refuse(views.TextEmailTaken)
		return
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	a.afterSignIn(c)
}

func (a *App) logout(c *gin.Context) {
	_, ok, err := a.signOut(c)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			c.Status(499) // the client went away; nobody reads this
			return
		}
		// The row could not be deleted, so the session is still valid: say so, keep the
		// cookie, and let the person try again, rather than pretend they are signed out.
		a.log.Error("sign out", "err", err, "request_id", requestIDOf(c))
		retryAfter(c, 5*time.Second)
		a.renderError(c, http.StatusServiceUnavailable, views.TitleNotSignedOut,
			views.TextNotSignedOut)
		return
	}
	if ok {
		a.setFlash(c, flashLoggedOut)
	}
	c.Redirect(http.StatusSeeOther, a.path("/login"))
}

// badForm answers a body that could not be parsed.
func (a *App) badForm(c *gin.Context, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		a.fail(c, err)
		return
	}
	a.renderError(c, http.StatusUnprocessableEntity, views.TitleUnreadableForm, views.TextUnreadableForm)
}

// rememberFor says how long "keep me signed in" lasts, as a person would say it.
func (a *App) rememberFor() string {
	d := a.cfg.RememberFor
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d minutes", int(d.Minutes()))
}
