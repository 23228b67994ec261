// Package models holds Elsewhere's domain: users, sessions, security events, rate limits,
// password hashing and device labels. It speaks in domain types and sentinel errors and
// knows nothing of HTTP.
package models

import (
	"errors"
	"time"
)

// Sentinel errors that callers check with errors.Is.
var (
	ErrNotFound           = errors.New("not found")
	ErrEmailTaken         = errors.New("email already registered")
	ErrInvalidCredentials = errors.New("invalid email or password")
	ErrWrongPassword      = errors.New("wrong password")
	ErrStampMismatch      = errors.New("session stamp does not match the password")
	ErrSessionEnded       = errors.New("session was signed out from another device")
	ErrPasswordChanged    = errors.New("the password changed while this request was checking it")
	ErrCurrentSession     = errors.New("that is the current session")
	// ErrConfirmationNeeded: an action relied on a confirmation window that has closed.
	ErrConfirmationNeeded = errors.New("the confirmation window closed; the password is needed")
	// ErrGuessedOut: too many wrong confirmations signed the acting session out.
	ErrGuessedOut = errors.New("signed out after too many wrong passwords")
	// ErrKeyMissing: the session is bound to a device key and the request did not prove
	// it (no valid bound cookie): a copy of the session cookie without the device.
	ErrKeyMissing = errors.New("the session was used without its device key")
)

// What can be wrong with an email or a new password; views put each in words.
var (
	ErrEmailMissing     = errors.New("no email address")
	ErrEmailTooLong     = errors.New("email address too long")
	ErrEmailInvalid     = errors.New("not an email address")
	ErrPasswordInvalid  = errors.New("password is not valid text")
	ErrPasswordTooShort = errors.New("password too short")
	ErrPasswordTooLong  = errors.New("password too long")
	ErrPasswordCommon   = errors.New("password is among the most common")
)

// Clock returns the current time; injected so tests can move time without sleeping.
type Clock func() time.Time

// Actor is who did something, as recorded in the security log.
type Actor struct {
	IP     string
	Device string // device label, "Chrome 131 on macOS"
}

func unix(t time.Time) int64 { return t.Unix() }

func fromUnix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}
