package handlers

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"net/http"

	ginsessions "github.com/gin-contrib/sessions"
	"github.com/gorilla/sessions"

	"github.com/elsewhere-dev/elsewhere/models"
)

// sessionRows is what the store needs from the sessions table.
type sessionRows interface {
	// SaveData replaces the extra values kept with the session handle; a gone handle is
	// not an error.
	SaveData(ctx context.Context, handle string, data []byte) error
	// SignOut ends the session handle and logs it; one that is gone is not an error.
	SignOut(ctx context.Context, handle string, actor models.Actor) (models.Event, error)
}

// SessionStore is the gin-contrib/sessions store behind Elsewhere's routes. It does not
// sign anyone in or out by itself: the session middleware (resolve) has already looked
// the cookie up, and the store gives a signed-in device's session its extra values (an
// embedding app's own, set with session.Set) and keeps them in the session's row. A
// session saved with MaxAge < 0 is signed out.
type SessionStore struct {
	rows   sessionRows
	cookie func(value string, maxAge int) *http.Cookie
	emit   func(models.Event) // tells the app's event hook of a sign-out
}

var _ ginsessions.Store = (*SessionStore)(nil)

// Options is ignored: the cookie's attributes are fixed by the security design.
func (st *SessionStore) Options(ginsessions.Options) {}

// Get returns the request's session, built once per request.
func (st *SessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(st, name)
}

// New builds the request's session from what resolve found: a signed-in device's carries
// its handle as ID and its stored values; any other request gets an empty, new one.
func (st *SessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	s := sessions.NewSession(st, name)
	s.IsNew = true
	si := recordIn(r)
	if si == nil || !si.ok {
		return s, nil
	}
	s.ID, s.IsNew = si.sess.Handle, false
	if len(si.sess.Data) > 0 {
		var extra map[string]any
		if gob.NewDecoder(bytes.NewReader(si.sess.Data)).Decode(&extra) == nil {
			for k, v := range extra {
				s.Values[k] = v
			}
		}
	}
	return s, nil
}

// errNotSignedIn: values can only be kept for a signed-in device.
var errNotSignedIn = errors.New("session: no signed-in device to keep values for")

// Save keeps the session's values in its row, or signs it out when MaxAge < 0.
func (st *SessionStore) Save(r *http.Request, w http.ResponseWriter, s *sessions.Session) error {
	if s.Options != nil && s.Options.MaxAge < 0 {
		if s.ID != "" {
			ev, err := st.rows.SignOut(r.Context(), s.ID, models.Actor{})
			if err != nil {
				return err
			}
			if st.emit != nil {
				st.emit(ev)
			}
		}
		http.SetCookie(w, st.cookie("", -1))
		s.ID = ""
		if si := recordIn(r); si != nil {
			*si = signedIn{} // the rest of this request is signed out too
		}
		return nil
	}
	if s.ID == "" {
		return errNotSignedIn
	}
	data, err := encodeValues(s.Values)
	if err != nil {
		return err
	}
	if err := st.rows.SaveData(r.Context(), s.ID, data); err != nil {
		return fmt.Errorf("save session values: %w", err)
	}
	return nil
}

// encodeValues gob-encodes the string-keyed values; nil when there are none.
func encodeValues(values map[any]any) ([]byte, error) {
	extra := map[string]any{}
	for k, v := range values {
		if ks, ok := k.(string); ok {
			extra[ks] = v
		}
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
