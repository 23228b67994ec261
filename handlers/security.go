package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/views"
)

// logSize is how many security events the page shows.
const logSize = 10

// securityView loads what the Security page shows for the current session.
func (a *App) securityView(c *gin.Context, notice string) (views.Security, error) {
	ctx := c.Request.Context()
	cur := current(c)
	user, err := a.currentUser(c)
	if err != nil {
		return views.Security{}, err
	}
	list, err := a.sessions.ListForUser(ctx, cur.UserID)
	if err != nil {
		return views.Security{}, err
	}
	events, err := a.events.Latest(ctx, cur.UserID, logSize)
	if err != nil {
		return views.Security{}, err
	}
	now := a.now()
	v := views.Security{Email: user.Email, Notice: notice, Now: now, ConfirmOpen: a.confirmOpen(cur, now),
		RefreshEvery: a.cfg.RefreshEvery}
	v.Sessions = make([]views.SessionView, 0, len(list))
	for _, s := range list {
		row := sessionView(s, s.Handle == cur.Handle)
		if row.Current {
			v.Sessions = append([]views.SessionView{row}, v.Sessions...)
		} else {
			v.Sessions = append(v.Sessions, row)
		}
	}
	for _, e := range events {
		v.Events = append(v.Events, eventView(e))
	}
	return v, nil
}

func sessionView(s models.Session, isCurrent bool) views.SessionView {
	t := string(s.Device.Type)
	if t == "" {
		t = string(models.DeviceUnknown)
	}
	return views.SessionView{Handle: s.Handle, Label: s.Device.Label(), Type: t, IP: s.IP,
		SignedIn: s.CreatedAt, LastActive: s.LastActiveAt, Current: isCurrent}
}

func eventView(e models.Event) views.EventView {
	return views.EventView{Kind: string(e.Kind), Text: eventText(e), IP: e.IP, At: e.At}
}

// eventText is the sentence the security log and the notice show for an event.
func eventText(e models.Event) string {
	switch e.Kind {
	case models.EventSignedIn:
		return "Signed in on " + e.Detail
	case models.EventSignedOut:
		return "Signed out on " + e.Detail
	case models.EventSessionRevoked:
		return "Signed out " + e.Detail
	case models.EventOthersRevoked:
		return "Logged out " + e.Detail
	case models.EventPasswordChanged:
		return "Password changed; " + e.Detail
	case models.EventStampMismatch:
		return e.Detail + " was signed out because the password changed"
	case models.EventConfirmFailed:
		return "Wrong password given to confirm an action on " + e.Device
	case models.EventLockedOut:
		return "Confirmation locked after too many wrong passwords"
	}
	return string(e.Kind)
}

func (a *App) securityPage(c *gin.Context) {
	notice := ""
	if code := a.takeFlash(c); strings.HasPrefix(code, "e") {
		if id, err := strconv.ParseInt(code[1:], 10, 64); err == nil {
			if ev, err := a.events.ByID(c.Request.Context(), current(c).UserID, id); err == nil {
				notice = eventText(ev)
			}
		}
	}
	v, err := a.securityView(c, notice)
	if err != nil {
		a.fail(c, err)
		return
	}
	if isHTMX(c) {
		// The live refresh: the list, with the counts and the log out of band.
		a.render(c, http.StatusOK, listFragment(v))
		return
	}
	a.page(c, http.StatusOK, "Security", views.SecurityPage(v))
}

func listFragment(v views.Security) templ.Component {
	return templ.Join(
		views.SessionList(v, false),
		views.SessionCount(len(v.Sessions), true),
		views.OthersAction(v, true),
		views.SecurityLog(v.Events, v.Now, true),
	)
}

func (a *App) confirmOpen(cur models.Session, now time.Time) bool {
	return a.cfg.ConfirmWindow > 0 && now.Before(cur.ConfirmedUntil)
}

// confirmation is the outcome of asking for the password before an action.
type confirmation struct {
	password       string    // the password given; "" when the window let the action through
	checkedVersion int64     // the password version the password was checked against
	confirmUntil   time.Time // the window to open, when the password was given
}

// confirm checks a password given to confirm an action, with the lockout. When it returns
// false it has answered the request through refuse (422 or 429) or a failure page.
// allowWindow lets an open confirmation window stand in for the password.
func (a *App) confirm(c *gin.Context, password string, allowWindow bool, refuse func(status int, msg string)) (confirmation, bool) {
	ctx := c.Request.Context()
	cur := current(c)
	now := a.now()
	// The attempt is counted before the password is checked, so parallel guesses cannot
	// all pass the lockout; anything but a wrong password takes it back.
	att, wait, err := a.limits.Try(ctx, models.LimitKey{Limit: models.LimitConfirm, Key: strconv.FormatInt(cur.UserID, 10)})
	if err != nil {
		a.fail(c, err)
		return confirmation{}, false
	}
	if wait > 0 {
		retryAfter(c, wait)
		refuse(http.StatusTooManyRequests, lockedMessage(wait))
		return confirmation{}, false
	}
	release := func() {
		if err := a.limits.Succeeded(context.WithoutCancel(ctx), att); err != nil {
			a.log.Error("release confirmation attempt", "err", err, "request_id", requestIDOf(c))
		}
	}
	if password == "" && allowWindow && a.confirmOpen(cur, now) {
		release()
		return confirmation{}, true
	}
	if password == "" {
		release()
		refuse(http.StatusUnprocessableEntity, "Enter your password to confirm.")
		return confirmation{}, false
	}
	checked, err := int64(0), models.ErrWrongPassword
	if !models.PasswordTooLong(password) {
		checked, err = a.users.CheckPassword(ctx, cur.UserID, password)
	}
	if errors.Is(err, models.ErrWrongPassword) {
		wait, ferr := a.limits.Failed(ctx, att)
		if ferr != nil {
			a.fail(c, ferr)
			return confirmation{}, false
		}
		kind := models.EventConfirmFailed
		if wait > 0 {
			kind = models.EventLockedOut
		}
		actor := models.Actor{IP: ClientIP(c.Request), Device: cur.Device.Label()}
		if ev, err := a.events.Record(ctx, cur.UserID, kind, actor, ""); err == nil {
			a.emit(ev)
		} else {
			a.log.Error("record confirmation failure", "err", err, "request_id", requestIDOf(c))
		}
		if wait > 0 {
			retryAfter(c, wait)
			refuse(http.StatusTooManyRequests, lockedMessage(wait))
			return confirmation{}, false
		}
		refuse(http.StatusUnprocessableEntity, "That password is not right. Nothing was changed.")
		return confirmation{}, false
	}
	if err != nil {
		a.fail(c, err)
		return confirmation{}, false
	}
	release()
	conf := confirmation{password: password, checkedVersion: checked}
	if a.cfg.ConfirmWindow > 0 {
		conf.confirmUntil = now.Add(a.cfg.ConfirmWindow)
	}
	return conf, true
}

// rotate runs a sign-out action with its hash rotation: it hashes hashThis (the confirmed
// password under a fresh salt, or the new password; "" inside the confirmation window,
// where there is no password to hash) and hands act the change. If the password was
// changed on another device since it was checked here, act refuses with
// ErrPasswordChanged and nothing is done.
func (a *App) rotate(c *gin.Context, conf confirmation, hashThis string, act func(models.Change) (models.Event, error)) (models.Event, error) {
	newHash := ""
	if hashThis != "" {
		var err error
		if newHash, err = a.hasher.Hash(c.Request.Context(), hashThis); err != nil {
			return models.Event{}, err
		}
	}
	return act(a.change(c, conf, newHash))
}

func lockedMessage(wait time.Duration) string {
	return "Too many wrong passwords. For your safety, confirmation is locked for " + humanWait(wait) + "."
}

// confirmForm says how to show a refused confirmation.
type confirmForm struct {
	dialogID string
	title    string
	body     string
	action   string
	submit   string
}

// refuseConfirm shows a refused confirmation: inside the open dialog (htmx) or as a page
// of its own (no JavaScript).
func (a *App) refuseConfirm(c *gin.Context, f confirmForm) func(status int, msg string) {
	return func(status int, msg string) {
		if isHTMX(c) {
			c.Header("HX-Retarget", "#"+f.dialogID+"-error")
			c.Header("HX-Reswap", "innerHTML")
			a.render(c, status, views.ConfirmError(msg))
			return
		}
		a.page(c, status, f.title, views.ConfirmPage(f.title, f.body, f.action, f.submit, msg))
	}
}

func (a *App) revokeOne(c *gin.Context) {
	if err := parseForm(c.Request); err != nil {
		a.badForm(c, err)
		return
	}
	cur := current(c)
	handle := c.Param("id")
	if handle == cur.Handle {
		a.renderError(c, http.StatusConflict, "That is this device",
			"To sign out the device you are using, use “Sign out” at the top of the page.")
		return
	}
	// Unknown, expired and other users' handles look the same: 404, before any password
	// is asked, so the confirmation form reveals nothing either.
	target, ok, err := a.ownSession(c, handle)
	if err != nil {
		a.fail(c, err)
		return
	}
	if !ok {
		a.renderError(c, http.StatusNotFound, "No such device", "That device is not signed in to your account.")
		return
	}
	label := target.Device.Label()
	form := confirmForm{dialogID: "confirm-" + handle, title: "Sign out " + label + "?",
		body:   "That device will lose access on its next request. Your password stays the same.",
		action: "/account/sessions/" + handle + "/revoke", submit: "Sign out device"}
	conf, ok := a.confirm(c, c.PostForm("password"), true, a.refuseConfirm(c, form))
	if !ok {
		return
	}
	ev, err := a.rotate(c, conf, conf.password, func(ch models.Change) (models.Event, error) {
		_, ev, err := a.sessions.Revoke(c.Request.Context(), ch, handle)
		return ev, err
	})
	if errors.Is(err, models.ErrNotFound) {
		a.renderError(c, http.StatusNotFound, "No such device", "That device is not signed in to your account.")
		return
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	a.emit(ev)
	a.actionDone(c, ev, conf, func(views.Security) templ.Component {
		return templ.NopComponent // the row's outerHTML swap with nothing removes it
	})
}

func (a *App) revokeOthers(c *gin.Context) {
	if err := parseForm(c.Request); err != nil {
		a.badForm(c, err)
		return
	}
	form := confirmForm{dialogID: "confirm-others", title: "Log out other devices?",
		body:   "Every device but this one will lose access on its next request.",
		action: "/account/sessions/others/revoke", submit: "Log out other devices"}
	conf, ok := a.confirm(c, c.PostForm("password"), true, a.refuseConfirm(c, form))
	if !ok {
		return
	}
	ev, err := a.rotate(c, conf, conf.password, func(ch models.Change) (models.Event, error) {
		_, ev, err := a.sessions.RevokeOthers(c.Request.Context(), ch)
		return ev, err
	})
	if err != nil {
		a.fail(c, err)
		return
	}
	a.emit(ev)
	a.actionDone(c, ev, conf, func(v views.Security) templ.Component { return views.SessionList(v, false) })
}

func (a *App) changePassword(c *gin.Context) {
	ctx := c.Request.Context()
	if err := parseForm(c.Request); err != nil {
		a.badForm(c, err)
		return
	}
	currentPW, next := c.PostForm("current_password"), c.PostForm("new_password")
	logoutOthers := c.PostForm("logout_others") == "on"
	refuse := func(status int, msg string) {
		if isHTMX(c) {
			a.render(c, status, views.PasswordSection(views.PasswordForm{Error: msg}, false))
			return
		}
		v, err := a.securityView(c, "")
		if err != nil {
			a.fail(c, err)
			return
		}
		v.Password.Error = msg
		a.page(c, status, "Security", views.SecurityPage(v))
	}
	if currentPW == "" {
		refuse(http.StatusUnprocessableEntity, "Enter your current password.")
		return
	}
	conf, ok := a.confirm(c, currentPW, false, refuse)
	if !ok {
		return
	}
	if problem := models.PasswordProblem(next); problem != "" {
		refuse(http.StatusUnprocessableEntity, problem)
		return
	}
	if next == currentPW {
		refuse(http.StatusUnprocessableEntity, "The new password is the same as the current one.")
		return
	}
	ev, err := a.rotate(c, conf, next, func(ch models.Change) (models.Event, error) {
		_, ev, err := a.sessions.ChangePassword(ctx, ch, logoutOthers)
		return ev, err
	})
	if err != nil {
		a.fail(c, err)
		return
	}
	a.emit(ev)
	a.actionDone(c, ev, conf, func(v views.Security) templ.Component {
		return templ.Join(
			views.PasswordSection(views.PasswordForm{Success: "Your password was changed."}, false),
			views.SessionList(v, true),
		)
	})
}

// change describes the current request's action for the model.
func (a *App) change(c *gin.Context, conf confirmation, newHash string) models.Change {
	cur := current(c)
	return models.Change{UserID: cur.UserID, Current: cur.Handle, NewHash: newHash, CheckedVersion: conf.checkedVersion,
		ConfirmUntil: conf.confirmUntil, Actor: models.Actor{IP: ClientIP(c.Request), Device: cur.Device.Label()}}
}

// actionDone answers a successful action: htmx gets the swapped content plus the count,
// the "Log out other devices" button, the notice and the log out of band; a plain form
// post gets 303 back to the page, which shows the notice once.
func (a *App) actionDone(c *gin.Context, ev models.Event, conf confirmation, main func(views.Security) templ.Component) {
	if !isHTMX(c) {
		a.setFlash(c, "e"+strconv.FormatInt(ev.ID, 10))
		c.Redirect(http.StatusSeeOther, "/account/security")
		return
	}
	if !conf.confirmUntil.IsZero() { // the window this action opened shows in the new rows
		cur := current(c)
		cur.ConfirmedUntil = conf.confirmUntil
		c.Set(ctxCurrent, cur)
	}
	v, err := a.securityView(c, eventText(ev))
	if err != nil {
		a.fail(c, err)
		return
	}
	a.render(c, http.StatusOK, templ.Join(
		main(v),
		views.SessionCount(len(v.Sessions), true),
		views.OthersAction(v, true),
		views.Notice(v.Notice, true),
		views.SecurityLog(v.Events, v.Now, true),
	))
}

// ownSession returns the current user's live session with that handle.
func (a *App) ownSession(c *gin.Context, handle string) (models.Session, bool, error) {
	if len(handle) != 32 {
		return models.Session{}, false, nil
	}
	s, err := a.sessions.ForUser(c.Request.Context(), current(c).UserID, handle)
	if errors.Is(err, models.ErrNotFound) {
		return models.Session{}, false, nil
	}
	return s, err == nil, err
}

// humanWait says a duration the way a person would, rounded up to minutes.
func humanWait(d time.Duration) string {
	m := int((d + time.Minute - 1) / time.Minute)
	if m <= 1 {
		return "a minute"
	}
	return fmt.Sprintf("%d minutes", m)
}
