package models

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password length limits, in characters. The maximum keeps hashing cheap to refuse.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 256
)

// HashParams are argon2id's cost parameters; they are written into every hash.
type HashParams struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultHashParams are OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane); a
// function, so no caller can change them for everyone else.
func DefaultHashParams() HashParams {
	return HashParams{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Hasher hashes and verifies passwords with argon2id, a bounded number at a time so a
// burst of sign-ins queues instead of exhausting memory.
type Hasher struct {
	params HashParams
	slots  chan struct{}
	dummy  string // a real hash to verify against when the account does not exist
	runs   atomic.Uint64
}

// NewHasher returns a Hasher with the given parameters running at most concurrent hashes.
func NewHasher(p HashParams, concurrent int) (*Hasher, error) {
	if concurrent < 1 {
		concurrent = 1
	}
	h := &Hasher{params: p, slots: make(chan struct{}, concurrent)}
	d, err := h.Hash(context.Background(), "elsewhere-dummy-password")
	if err != nil {
		return nil, err
	}
	h.dummy = d
	return h, nil
}

// Runs is how many argon2id derivations (hashes and verifications) the hasher has
// done, so a caller can tell that a request was refused before any hashing.
func (h *Hasher) Runs() uint64 { return h.runs.Load() }

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() HashParams { return h.params }

// Hash returns the PHC string of password under a fresh random salt.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: salt: %w", err)
	}
	key, err := h.derive(ctx, password, salt, h.params)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.params.Memory, h.params.Time, h.params.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches the PHC string encoded, in constant time.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	p, salt, want, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	got, err := h.derive(ctx, password, salt, p)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// VerifyNothing does the work of one verification against no account, so that an
// unknown email costs the same time as a wrong password.
func (h *Hasher) VerifyNothing(ctx context.Context, password string) error {
	_, err := h.Verify(ctx, password, h.dummy)
	return err
}

func (h *Hasher) derive(ctx context.Context, password string, salt []byte, p HashParams) ([]byte, error) {
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("hash password: %w", ctx.Err())
	}
	defer func() { <-h.slots }()
	h.runs.Add(1)
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen), nil
}

var errBadHash = errors.New("malformed password hash")

func decodeHash(s string) (HashParams, []byte, []byte, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return HashParams{}, nil, nil, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return HashParams{}, nil, nil, errBadHash
	}
	var p HashParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return HashParams{}, nil, nil, errBadHash
	}
	// Refuse parameters that would make one verification a denial of service.
	if p.Memory == 0 || p.Memory > 1<<21 || p.Time == 0 || p.Time > 64 || p.Threads == 0 {
		return HashParams{}, nil, nil, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return HashParams{}, nil, nil, errBadHash
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) == 0 {
		return HashParams{}, nil, nil, errBadHash
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// CheckNewPassword says what is wrong with a new password (ErrPasswordInvalid,
// ErrPasswordTooShort, ErrPasswordTooLong or ErrPasswordCommon), or nil.
func CheckNewPassword(password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return ErrPasswordInvalid
	case n < MinPasswordLen:
		return ErrPasswordTooShort
	case n > MaxPasswordLen:
		return ErrPasswordTooLong
	case isCommonPassword(password):
		return ErrPasswordCommon
	}
	return nil
}

// PasswordTooLong reports whether a password should be refused before any hashing.
func PasswordTooLong(password string) bool {
	return len(password) > MaxPasswordLen*4
}
