package handlers

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/models/device"
	"github.com/elsewhere-dev/elsewhere/views"
)

// logSize is how many security events the page shows.
const logSize = 10

// securityView loads what the Security page shows for the current session.
func (a *App) securityView(c *gin.Context, notice string) (views.Security, error) {
	v, _, err := a.securityViewUntil(c, notice)
	return v, err
}

// securityViewUntil is securityView, and until when the clock leaves the view as it is,
// if nothing is committed meanwhile: the first moment a row's "Active now" or "x
// minutes ago" could change, a listed session end, the confirmation window close
// (at the latest in an hour). A view with a lock's countdown, or drawn past the list's
// cap, holds no time at all.
func (a *App) securityViewUntil(c *gin.Context, notice string) (views.Security, time.Time, error) {
	ctx := c.Request.Context()
	cur := current(c)
	user, _ := CurrentUser(c)
	list, err := a.sessions.ListForUser(ctx, cur.UserID)
	if err != nil {
		return views.Security{}, time.Time{}, err
	}
	events, err := a.events.Latest(ctx, cur.UserID, logSize)
	if err != nil {
		return views.Security{}, time.Time{}, err
	}
	var passkeys []views.PasskeyView
	if a.passkeys != nil {
		if passkeys, err = a.passkeyViews(c, readerZone(cur, user)); err != nil {
			return views.Security{}, time.Time{}, err
		}
	}
	now := a.now()
	until := now.Add(time.Hour)
	holdUntil := func(t time.Time) {
		if t.Before(until) {
			until = t
		}
	}
	v := views.Security{Passkeys: passkeys, Email: user.Email, Notice: notice, ConfirmOpen: a.confirmOpen(cur, now),
		RefreshEvery: a.cfg.RefreshEvery}
	loc := readerZone(cur, user)
	// This device first: its row, then the others in the list's order.
	v.Sessions = make([]views.SessionView, 1, len(list)+1)
	var own *models.Session // this device's row as listed, for its lock
	var others []views.LockView
	for i, s := range list {
		holdUntil(a.sessions.LiveUntil(s))
		if !s.UsedWithoutKeyAt.IsZero() {
			holdUntil(nextMinute(now, s.UsedWithoutKeyAt))
		}
		if s.Handle == cur.Handle {
			own = &list[i]
			continue
		}
		holdUntil(nextMinute(now, s.LastActiveAt))
		row := a.sessionView(s, false, loc, now)
		v.Sessions = append(v.Sessions, row)
		if now.Before(s.ConfirmLockedUntil) {
			others = append(others, views.LockView{Shown: row.Shown(), IP: s.IP, Remaining: s.ConfirmLockedUntil.Sub(now)})
		}
	}
	if own == nil { // past the list's cap (an account over it, not yet trimmed): still shown first
		own = &cur
		until = now
	} else if now.Before(own.ConfirmLockedUntil) {
		v.Locks = append(v.Locks, views.LockView{Own: true, Remaining: own.ConfirmLockedUntil.Sub(now)})
	}
	v.Sessions[0] = a.sessionView(*own, true, loc, now)
	v.Locks = append(v.Locks, others...)
	if len(v.Locks) > 0 {
		until = now // the countdown changes every millisecond
	}
	if v.ConfirmOpen {
		holdUntil(cur.ConfirmedUntil)
	}
	v.Events = make([]views.EventView, 0, len(events))
	for _, e := range events {
		v.Events = append(v.Events, a.eventView(e, loc))
		v.Seen = max(v.Seen, e.ID)
	}
	return v, until, nil
}

// nextMinute is the first moment after now that a whole minute more has passed since t
// (t itself while t is ahead): views.Ago(now, t) and "Active now" change only then.
func nextMinute(now, t time.Time) time.Time {
	if now.Before(t) {
		return t
	}
	return t.Add((now.Sub(t)/time.Minute + 1) * time.Minute)
}

// readerZone is the time zone a page shows times in: the one the reader's browser
// reported at sign-in, or else the account's last one (UTC without either).
func readerZone(cur models.Session, user models.User) *time.Location {
	if loc, ok := models.TimeZone(cur.Hints.TimeZone); ok {
		return loc
	}
	return models.In(user.TimeZone)
}

// activeNowFor is how recently a device must have been active to show as "Active now".
const activeNowFor = 2 * time.Minute

// sessionView is one device's row as the reader sees it at now.
func (a *App) sessionView(s models.Session, isCurrent bool, loc *time.Location, now time.Time) views.SessionView {
	t := string(s.Device.Type)
	if t == "" {
		t = string(device.Unknown)
	}
	r := views.SessionView{Handle: s.Handle, Label: s.Device.Label(), Name: s.DeviceName, OS: s.Device.OS, Type: t,
		IP: s.IP, Place: a.place(s.IP), SignedIn: s.CreatedAt.In(loc), Current: isCurrent, Bound: s.Bound(),
		ActiveNow: isCurrent || now.Sub(s.LastActiveAt) < activeNowFor}
	if !r.ActiveNow {
		r.LastActive = views.Ago(now, s.LastActiveAt)
	}
	if !s.UsedWithoutKeyAt.IsZero() {
		r.UsedWithoutKey = views.Ago(now, s.UsedWithoutKeyAt)
	}
	return r
}

func (a *App) eventView(e models.Event, loc *time.Location) views.EventView {
	return views.EventView{Kind: string(e.Kind), Text: views.EventLine(e), IP: e.IP, Place: a.place(e.IP), At: e.At.In(loc)}
}

func (a *App) securityPage(c *gin.Context) {
	code := a.takeFlash(c)
	cur := current(c)
	kind := "page"
	switch {
	case isHTMX(c):
		kind = "list" // the live refresh: the list, with the counts and the log out of band
	case a.cfg.Layout != nil:
		kind = "body" // drawn into the host's layout at every view
	}
	slot := kind + " " + cur.Handle
	who := a.viewer(c)
	// Nothing committed to the account since the page was drawn (on SQLite: to the
	// database; on PostgreSQL: as this server's lease vouches), and the clock leaving it
	// as it was, mean the page is the same without reading anything.
	stamp, stampOK := a.db.AccountStamp(cur.UserID)
	if stampOK && code == "" {
		if p, ok := a.pages.held(slot, stamp, who, a.now()); ok {
			a.sendPage(c, kind, p)
			return
		}
	}
	notice := ""
	if strings.HasPrefix(code, "e") {
		if id, err := strconv.ParseInt(code[1:], 10, 64); err == nil {
			if ev, err := a.events.ByID(c.Request.Context(), cur.UserID, id); err == nil {
				notice = views.EventText(ev)
			}
		}
	}
	v, until, err := a.securityViewUntil(c, notice)
	if err != nil {
		a.fail(c, err)
		return
	}
	var comp templ.Component
	switch kind {
	case "list":
		comp = listFragment(v)
	case "body":
		comp = views.SecurityPage(v)
	default:
		comp = views.Layout(views.Page{Title: views.TitleSecurity, Assets: a.assets, Email: v.Email}, views.SecurityPage(v))
	}
	p, ok := a.keep(c, slot, v, comp)
	if !ok {
		return
	}
	if stampOK && v.Notice == "" {
		a.pages.hold(p, stamp, who, until)
	}
	a.sendPage(c, kind, p)
}

// sendPage answers with a kept page of kind: in the host's layout for "body".
func (a *App) sendPage(c *gin.Context, kind string, p *keptPage) {
	if kind == "body" {
		// A host's layout may draw anything of the request (its own user, its own token)
		// around the page: it is drawn every time, around the page's kept body.
		a.page(c, http.StatusOK, views.TitleSecurity, rawHTML(p.body))
		return
	}
	a.sendKept(c, p)
}

// pageViewer is what of the viewer's session and account a Security page is drawn from,
// beyond what the database lists: a kept page holds for the same viewer only.
type pageViewer struct {
	handle         string
	userID         int64
	confirmedUntil time.Time
	hintsZone      string
	userZone       string
	email          string
}

// same says whether two viewers draw the same page from the same data.
func (v pageViewer) same(o pageViewer) bool {
	return v.handle == o.handle && v.userID == o.userID && v.confirmedUntil.Equal(o.confirmedUntil) &&
		v.hintsZone == o.hintsZone && v.userZone == o.userZone && v.email == o.email
}

func (a *App) viewer(c *gin.Context) pageViewer {
	cur := current(c)
	user, _ := CurrentUser(c)
	return pageViewer{handle: cur.Handle, userID: cur.UserID, confirmedUntil: cur.ConfirmedUntil,
		hintsZone: cur.Hints.TimeZone, userZone: user.TimeZone, email: user.Email}
}

// keep returns the page in slot (a kind and the viewer's session) drawn from v: as kept,
// when it was drawn from the same view, else drawn now (comp) and kept. The key is the
// slot, the account and the whole view; the assets, the base path and the layout are the
// app's own and the same for every page it draws. When it returns false it has
// answered the request (a failure to draw).
func (a *App) keep(c *gin.Context, slot string, v views.Security, comp templ.Component) (*keptPage, bool) {
	cur := current(c)
	kp, _ := a.keyBufs.Get().(*[]byte)
	if kp == nil {
		kp = new([]byte)
	}
	key := append((*kp)[:0], slot...)
	key = binary.AppendVarint(append(key, 0), cur.UserID)
	key = v.AppendKey(key)
	defer func() {
		if cap(key) <= maxPooledBuffer {
			*kp = key
			a.keyBufs.Put(kp)
		}
	}()
	if p, ok := a.pages.get(slot, key); ok {
		return p, true
	}
	buf := a.buffer()
	defer a.release(buf)
	if !a.draw(c, comp, buf) {
		return nil, false
	}
	return a.pages.put(slot, key, buf.Bytes()), true
}

// sendKept answers with a kept page: 304 when the browser holds these very bytes (its
// If-None-Match names the page's ETag), else the bytes, compressed as kept where the
// answer is compressed at all. The session was checked before (requireUser), so a device
// signed out meanwhile is sent to the sign-in page, never told its old page still holds.
func (a *App) sendKept(c *gin.Context, p *keptPage) {
	h := c.Writer.Header()
	h.Set("ETag", p.etag)
	if etagListed(c.GetHeader("If-None-Match"), p.etag) {
		c.Status(http.StatusNotModified)
		c.Writer.WriteHeaderNow()
		return
	}
	enc := a.encodingFor(c.Request)
	body := a.pages.encoded(p, enc)
	h.Set("Content-Type", "text/html; charset=utf-8")
	if enc != "" {
		h.Set("Content-Encoding", enc)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.Status(http.StatusOK)
	c.Writer.Write(body)
}

// etagListed says whether an If-None-Match header names etag (compared weakly, as
// If-None-Match is). "*" is not taken: a page is only ever not modified against the
// bytes the browser holds.
func etagListed(header, etag string) bool {
	if header == "" {
		return false
	}
	want := strings.TrimPrefix(etag, "W/")
	for tag := range strings.SplitSeq(header, ",") {
		if strings.TrimPrefix(strings.TrimSpace(tag), "W/") == want {
			return true
		}
	}
	return false
}

// rawHTML writes bytes already drawn.
func rawHTML(b []byte) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

func listFragment(v views.Security) templ.Component {
	return templ.Join(views.SessionList(v, false), views.Updates(v, false))
}

func (a *App) confirmOpen(cur models.Session, now time.Time) bool {
	return a.cfg.ConfirmWindow > 0 && now.Before(cur.ConfirmedUntil)
}

// confirmation is the outcome of asking for the password before an action.
type confirmation struct {
	password       string    // the password given; "" when the window let the action through
	checkedVersion int64     // the password version the password was checked against
	confirmUntil   time.Time // the window to open, when the password was given
	viaWindow      bool      // the open confirmation window let the action through
}

// confirm checks a password, or a passkey's assertion (field passkey), given to confirm
// an action. When it returns false it has
// answered the request: 422 or 429 through refuse, the sign-in page for a device that
// guessed itself out, or a failure page. allowWindow lets an open confirmation window
// stand in for the password.
func (a *App) confirm(c *gin.Context, password string, allowWindow bool, refuse func(status int, msg string)) (confirmation, bool) {
	cur := current(c)
	now := a.now()
	passkey, withPasskey := credentialField(c, "passkey")
	withPasskey = withPasskey && a.passkeys != nil
	if password == "" && !withPasskey {
		if allowWindow && a.confirmOpen(cur, now) {
			return confirmation{viaWindow: true}, true
		}
		refuse(http.StatusUnprocessableEntity, views.TextEnterPassword)
		return confirmation{}, false
	}
	var (
		checked int64
		events  []models.Event
		err     error
		actor   = models.Actor{IP: c.ClientIP(), Device: cur.Device.Label()}
		wrong   = views.TextWrongPassword
	)
	if password != "" {
		checked, events, err = a.confirms.Check(c.Request.Context(), cur, password, actor)
	} else {
		// A passkey with user verification stands in for the password; a refused one
		// counts toward this device's lock as a wrong password does.
		events, err = a.confirms.CheckPasskey(c.Request.Context(), cur, a.passkeys, passkey, actor)
		wrong = views.TextPasskeyRefused
	}
	for _, ev := range events {
		a.emit(ev)
	}
	var locked *models.LockedError
	switch {
	case err == nil:
		a.metrics.confirmation(resultSucceeded)
	case errors.Is(err, models.ErrWrongPassword):
		a.metrics.confirmation(resultFailed)
		refuse(http.StatusUnprocessableEntity, wrong)
		return confirmation{}, false
	case errors.As(err, &locked):
		a.metrics.confirmation(resultRefused)
		retryAfter(c, locked.Wait)
		refuse(http.StatusTooManyRequests, views.TextConfirmLocked(locked.Wait))
		return confirmation{}, false
	case errors.Is(err, models.ErrGuessedOut):
		a.metrics.confirmation(resultFailed)
		a.setFlash(c, flashGuessedOut)
		a.toLogin(c, a.path("/login"))
		return confirmation{}, false
	default:
		a.fail(c, err)
		return confirmation{}, false
	}
	conf := confirmation{password: password, checkedVersion: checked}
	if a.cfg.ConfirmWindow > 0 {
		conf.confirmUntil = now.Add(a.cfg.ConfirmWindow)
	}
	return conf, true
}

// refuseConfirm shows a refused confirmation: inside the open dialog (htmx) or as a page
// of its own (no JavaScript).
func (a *App) refuseConfirm(c *gin.Context, f views.Confirmation) func(status int, msg string) {
	return func(status int, msg string) {
		if isHTMX(c) {
			c.Header("HX-Retarget", "#"+f.ID+"-error")
			c.Header("HX-Reswap", "innerHTML")
			a.render(c, status, views.ConfirmError(msg))
			return
		}
		a.page(c, status, f.Title, views.ConfirmPage(f, msg, false))
	}
}

// confirmPage shows a one-device action's confirmation as a page of its own: where the
// row's button leads without JavaScript (with it, the dialog every row shares asks).
// It answers 404 and 409 as the action itself does.
func (a *App) confirmPage(confirmation func(handle, label string) views.Confirmation) gin.HandlerFunc {
	return func(c *gin.Context) {
		target, ok := a.target(c)
		if !ok {
			return
		}
		f := confirmation(target.Handle, shownName(target))
		a.page(c, http.StatusOK, f.Title, views.ConfirmPage(f, "", a.confirmOpen(current(c), a.now())))
	}
}

// target reads a one-device action's form and resolves its {id}: the user's other live
// session with that handle. It answers 409 for this device's own handle and 404, before
// any password is asked, for unknown, ended and other users' handles alike, so the
// confirmation form reveals nothing either.
func (a *App) target(c *gin.Context) (models.Session, bool) {
	return a.resolveTarget(c, false)
}

// resolveTarget is target, and with thisDevice the device's own handle is taken too.
func (a *App) resolveTarget(c *gin.Context, thisDevice bool) (models.Session, bool) {
	if err := parseForm(c.Request); err != nil {
		a.badForm(c, err)
		return models.Session{}, false
	}
	handle := c.Param("id")
	if !thisDevice && handle == current(c).Handle {
		a.renderError(c, http.StatusConflict, views.TitleThisDevice,
			views.TextThisDevice)
		return models.Session{}, false
	}
	target, ok, err := a.ownSession(c, handle)
	if err != nil {
		a.fail(c, err)
		return models.Session{}, false
	}
	if !ok {
		a.noSuchDevice(c)
		return models.Session{}, false
	}
	return target, true
}

func (a *App) noSuchDevice(c *gin.Context) {
	a.renderError(c, http.StatusNotFound, views.TitleNoSuchDevice, views.TextNoSuchDevice)
}

// finish runs a confirmed action and answers it. It hashes hashThis (the confirmed
// password under a fresh salt, or the new password; "" inside the confirmation window,
// where there is no password to hash) and hands act the change; if the password was
// changed on another device since it was checked here, act refuses with
// ErrPasswordChanged and nothing is done. Then the device gets the action's answer (see
// actionDone), or its refusal: 404 for a device gone meanwhile, 422 for a confirmation
// window closed meanwhile.
func (a *App) finish(c *gin.Context, conf confirmation, hashThis string, refuse func(status int, msg string),
	act func(models.Change) (models.Event, error), main func(views.Security) templ.Component) {
	newHash := ""
	if hashThis != "" {
		var err error
		if newHash, err = a.hasher.Hash(c.Request.Context(), hashThis); err != nil {
			a.fail(c, err)
			return
		}
	}
	ev, err := act(a.change(c, conf, newHash))
	switch {
	case errors.Is(err, models.ErrNotFound):
		a.noSuchDevice(c)
		return
	case errors.Is(err, models.ErrConfirmationNeeded):
		refuse(http.StatusUnprocessableEntity, views.TextEnterPassword)
		return
	case err != nil:
		a.fail(c, err)
		return
	}
	a.emit(ev)
	a.actionDone(c, ev, conf, main)
}

func (a *App) revokeOne(c *gin.Context) {
	target, ok := a.target(c)
	if !ok {
		return
	}
	refuse := a.refuseConfirm(c, views.RevokeConfirmation(target.Handle, shownName(target)))
	conf, ok := a.confirm(c, c.PostForm("password"), true, refuse)
	if !ok {
		return
	}
	a.finish(c, conf, conf.password, refuse, func(ch models.Change) (models.Event, error) {
		_, ev, err := a.sessions.Revoke(c.Request.Context(), ch, target.Handle)
		return ev, err
	}, func(views.Security) templ.Component {
		return templ.NopComponent // the row's outerHTML swap with nothing removes it
	})
}

// reportLost is "Lost or stolen?": that device out, a new password, every other device
// out, in one step. It always asks for the current password, window or not: it sets a
// new one.
func (a *App) reportLost(c *gin.Context) {
	target, ok := a.target(c)
	if !ok {
		return
	}
	refuse := a.refuseConfirm(c, views.LostConfirmation(target.Handle, shownName(target)))
	password, next := c.PostForm("password"), c.PostForm("new_password")
	// The new password is judged first: a bad one costs no attempt and no hash.
	if err := models.CheckNewPassword(next); err != nil {
		refuse(http.StatusUnprocessableEntity, views.Problem(err))
		return
	}
	conf, ok := a.confirm(c, password, false, refuse)
	if !ok {
		return
	}
	if next == password {
		refuse(http.StatusUnprocessableEntity, views.TextChooseNewPassword)
		return
	}
	a.finish(c, conf, next, refuse, func(ch models.Change) (models.Event, error) {
		_, _, ev, err := a.sessions.ReportLost(c.Request.Context(), ch, target.Handle)
		return ev, err
	}, func(v views.Security) templ.Component { return views.SessionList(v, false) })
}

func (a *App) revokeOthers(c *gin.Context) {
	if err := parseForm(c.Request); err != nil {
		a.badForm(c, err)
		return
	}
	refuse := func(status int, msg string) {
		n := 0 // the page without JavaScript names the count, as the dialog does
		if !isHTMX(c) {
			if list, err := a.sessions.ListForUser(c.Request.Context(), current(c).UserID); err == nil {
				n = max(len(list)-1, 0)
			}
		}
		a.refuseConfirm(c, views.OthersConfirmation(n))(status, msg)
	}
	conf, ok := a.confirm(c, c.PostForm("password"), true, refuse)
	if !ok {
		return
	}
	a.finish(c, conf, conf.password, refuse, func(ch models.Change) (models.Event, error) {
		_, ev, err := a.sessions.RevokeOthers(c.Request.Context(), ch)
		return ev, err
	}, func(v views.Security) templ.Component { return views.SessionList(v, false) })
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
		a.page(c, status, views.TitleSecurity, views.SecurityPage(v))
	}
	if currentPW == "" && c.PostForm("passkey") == "" {
		refuse(http.StatusUnprocessableEntity, views.TextEnterCurrentPassword)
		return
	}
	conf, ok := a.confirm(c, currentPW, false, refuse)
	if !ok {
		return
	}
	if err := models.CheckNewPassword(next); err != nil {
		refuse(http.StatusUnprocessableEntity, views.Problem(err))
		return
	}
	if next == currentPW {
		refuse(http.StatusUnprocessableEntity, views.TextSamePassword)
		return
	}
	a.finish(c, conf, next, refuse, func(ch models.Change) (models.Event, error) {
		_, ev, err := a.sessions.ChangePassword(ctx, ch, logoutOthers)
		return ev, err
	}, func(v views.Security) templ.Component {
		return templ.Join(
			views.PasswordSection(views.PasswordForm{Success: views.TextPasswordChanged}, false),
			views.SessionList(v, true),
		)
	})
}

// change describes the current request's action for the model.
func (a *App) change(c *gin.Context, conf confirmation, newHash string) models.Change {
	cur := current(c)
	return models.Change{UserID: cur.UserID, Current: cur.Handle, NewHash: newHash, CheckedVersion: conf.checkedVersion,
		ConfirmUntil: conf.confirmUntil, ViaWindow: conf.viaWindow,
		Actor: models.Actor{IP: c.ClientIP(), Device: cur.Device.Label()}}
}

// actionDone answers a successful action: htmx gets the swapped content plus the count,
// the "Log out other devices" button, the notice and the log out of band; a plain form
// post gets 303 back to the page, which shows the notice once.
func (a *App) actionDone(c *gin.Context, ev models.Event, conf confirmation, main func(views.Security) templ.Component) {
	if !isHTMX(c) {
		a.setFlash(c, "e"+strconv.FormatInt(ev.ID, 10))
		c.Redirect(http.StatusSeeOther, a.path("/account/security"))
		return
	}
	if !conf.confirmUntil.IsZero() { // the window this action opened shows in the new rows
		si := a.resolve(c)
		si.sess.ConfirmedUntil = conf.confirmUntil
		a.remember(c, si)
	}
	v, err := a.securityView(c, views.EventText(ev))
	if err != nil {
		a.fail(c, err)
		return
	}
	a.render(c, http.StatusOK, templ.Join(main(v), views.Updates(v, true)))
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

// nameDevice names a device from its row ("Anna's iPad"), this one included. The name
// belongs to the browser's device cookie, so the browser's later sign-ins carry it; it is
// never taken from a request header. It asks for no password (it signs nothing out) and
// is logged. Answers: htmx gets the row and the updates out of band, a plain form post
// 303 back to the page; 404 for a handle that is not one of the user's live sessions, as
// the other actions; 422 with the reason for a name refused.
func (a *App) nameDevice(c *gin.Context) {
	target, ok := a.nameTarget(c)
	if !ok {
		return
	}
	cur := current(c)
	refuse := func(status int, msg string) {
		if isHTMX(c) {
			c.Header("HX-Retarget", "#name-device-error")
			c.Header("HX-Reswap", "innerHTML")
			a.render(c, status, views.ConfirmError(msg))
			return
		}
		a.page(c, status, views.TitleNameDevice, views.NamePage(target.Handle, shownName(target), c.PostForm("name"), msg))
	}
	name, err := models.CheckDeviceName(c.PostForm("name"))
	if err != nil {
		refuse(http.StatusUnprocessableEntity, views.Problem(err))
		return
	}
	ev, err := a.sessions.NameDevice(c.Request.Context(), cur.UserID, target.Handle, name,
		models.Actor{IP: c.ClientIP(), Device: cur.Device.Label()})
	switch {
	case errors.Is(err, models.ErrNotFound):
		a.noSuchDevice(c)
		return
	case errors.Is(err, models.ErrDeviceUnnamed):
		refuse(http.StatusConflict, views.Problem(err))
		return
	case err != nil:
		a.fail(c, err)
		return
	}
	a.emit(ev)
	if !isHTMX(c) {
		a.setFlash(c, "e"+strconv.FormatInt(ev.ID, 10))
		c.Redirect(http.StatusSeeOther, a.path("/account/security"))
		return
	}
	v, err := a.securityView(c, views.EventText(ev))
	if err != nil {
		a.fail(c, err)
		return
	}
	for _, r := range v.Sessions {
		if r.Handle == target.Handle {
			a.render(c, http.StatusOK, templ.Join(views.SessionRow(r), views.Updates(v, true)))
			return
		}
	}
	a.render(c, http.StatusOK, templ.Join(views.SessionList(v, true), views.Updates(v, true)))
}

// namePage is the rename form as a page of its own: where a row's "Rename" leads
// without JavaScript. It answers 404 as the action does.
func (a *App) namePage(c *gin.Context) {
	target, ok := a.nameTarget(c)
	if !ok {
		return
	}
	a.page(c, http.StatusOK, views.TitleNameDevice, views.NamePage(target.Handle, shownName(target), target.DeviceName, ""))
}

// nameTarget reads the rename form and resolves its {id}: any of the user's live
// sessions, this one included; 404 for unknown, ended and other users' handles alike.
func (a *App) nameTarget(c *gin.Context) (models.Session, bool) {
	return a.resolveTarget(c, true)
}

// shownName is what a device goes by on the page: the owner's name, or its label.
func shownName(s models.Session) string {
	if s.DeviceName != "" {
		return s.DeviceName
	}
	return s.Device.Label()
}
