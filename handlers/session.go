package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	ginsessions "github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/models/device"
)

// signedIn is what a request's session cookie resolved to. It is worked out once per
// request, by resolve, and every handler and middleware asks it rather than the cookie.
type signedIn struct {
	sess  models.Session
	user  models.User
	ok    bool // a live session: the device is signed in as user
	ended bool // the cookie's session was ended from elsewhere: the sign-in page says why
	// guessed: it was ended after too many wrong passwords typed on this device
	guessed bool
	err     error // the database could not be asked
}

// The request's signedIn record is one pointer, set by remember alone, under a gin key
// and in the request's context: handlers read it through recordOf, the gin-contrib
// session store (which sees only the *http.Request) through recordIn. The gin key keeps
// it for a host whose middleware puts back an older request context after the chain.
const ctxSignedIn = "elsewhere.signed_in"

type signedInKey struct{}

// recordOf is the request's answer to "who is signed in", nil before resolve ran.
func recordOf(c *gin.Context) *signedIn {
	if v, ok := c.Get(ctxSignedIn); ok {
		return v.(*signedIn)
	}
	return recordIn(c.Request)
}

// recordIn is recordOf for code that has only the request.
func recordIn(r *http.Request) *signedIn {
	si, _ := r.Context().Value(signedInKey{}).(*signedIn)
	return si
}

// resolve looks the request's session cookie up, once per request, and remembers the
// answer: the one read of the session and its user per request.
func (a *App) resolve(c *gin.Context) signedIn {
	if rec := recordOf(c); rec != nil {
		return *rec
	}
	var si signedIn
	if ck, err := c.Request.Cookie(a.cookieName); err == nil && models.WellFormedToken(ck.Value) {
		// A session bound to a device key needs the key's bound cookie too, on every
		// route but the two that hand bound cookies out.
		touch, holdsKey := true, func(ss models.Session) bool { return a.holdsKey(c, ss) }
		if c.FullPath() == a.eventsRoute || pageRefresh(c) {
			// The live stream and the refreshes the page makes on its own are the page's,
			// not the person's: no activity, or an open tab would keep the device signed
			// in for ever (the thief's included).
			touch = false
		}
		if a.dbscRoute(c) {
			touch, holdsKey = false, nil
		}
		sess, user, err := a.sessions.LookupBound(c.Request.Context(), models.HashToken(ck.Value), c.ClientIP(), touch, holdsKey)
		switch {
		case err == nil:
			si = signedIn{sess: sess, user: user, ok: true}
		case errors.Is(err, models.ErrKeyMissing):
			// A copy of the cookie, without the device: signed out, and the owner told.
			a.usedWithoutKey(c, sess)
		case errors.Is(err, models.ErrNotFound):
		case errors.Is(err, models.ErrStampMismatch), errors.Is(err, models.ErrSessionEnded):
			si.ended = true
		case errors.Is(err, models.ErrGuessedOut):
			si.ended, si.guessed = true, true
		default:
			si.err = err
		}
	}
	a.remember(c, si)
	return si
}

// pageRefresh says the request is the Security page refreshing its list on its own (after
// a live event, or on its timer while the stream is down): the page script marks it.
// A client that marks its own requests so only ends its session sooner.
func pageRefresh(c *gin.Context) bool {
	return c.Request.Method == http.MethodGet && c.GetHeader("Elsewhere-Refresh") == "auto" && isHTMX(c)
}

// remember makes si the request's answer to "who is signed in", for the rest of it.
// There is one record per request, so a sign-out through the store (Save with MaxAge < 0)
// is seen by CurrentUser at once.
func (a *App) remember(c *gin.Context, si signedIn) {
	if rec := recordOf(c); rec != nil {
		*rec = si
		return
	}
	rec := &si
	c.Set(ctxSignedIn, rec)
	ctx := context.WithValue(c.Request.Context(), signedInKey{}, rec)
	if si.ok {
		ctx = models.WithSeen(ctx, si.user) // what the page reads next is checked against its lookup
	}
	c.Request = c.Request.WithContext(ctx)
}

// loadSession resolves the session before the gin-contrib session middleware runs, so
// its store builds the session from this one lookup.
func (a *App) loadSession(c *gin.Context) {
	a.resolve(c)
	c.Next()
}

// current is the signed-in session of a request that requireUser let through.
func current(c *gin.Context) models.Session {
	if rec := recordOf(c); rec != nil {
		return rec.sess
	}
	return models.Session{}
}

// requireUser lets signed-in requests through and sends the rest to the sign-in page.
func (a *App) requireUser(c *gin.Context) {
	if a.admit(c, a.path("/login")) {
		c.Next()
	}
}

// admit reports whether the request is signed in; if not, it has answered it, sending
// the browser to login.
func (a *App) admit(c *gin.Context, login string) bool {
	c.Header("Cache-Control", "no-store")
	si := a.resolve(c)
	switch {
	case si.err != nil:
		a.fail(c, si.err)
		c.Abort()
		return false
	case !si.ok:
		switch {
		case si.guessed:
			a.setFlash(c, flashGuessedOut)
		case si.ended:
			a.setFlash(c, flashEnded)
		}
		a.toLogin(c, login)
		c.Abort()
		return false
	}
	return true
}

// RequireUser is middleware for the host app's own routes: a signed-in request goes on
// (CurrentUser tells who it is); a signed-out one is sent to Elsewhere's sign-in page
// (303, or for htmx 401 with HX-Redirect), which returns to the page wanted after the
// sign-in (its path travels as next; a GET's only). A device signed out elsewhere is refused at
// its next request here as on Elsewhere's own pages. The host's handlers may keep values
// of their own with the signed-in device (sessions.Default(c).Set, Save).
func (a *App) RequireUser(c *gin.Context) {
	if a.admit(c, a.loginWithNext(c)) {
		a.withSession(c)
	}
}

// withSession runs the rest of the chain with the gin-contrib session middleware over
// Elsewhere's store, unless it already runs.
func (a *App) withSession(c *gin.Context) {
	if _, ok := c.Get(ginsessions.DefaultKey); ok {
		c.Next()
		return
	}
	a.sessionMW(c)
}

// LoadUser is middleware for the host app's routes that anyone may see but that show who
// is signed in, if anyone: CurrentUser then tells. It never redirects.
func (a *App) LoadUser(c *gin.Context) {
	if si := a.resolve(c); si.err != nil {
		a.log.Error("load the signed-in user", "err", si.err, "request_id", requestIDOf(c))
	}
	a.withSession(c)
}

// CurrentUser returns the user signed in on this request, in a handler behind
// RequireUser or LoadUser, or under Mount; ok is false when nobody is.
func CurrentUser(c *gin.Context) (models.User, bool) {
	rec := recordOf(c)
	if rec == nil || !rec.ok {
		return models.User{}, false
	}
	u := rec.user
	u.PasswordHash = "" // the host has no use for it, and must not log or show it
	return u, true
}

// toLogin sends a signed-out request to the sign-in page at login: htmx gets 401 and
// HX-Redirect.
func (a *App) toLogin(c *gin.Context, login string) {
	if isHTMX(c) {
		c.Header("HX-Redirect", login)
		c.Status(http.StatusUnauthorized)
		return
	}
	c.Redirect(http.StatusSeeOther, login)
}

// signIn signs the device in as user with a brand-new token (a token planted before
// sign-in is worthless): one model call records the session, the cap, the single-session
// rule and the log; then the cookie is set and the request goes on as signed in.
// checkedVersion is the password version the password was checked against.
func (a *App) signIn(c *gin.Context, user models.User, remember bool, checkedVersion int64) error {
	return a.begin(c, remember, func(ctx context.Context, token []byte, n models.NewSession) (models.User, models.Session, []models.Event, error) {
		n.UserID, n.PasswordVersion = user.ID, checkedVersion
		sess, events, err := a.sessions.SignIn(ctx, token, n)
		return user, sess, events, err
	})
}

// signInRescued signs in the browser that has just set the password from a mailed link:
// known to the account from now on, and not alerted as a new device (the mail's owner
// is the one acting).
func (a *App) signInRescued(c *gin.Context, user models.User) error {
	return a.begin(c, false, func(ctx context.Context, token []byte, n models.NewSession) (models.User, models.Session, []models.Event, error) {
		n.UserID, n.PasswordVersion, n.Quiet = user.ID, user.PasswordVersion, true
		sess, events, err := a.sessions.SignIn(ctx, token, n)
		return user, sess, events, err
	})
}

// signUp creates the account and signs the device in as it, in one model call: a sign-up
// that fails part-way leaves no account behind. ErrEmailTaken when it exists.
func (a *App) signUp(c *gin.Context, email, passwordHash string) error {
	return a.begin(c, false, func(ctx context.Context, token []byte, n models.NewSession) (models.User, models.Session, []models.Event, error) {
		return a.sessions.SignUp(ctx, email, passwordHash, token, n)
	})
}

// begin runs create for a new session of this device, then sets its cookie and goes on
// as signed in. The session and its line in the security log are made whatever the
// client does meanwhile.
func (a *App) begin(c *gin.Context, remember bool,
	create func(ctx context.Context, tokenHash []byte, n models.NewSession) (models.User, models.Session, []models.Event, error)) error {
	ctx := context.WithoutCancel(c.Request.Context())
	token, hash := models.NewToken()
	deviceHash := a.signingIn(c)
	user, sess, events, err := create(ctx, hash, models.NewSession{
		Remember: remember, IP: c.ClientIP(), UserAgent: c.Request.UserAgent(),
		Hints: signInHints(c), Replaces: a.resolve(c).sess.Handle, SingleSession: a.cfg.SingleSession,
		DeviceHash: deviceHash,
	})
	if err != nil {
		return err
	}
	maxAge := 0 // a browser-session cookie; the server enforces the idle lifetime
	if remember {
		maxAge = int(a.cfg.RememberFor.Seconds())
	}
	http.SetCookie(c.Writer, a.cookie(token, maxAge))
	a.clearBoundCookie(c) // the session it was made for is gone
	a.offerBinding(c, sess.Handle)
	a.remember(c, signedIn{sess: sess, user: user, ok: true})
	for _, ev := range events {
		a.emit(ev)
	}
	return nil
}

// signOut ends the request's session: its row (and its line in the log), then its
// cookie. When the row cannot be deleted it returns the error and leaves the cookie,
// since the session is still valid.
func (a *App) signOut(c *gin.Context) (models.Session, bool, error) {
	si := a.resolve(c)
	if si.ok {
		ev, err := a.sessions.SignOut(c.Request.Context(), si.sess.Handle,
			models.Actor{IP: c.ClientIP(), Device: si.sess.Device.Label()})
		if err != nil {
			return models.Session{}, false, err
		}
		a.emit(ev)
	}
	if _, err := c.Request.Cookie(a.cookieName); err == nil {
		http.SetCookie(c.Writer, a.cookie("", -1))
	}
	a.clearBoundCookie(c)
	a.remember(c, signedIn{})
	return si.sess, si.ok, nil
}

// cookie is the session cookie: at the site's root even when Elsewhere is mounted under
// a prefix, so the host app's own routes see it.
func (a *App) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: a.cookieName, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode,
	}
}

// signInHints are what a signing-in browser tells of itself: its client hints, and what
// the sign-in and sign-up forms' script adds as hidden fields where there are none
// (Safari, Firefox): the time zone and the touch points. Those fields are whatever the
// poster writes, so only a zone the time package knows and a count a device can have
// are kept; without script there are none, and the user agent alone names the device.
func signInHints(c *gin.Context) device.Hints {
	h := clientHints(c.Request)
	if _, ok := models.TimeZone(c.PostForm("tz")); ok {
		h.TimeZone = c.PostForm("tz")
	}
	if n, err := strconv.Atoi(c.PostForm("touch")); err == nil {
		h.Touch = device.TouchPoints(n)
	}
	return h
}

func clientHints(r *http.Request) device.Hints {
	return device.Hints{
		UA:              r.Header.Get("Sec-CH-UA"),
		FullVersionList: r.Header.Get("Sec-CH-UA-Full-Version-List"),
		Mobile:          r.Header.Get("Sec-CH-UA-Mobile"),
		Platform:        r.Header.Get("Sec-CH-UA-Platform"),
		PlatformVersion: r.Header.Get("Sec-CH-UA-Platform-Version"),
		Model:           r.Header.Get("Sec-CH-UA-Model"),
	}
}
