package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/elsewhere-dev/elsewhere/db"
)

// MaxEmailLen is the longest email address accepted (RFC 5321's path limit).
const MaxEmailLen = 254

// User is an account.
type User struct {
	ID           int64
	Email        string
	PasswordHash string
	// PasswordVersion counts password changes (a re-salt keeps it), so a write can check
	// that the password it was given is still the user's.
	PasswordVersion int64
	// TimeZone is the IANA zone the account's browsers last reported ("" for none); its
	// mails tell times in it.
	TimeZone string

	changes int64  // the account's change counter as a session lookup read it (PostgreSQL)
	written uint64 // db.Written for the account when that counter was read
}

// Users stores accounts.
type Users struct {
	db     *db.DB
	hasher *Hasher
	now    Clock
}

// NewUsers returns the account store.
func NewUsers(d *db.DB, h *Hasher, now Clock) *Users {
	return &Users{db: d, hasher: h, now: now}
}

// NormalizeEmail returns the form an email is stored and looked up in, or what is wrong
// with it: ErrEmailMissing, ErrEmailTooLong or ErrEmailInvalid.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	switch {
	case e == "":
		return "", ErrEmailMissing
	case len(e) > MaxEmailLen:
		return "", ErrEmailTooLong
	case !utf8.ValidString(e) || strings.ContainsAny(e, " \t\r\n<>\"'\\,;:()[]") || strings.ContainsFunc(e, invisible):
		return "", ErrEmailInvalid
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || !strings.Contains(e[strings.LastIndexByte(e, '@')+1:], ".") {
		return "", ErrEmailInvalid
	}
	return e, nil
}

// invisible reports whether r has no business in an email address: a control, format
// (such as a right-to-left override) or space character, or the mark of text that was
// not valid UTF-8.
func invisible(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) || r == utf8.RuneError
}

// Create adds an account; the email must already be normalized and the password checked.
func (u *Users) Create(ctx context.Context, email, password string) (User, error) {
	hash, err := u.hasher.Hash(ctx, password)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	var id int64
	err = u.db.Write.QueryRowContext(ctx,
		`INSERT INTO users (email, password_hash, created_at) VALUES (?, ?, ?) ON CONFLICT (email) DO NOTHING RETURNING id`,
		email, hash, unix(u.now())).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return User{}, ErrEmailTaken
	case err != nil:
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return User{ID: id, Email: email, PasswordHash: hash, PasswordVersion: 1}, nil
}

// Authenticate returns the user whose email and password these are. An unknown email
// costs the same hashing work as a wrong password and gives the same error.
func (u *Users) Authenticate(ctx context.Context, email, password string) (User, error) {
	usr, err := u.ByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		if err := u.hasher.VerifyNothing(ctx, password); err != nil {
			return User{}, fmt.Errorf("authenticate: %w", err)
		}
		return User{}, ErrInvalidCredentials
	}
	if err != nil {
		return User{}, fmt.Errorf("authenticate: %w", err)
	}
	ok, err := u.hasher.Verify(ctx, password, usr.PasswordHash)
	if err != nil {
		return User{}, fmt.Errorf("authenticate user %d: %w", usr.ID, err)
	}
	if !ok {
		return User{}, ErrInvalidCredentials
	}
	return usr, nil
}

// Delete removes an account; its sessions and security log go with it (the schema
// cascades). Deleting an account that is gone is not an error.
func (u *Users) Delete(ctx context.Context, id int64) error {
	// On the account's key, so that every server forgets what it remembered of it.
	err := u.db.InTx(ctx, []db.Key{db.Account(id)}, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete user %d: %w", id, err)
	}
	return nil
}

// ByEmail returns the user with that (normalized) email; ErrNotFound when there is none.
func (u *Users) ByEmail(ctx context.Context, email string) (User, error) {
	return u.one(ctx, "email", email)
}

// ByID returns the user with that id; ErrNotFound when there is none.
func (u *Users) ByID(ctx context.Context, id int64) (User, error) {
	return u.one(ctx, "id", id)
}

// one reads the user whose column (id or email, never a caller's text) equals v.
func (u *Users) one(ctx context.Context, column string, v any) (User, error) {
	var usr User
	err := u.db.Read.QueryRowContext(ctx,
		`SELECT id, email, password_hash, password_version FROM users WHERE `+column+` = ?`, v).
		Scan(&usr.ID, &usr.Email, &usr.PasswordHash, &usr.PasswordVersion)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("user %v: %w", v, err)
	}
	return usr, nil
}

// CheckPassword checks that password is the user's current one and returns the password
// version it was checked against (for Change.CheckedVersion).
func (u *Users) CheckPassword(ctx context.Context, userID int64, password string) (int64, error) {
	usr, err := u.ByID(ctx, userID)
	if err != nil {
		return 0, err
	}
	ok, err := u.hasher.Verify(ctx, password, usr.PasswordHash)
	if err != nil {
		return 0, fmt.Errorf("check password of user %d: %w", userID, err)
	}
	if !ok {
		return 0, ErrWrongPassword
	}
	return usr.PasswordVersion, nil
}
