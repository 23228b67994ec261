package handlers

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"net/http"
	"time"

	ginsessions "github.com/gin-contrib/sessions"
	"github.com/gorilla/sessions"

	"github.com/elsewhere-dev/elsewhere/models"
)

// Session values with a meaning to the store. Set SessionUserID (int64) to sign a device
// in: the store then issues a brand-new token. Clear the session, or delete the key, to
// sign it out.
const (
	SessionUserID   = "user_id"
	SessionRemember = "remember"
)

// Keys the store uses to hand what it loaded to the middleware; never persisted.
type (
	loadedKey struct{} // models.Session as it was loaded
	endedKey  struct{} // error: why a presented cookie is not signed in (stamp mismatch)
	failedKey struct{} // error: the database could not be asked
	// evictedKey carries, from Save to the sign-in handler, the events of devices the
	// sign-in signed out for being over the cap ([]models.Event).
	evictedKey struct{}
	// checkedVersionKey carries, from a sign-in handler to Save, the password version
	// the password was checked against (see models.NewSession.PasswordVersion).
	checkedVersionKey struct{}
)

// SessionBackend is what the store needs from the sessions table; models.Sessions
// implements it for SQLite, and another database can implement it too.
type SessionBackend interface {
	Create(ctx context.Context, tokenHash []byte, n models.NewSession, replaces string) (models.Session, []models.Event, error)
	Lookup(ctx context.Context, tokenHash []byte, ip string) (models.Session, error)
	Delete(ctx context.Context, handle string) error
	SaveData(ctx context.Context, handle string, data []byte) error
}

// SessionStore is a gin-contrib/sessions store kept in the database. The cookie holds a
// random token; the database holds only its SHA-256.
type SessionStore struct {
	backend     SessionBackend
	cookieName  string
	secure      bool
	rememberFor time.Duration
}

var _ ginsessions.Store = (*SessionStore)(nil)

// NewSessionStore returns a store whose cookie is named name (prefixed __Host- when secure).
func NewSessionStore(b SessionBackend, name string, secure bool, rememberFor time.Duration) *SessionStore {
	if secure {
		name = "__Host-" + name
	}
	return &SessionStore{backend: b, cookieName: name, secure: secure, rememberFor: rememberFor}
}

// CookieName is the name of the session cookie.
func (st *SessionStore) CookieName() string { return st.cookieName }

// Options is ignored: the cookie's attributes are fixed by the security design.
func (st *SessionStore) Options(ginsessions.Options) {}

// Get returns the request's session, loading it once per request.
func (st *SessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(st, name)
}

// New loads the session the request's cookie names. A missing, malformed, unknown,
// expired or revoked token yields a new, signed-out session and no error.
func (st *SessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	s := sessions.NewSession(st, name)
	s.IsNew = true
	c, err := r.Cookie(st.cookieName)
	if err != nil || !models.WellFormedToken(c.Value) {
		return s, nil
	}
	sess, err := st.backend.Lookup(r.Context(), models.HashToken(c.Value), ClientIP(r))
	switch {
	case errors.Is(err, models.ErrNotFound):
		return s, nil
	case errors.Is(err, models.ErrStampMismatch), errors.Is(err, models.ErrSessionEnded):
		s.Values[endedKey{}] = err
		return s, nil
	case err != nil:
		s.Values[failedKey{}] = err
		return s, fmt.Errorf("load session: %w", err)
	}
	s.ID, s.IsNew = sess.Handle, false
	if len(sess.Data) > 0 {
		var extra map[string]any
		if gob.NewDecoder(bytes.NewReader(sess.Data)).Decode(&extra) == nil {
			for k, v := range extra {
				s.Values[k] = v
			}
		}
	}
	s.Values[SessionUserID] = sess.UserID
	s.Values[SessionRemember] = sess.Remember
	s.Values[loadedKey{}] = sess
	return s, nil
}

// Save persists the session: a new signed-in user gets a new token and row (the old row is
// deleted), a signed-out session loses its row and cookie, and other values are stored.
func (st *SessionStore) Save(r *http.Request, w http.ResponseWriter, s *sessions.Session) error {
	ctx := r.Context()
	loaded, wasLoaded := s.Values[loadedKey{}].(models.Session)
	uid, _ := s.Values[SessionUserID].(int64)
	if uid == 0 || s.Options.MaxAge < 0 {
		if s.ID != "" {
			if err := st.backend.Delete(ctx, s.ID); err != nil {
				return err
			}
		}
		if _, err := r.Cookie(st.cookieName); err == nil {
			http.SetCookie(w, st.cookie("", -1))
		}
		delete(s.Values, loadedKey{})
		s.ID = ""
		return nil
	}
	data, err := encodeExtras(s.Values)
	if err != nil {
		return err
	}
	if wasLoaded && loaded.UserID == uid {
		if !bytes.Equal(data, loaded.Data) {
			if err := st.backend.SaveData(ctx, s.ID, data); err != nil {
				return err
			}
			loaded.Data = data
			s.Values[loadedKey{}] = loaded
		}
		return nil
	}
	// A sign-in: always a brand-new token, so a token planted before sign-in is worthless.
	remember, _ := s.Values[SessionRemember].(bool)
	checked, _ := s.Values[checkedVersionKey{}].(int64)
	delete(s.Values, checkedVersionKey{})
	token, hash := models.NewToken()
	sess, evicted, err := st.backend.Create(ctx, hash, models.NewSession{
		UserID: uid, Remember: remember, IP: ClientIP(r), UserAgent: r.UserAgent(), Hints: clientHints(r), Data: data,
		PasswordVersion: checked,
	}, s.ID)
	if err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	s.ID, s.IsNew = sess.Handle, false
	s.Values[loadedKey{}] = sess
	if len(evicted) > 0 {
		s.Values[evictedKey{}] = evicted
	}
	maxAge := 0 // a browser-session cookie; the server enforces the idle lifetime
	if remember {
		maxAge = int(st.rememberFor.Seconds())
	}
	http.SetCookie(w, st.cookie(token, maxAge))
	return nil
}

func (st *SessionStore) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: st.cookieName, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: st.secure, SameSite: http.SameSiteLaxMode,
	}
}

// encodeExtras gob-encodes the values the store has no column for; nil when there are none.
func encodeExtras(values map[any]any) ([]byte, error) {
	extra := map[string]any{}
	for k, v := range values {
		ks, ok := k.(string)
		if !ok || ks == SessionUserID || ks == SessionRemember {
			continue
		}
		extra[ks] = v
	}
	if len(extra) == 0 {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(extra); err != nil {
		return nil, fmt.Errorf("encode session values: %w", err)
	}
	return buf.Bytes(), nil
}

func clientHints(r *http.Request) models.ClientHints {
	return models.ClientHints{
		UA:              r.Header.Get("Sec-CH-UA"),
		Mobile:          r.Header.Get("Sec-CH-UA-Mobile"),
		Platform:        r.Header.Get("Sec-CH-UA-Platform"),
		PlatformVersion: r.Header.Get("Sec-CH-UA-Platform-Version"),
		Model:           r.Header.Get("Sec-CH-UA-Model"),
	}
}
