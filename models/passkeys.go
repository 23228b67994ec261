package models

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/elsewhere-dev/elsewhere/db"
)

// PasskeyChallengeLife is how long a passkey ceremony may take: the person has to touch
// or unlock the authenticator, and the sign-in page's autofill waits for them.
const PasskeyChallengeLife = 5 * time.Minute

// What a passkey challenge is for.
const (
	PasskeyAdd     = "add"
	PasskeyConfirm = "confirm"
	PasskeySignIn  = "sign-in"
)

// MaxPasskeys is how many passkeys one account may keep.
const MaxPasskeys = 20

// Sentinel errors of passkeys.
var (
	// ErrPasskeyRefused: the authenticator's answer was not accepted (a bad signature, no
	// user verification, another origin or relying party, an unknown or another account's
	// credential, a counter gone backwards, or a challenge used, expired or never given).
	ErrPasskeyRefused = errors.New("the passkey was not accepted")
	// ErrNoPasskeys: the account has no passkey to confirm with.
	ErrNoPasskeys = errors.New("the account has no passkeys")
	// ErrTooManyPasskeys: the account has MaxPasskeys already.
	ErrTooManyPasskeys = errors.New("too many passkeys")
)

// RelyingParty is who passkeys are made for: the base URL's host and origin.
type RelyingParty struct {
	ID     string // the host name, without port ("app.example")
	Origin string // scheme://host[:port]
	Name   string // shown by the authenticator
}

// Passkey is one of an account's passkeys, as the Security page shows it.
type Passkey struct {
	ID            int64
	UserID        int64
	CredentialID  []byte
	Name          string // what the owner named it; "" for none
	AAGUID        []byte
	Authenticator string // the authenticator's name where its AAGUID is a known one
	Transports    []string
	BackedUp      bool   // synced to a password manager or cloud keychain
	AddedDevice   string // the label of the device that added it
	AddedAt       time.Time
	LastUsedAt    time.Time // zero: never used
}

// Passkeys keeps accounts' passkeys and runs their ceremonies through go-webauthn.
type Passkeys struct {
	db     *db.DB
	wa     *webauthn.WebAuthn
	secret []byte // keys the user handles passkeys carry
	now    Clock
	lists  remembered[int64, []Passkey] // List, by user, while the account's stamp stands
}

// NewPasskeys returns the passkey store for rp; secret keys the opaque user handles.
func NewPasskeys(d *db.DB, rp RelyingParty, secret []byte, now Clock) (*Passkeys, error) {
	wa, err := webauthn.New(&webauthn.Config{
		RPID: rp.ID, RPDisplayName: rp.Name, RPOrigins: []string{rp.Origin},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: false, Timeout: PasskeyChallengeLife},
			Registration: webauthn.TimeoutConfig{Enforce: false, Timeout: PasskeyChallengeLife},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("passkeys: %w", err)
	}
	return &Passkeys{db: d, wa: wa, secret: secret, now: now}, nil
}

// passkeyUser is an account as go-webauthn sees it.
type passkeyUser struct {
	handle []byte
	email  string
	creds  []webauthn.Credential
	rows   []int64 // the passkeys rows of creds, in the same order
}

func (u *passkeyUser) WebAuthnID() []byte                         { return u.handle }
func (u *passkeyUser) WebAuthnName() string                       { return u.email }
func (u *passkeyUser) WebAuthnDisplayName() string                { return u.email }
func (u *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// userHandle is the opaque id an account's passkeys carry: an HMAC of the account's id,
// so it reveals nothing and differs between installations.
func (p *Passkeys) userHandle(userID int64) []byte {
	m := hmac.New(sha256.New, p.secret)
	m.Write([]byte("passkey user handle "))
	_ = binary.Write(m, binary.BigEndian, userID)
	return m.Sum(nil)
}

// account loads the user's passkeys as go-webauthn's credentials.
func (p *Passkeys) account(ctx context.Context, userID int64) (*passkeyUser, error) {
	q := p.db.Read
	u := &passkeyUser{handle: p.userHandle(userID)}
	if err := q.QueryRowContext(ctx, `SELECT email FROM users WHERE id = ?`, userID).Scan(&u.email); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT id, credential_id, public_key, sign_count, aaguid, transports,
		backup_eligible, backup_state FROM passkeys WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			c          webauthn.Credential
			id, count  int64
			transports string
			be, bs     bool
		)
		if err := rows.Scan(&id, &c.ID, &c.PublicKey, &count, &c.Authenticator.AAGUID, &transports, &be, &bs); err != nil {
			return nil, err
		}
		c.Authenticator.SignCount = uint32(count)
		c.AttestationType = "none"
		c.Flags = webauthn.CredentialFlags{UserPresent: true, UserVerified: true, BackupEligible: be, BackupState: bs}
		for _, t := range strings.Split(transports, ",") {
			if t != "" {
				c.Transport = append(c.Transport, protocol.AuthenticatorTransport(t))
			}
		}
		u.creds, u.rows = append(u.creds, c), append(u.rows, id)
	}
	return u, rows.Err()
}

// begin stores a ceremony's session data, its challenge as a SHA-256 only, and returns
// the options for the browser as JSON.
func (p *Passkeys) begin(ctx context.Context, purpose, handle string, userID int64, options any, sd *webauthn.SessionData) ([]byte, error) {
	out, err := json.Marshal(options)
	if err != nil {
		return nil, err
	}
	challenge := sd.Challenge
	// The server requires user verification whatever the browser was asked for: an
	// authenticator that answers without it is refused here, and the refusal counts.
	sd.UserVerification = protocol.VerificationRequired
	sd.Challenge, sd.Expires = "", time.Time{} // the lifetime is expires_at, on the app's clock
	ceremony, err := json.Marshal(sd)
	if err != nil {
		return nil, err
	}
	now := p.now()
	err = p.db.InTx(ctx, []db.Key{db.RowsOnly}, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM passkey_challenges WHERE expires_at <= ?`, unix(now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO passkey_challenges (challenge_hash, purpose, handle, user_id, ceremony, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)`, hashChallenge(challenge), purpose, handle, userID, string(ceremony), unix(now.Add(PasskeyChallengeLife)))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("passkey challenge: %w", err)
	}
	return out, nil
}

// spend takes the challenge the browser's answer was made over: it must have been given
// for purpose to handle (and userID), and not be used or expired. It is deleted whatever
// the answer turns out to be, so no challenge is answered twice.
func (p *Passkeys) spend(ctx context.Context, purpose, handle string, userID int64, challenge string) (webauthn.SessionData, error) {
	var (
		sd       webauthn.SessionData
		ceremony string
	)
	err := p.db.InTx(ctx, []db.Key{db.RowsOnly}, func(tx *db.Tx) error {
		return tx.QueryRowContext(ctx, `DELETE FROM passkey_challenges WHERE challenge_hash = ? AND purpose = ? AND handle = ?
			AND user_id = ? AND expires_at > ? RETURNING ceremony`,
			hashChallenge(challenge), purpose, handle, userID, unix(p.now())).Scan(&ceremony)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return sd, fmt.Errorf("%w: %w", ErrPasskeyRefused, ErrChallenge)
	}
	if err != nil {
		return sd, fmt.Errorf("spend passkey challenge: %w", err)
	}
	if err := json.Unmarshal([]byte(ceremony), &sd); err != nil {
		return sd, fmt.Errorf("spend passkey challenge: %w", err)
	}
	sd.Challenge = challenge
	return sd, nil
}

// refused wraps what go-webauthn refused as ErrPasskeyRefused.
func refused(err error) error {
	if errors.Is(err, ErrPasskeyRefused) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrPasskeyRefused, err)
}

// BeginAdd starts adding a passkey to the user's account from the session handle (which
// the caller has just confirmed): the options for navigator.credentials.create, as JSON.
func (p *Passkeys) BeginAdd(ctx context.Context, userID int64, handle string) ([]byte, error) {
	u, err := p.account(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("begin passkey: %w", err)
	}
	if len(u.creds) >= MaxPasskeys {
		return nil, ErrTooManyPasskeys
	}
	creation, sd, err := p.wa.BeginRegistration(u,
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification: protocol.VerificationPreferred}),
		webauthn.WithExclusions(webauthn.Credentials(u.creds).CredentialDescriptors()),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return nil, fmt.Errorf("begin passkey: %w", err)
	}
	return p.begin(ctx, PasskeyAdd, handle, userID, creation, sd)
}

// NewPasskey is what is known of a passkey being added besides the authenticator's answer.
type NewPasskey struct {
	Name  string // the owner's name for it ("" for none), checked with CheckDeviceName
	Actor Actor  // the device adding it
}

// FinishAdd verifies the authenticator's answer (attestation "none" or any other; the
// key is what matters) to a challenge BeginAdd gave the session handle, and keeps the
// passkey, logged and alerted, in one transaction. ErrPasskeyRefused when the answer is
// not accepted; ErrSessionEnded when the session went meanwhile.
func (p *Passkeys) FinishAdd(ctx context.Context, userID int64, handle string, response []byte, n NewPasskey) (Passkey, Event, error) {
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return Passkey{}, Event{}, refused(err)
	}
	sd, err := p.spend(ctx, PasskeyAdd, handle, userID, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return Passkey{}, Event{}, err
	}
	u, err := p.account(ctx, userID)
	if err != nil {
		return Passkey{}, Event{}, fmt.Errorf("add passkey: %w", err)
	}
	cred, err := p.wa.CreateCredential(u, sd, parsed)
	if err != nil {
		return Passkey{}, Event{}, refused(err)
	}
	if !cred.Flags.UserVerified {
		return Passkey{}, Event{}, refused(errors.New("no user verification"))
	}
	transports := make([]string, 0, len(cred.Transport))
	for _, t := range cred.Transport {
		transports = append(transports, string(t))
	}
	now := p.now()
	pk := Passkey{UserID: userID, CredentialID: cred.ID, Name: n.Name, AAGUID: cred.Authenticator.AAGUID,
		Transports: transports, BackedUp: cred.Flags.BackupState, AddedDevice: n.Actor.Device, AddedAt: now.Truncate(time.Second)}
	pk.Authenticator = AuthenticatorName(pk.AAGUID)
	var ev Event
	err = p.db.InTx(ctx, []db.Key{db.Account(userID)}, func(tx *db.Tx) error {
		var count int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM passkeys WHERE user_id = ?`, userID).Scan(&count); err != nil {
			return err
		}
		if count >= MaxPasskeys {
			return ErrTooManyPasskeys
		}
		// The session must still be signed in; the browser it runs in is kept by its
		// device cookie's hash, so a later "Lost or stolen?" of any of its sessions finds it.
		err := tx.QueryRowContext(ctx, `INSERT INTO passkeys (user_id, credential_id, public_key, sign_count, aaguid,
			transports, backup_eligible, backup_state, name, added_device, device_hash, added_handle, added_at)
			SELECT s.user_id, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT k.device_hash FROM known_devices k WHERE k.id = s.device_id),
			s.handle, ? FROM sessions s WHERE s.handle = ? AND s.user_id = ?
			ON CONFLICT (credential_id) DO NOTHING RETURNING id`,
			cred.ID, cred.PublicKey, int64(cred.Authenticator.SignCount), nonNil(cred.Authenticator.AAGUID), strings.Join(transports, ","),
			flag(cred.Flags.BackupEligible), flag(cred.Flags.BackupState), n.Name, n.Actor.Device, unix(now), handle, userID).Scan(&pk.ID)
		if errors.Is(err, sql.ErrNoRows) {
			var one int
			if tx.QueryRowContext(ctx, `SELECT 1 FROM sessions WHERE handle = ?`, handle).Scan(&one) != nil {
				return ErrSessionEnded
			}
			return refused(errors.New("that credential is registered already"))
		}
		if err != nil {
			return err
		}
		ev, err = recordTx(ctx, tx, now, userID, EventPasskeyAdded, n.Actor, pk.shownName())
		return err
	})
	if err != nil {
		return Passkey{}, Event{}, fmt.Errorf("add passkey: %w", err)
	}
	return pk, ev, nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// shownName is what a passkey goes by in the log: its name, its authenticator's, or
// "a passkey".
func (pk Passkey) shownName() string {
	switch {
	case pk.Name != "":
		return pk.Name
	case pk.Authenticator != "":
		return pk.Authenticator
	}
	return "a passkey"
}

// ShownName is what the page calls the passkey.
func (pk Passkey) ShownName() string { return pk.shownName() }

// BeginConfirm starts confirming an action of the session handle with one of the user's
// passkeys: the options for navigator.credentials.get, as JSON. ErrNoPasskeys when the
// account has none.
func (p *Passkeys) BeginConfirm(ctx context.Context, userID int64, handle string) ([]byte, error) {
	u, err := p.account(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("begin passkey confirmation: %w", err)
	}
	if len(u.creds) == 0 {
		return nil, ErrNoPasskeys
	}
	assertion, sd, err := p.wa.BeginLogin(u, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, fmt.Errorf("begin passkey confirmation: %w", err)
	}
	return p.begin(ctx, PasskeyConfirm, handle, userID, assertion, sd)
}

// Confirm verifies an assertion, with user verification, by one of the user's passkeys
// over a challenge BeginConfirm gave the session handle. ErrPasskeyRefused otherwise.
func (p *Passkeys) Confirm(ctx context.Context, userID int64, handle string, response []byte) error {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return refused(err)
	}
	sd, err := p.spend(ctx, PasskeyConfirm, handle, userID, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return err
	}
	u, err := p.account(ctx, userID)
	if err != nil {
		return fmt.Errorf("confirm with passkey: %w", err)
	}
	cred, err := p.wa.ValidateLogin(u, sd, parsed)
	if err != nil {
		return refused(err)
	}
	return p.used(ctx, userID, cred)
}

// BeginSignIn starts a sign-in with a passkey, the account unknown until the passkey
// names it: the options for navigator.credentials.get, as JSON.
func (p *Passkeys) BeginSignIn(ctx context.Context) ([]byte, error) {
	assertion, sd, err := p.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, fmt.Errorf("begin passkey sign-in: %w", err)
	}
	return p.begin(ctx, PasskeySignIn, "", 0, assertion, sd)
}

// SignIn verifies an assertion, with user verification, over a challenge BeginSignIn
// gave, and returns the account whose passkey made it. ErrPasskeyRefused otherwise.
func (p *Passkeys) SignIn(ctx context.Context, response []byte) (int64, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return 0, refused(err)
	}
	sd, err := p.spend(ctx, PasskeySignIn, "", 0, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return 0, err
	}
	var userID int64
	_, cred, err := p.wa.ValidatePasskeyLogin(func(rawID, _ []byte) (webauthn.User, error) {
		err := p.db.Read.QueryRowContext(ctx, `SELECT user_id FROM passkeys WHERE credential_id = ?`, rawID).Scan(&userID)
		if err != nil {
			return nil, err
		}
		// go-webauthn then checks that the user handle the passkey carries is this
		// account's.
		return p.account(ctx, userID)
	}, sd, parsed)
	if err != nil {
		return 0, refused(err)
	}
	if err := p.used(ctx, userID, cred); err != nil {
		return 0, err
	}
	return userID, nil
}

// used refuses an assertion whose counter did not go forward (a cloned authenticator),
// and records the new counter and the time of use. (User verification was required by
// the ceremony: see begin.)
func (p *Passkeys) used(ctx context.Context, userID int64, cred *webauthn.Credential) error {
	if cred.Authenticator.CloneWarning {
		return refused(errors.New("the signature counter went backwards"))
	}
	err := p.db.InTx(ctx, []db.Key{db.Account(userID)}, func(tx *db.Tx) error {
		// Only forward: of two assertions racing, the later counter is kept and the
		// earlier one refused, as a clone's would be.
		res, err := tx.ExecContext(ctx, `UPDATE passkeys SET sign_count = ?, last_used_at = ?, backup_state = ?
			WHERE user_id = ? AND credential_id = ? AND (sign_count < ? OR sign_count = 0)`,
			int64(cred.Authenticator.SignCount), unix(p.now()), flag(cred.Flags.BackupState), userID, cred.ID, int64(cred.Authenticator.SignCount))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return refused(errors.New("the passkey is gone or its counter went backwards"))
		}
		return nil
	})
	if err != nil && !errors.Is(err, ErrPasskeyRefused) {
		return fmt.Errorf("passkey used: %w", err)
	}
	return err
}

// SweepChallenges deletes passkey challenges past their lifetime.
func (p *Passkeys) SweepChallenges(ctx context.Context) error {
	if _, err := p.db.Write.ExecContext(ctx, `DELETE FROM passkey_challenges WHERE expires_at <= ?`, unix(p.now())); err != nil {
		return fmt.Errorf("sweep passkey challenges: %w", err)
	}
	return nil
}

// List returns the user's passkeys, oldest first.
func (p *Passkeys) List(ctx context.Context, userID int64) ([]Passkey, error) {
	stamp, canRemember, err := accountStamp(ctx, p.db, userID) // before the read
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	if canRemember {
		if list, ok := p.lists.get(stamp, userID); ok {
			return slices.Clone(list), nil
		}
	}
	list, err := p.list(ctx, userID)
	if err == nil && canRemember {
		p.lists.put(stamp, userID, slices.Clone(list))
	}
	return list, err
}

func (p *Passkeys) list(ctx context.Context, userID int64) ([]Passkey, error) {
	rows, err := p.db.Read.QueryContext(ctx, `SELECT id, credential_id, name, aaguid, transports, backup_state,
		added_device, added_at, last_used_at FROM passkeys WHERE user_id = ? ORDER BY added_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	defer rows.Close()
	var out []Passkey
	for rows.Next() {
		pk := Passkey{UserID: userID}
		var transports string
		var added, last int64
		if err := rows.Scan(&pk.ID, &pk.CredentialID, &pk.Name, &pk.AAGUID, &transports, &pk.BackedUp,
			&pk.AddedDevice, &added, &last); err != nil {
			return nil, fmt.Errorf("list passkeys: %w", err)
		}
		if transports != "" {
			pk.Transports = strings.Split(transports, ",")
		}
		pk.AddedAt = time.Unix(added, 0).UTC()
		if last > 0 {
			pk.LastUsedAt = time.Unix(last, 0).UTC()
		}
		pk.Authenticator = AuthenticatorName(pk.AAGUID)
		out = append(out, pk)
	}
	return out, rows.Err()
}

// Rename gives the user's passkey id the name (checked with CheckDeviceName; "" takes it
// away), logged. ErrNotFound for another user's or an unknown passkey.
func (p *Passkeys) Rename(ctx context.Context, userID, id int64, name string, actor Actor) (Event, error) {
	now := p.now()
	var ev Event
	err := p.db.InTx(ctx, []db.Key{db.Account(userID)}, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ?`, name, id, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		ev, err = recordTx(ctx, tx, now, userID, EventPasskeyRenamed, actor, name)
		return err
	})
	if err != nil {
		return Event{}, fmt.Errorf("rename passkey: %w", err)
	}
	return ev, nil
}

// RemovePasskey removes the user's passkey id, as a confirmed action of ch (see change):
// logged and alerted. ErrNotFound for another user's or an unknown passkey.
func (s *Sessions) RemovePasskey(ctx context.Context, ch Change, id int64) (Event, error) {
	ev, err := s.change(ctx, ch, func(tx *db.Tx, now time.Time) (EventKind, string, error) {
		names, err := removePasskeysTx(ctx, tx, `user_id = ? AND id = ?`, ch.UserID, id)
		if err != nil {
			return "", "", err
		}
		if len(names) == 0 {
			return "", "", ErrNotFound
		}
		return EventPasskeyRemoved, names[0], nil
	})
	if err != nil {
		return Event{}, fmt.Errorf("remove passkey: %w", err)
	}
	return ev, nil
}

// removePasskeysTx deletes the passkeys matching where and returns what each was called:
// the one statement that removes passkeys.
func removePasskeysTx(ctx context.Context, tx *db.Tx, where string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `DELETE FROM passkeys WHERE `+where+` RETURNING name, aaguid`, args...)
	if err != nil {
		return nil, fmt.Errorf("remove passkeys: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var pk Passkey
		if err := rows.Scan(&pk.Name, &pk.AAGUID); err != nil {
			return nil, fmt.Errorf("remove passkeys: %w", err)
		}
		pk.Authenticator = AuthenticatorName(pk.AAGUID)
		names = append(names, pk.shownName())
	}
	return names, rows.Err()
}

// removeDevicePasskeysTx removes the passkeys the browser of session handle added, from
// this session or any earlier one of the same browser (by its device cookie), and logs
// which went. It runs before the session ends, while its browser is still known.
func removeDevicePasskeysTx(ctx context.Context, tx *db.Tx, now time.Time, userID int64, handle string, actor Actor) error {
	var hash []byte
	err := tx.QueryRowContext(ctx, `SELECT k.device_hash FROM sessions s JOIN known_devices k ON k.id = s.device_id
		WHERE s.handle = ?`, handle).Scan(&hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("lost device's passkeys: %w", err)
	}
	if hash == nil {
		hash = []byte{} // matches no row: device_hash is NULL where there was no cookie
	}
	names, err := removePasskeysTx(ctx, tx, `user_id = ? AND (added_handle = ? OR device_hash = ?)`, userID, handle, hash)
	if err != nil || len(names) == 0 {
		return err
	}
	_, err = recordTx(ctx, tx, now, userID, EventPasskeysRevoked, actor, strings.Join(names, ", "))
	return err
}

// removeAllPasskeysTx removes every passkey of the account (a mailed link taking the
// account back cannot tell which the owner added) and logs which went.
func removeAllPasskeysTx(ctx context.Context, tx *db.Tx, now time.Time, userID int64, actor Actor) error {
	names, err := removePasskeysTx(ctx, tx, `user_id = ?`, userID)
	if err != nil || len(names) == 0 {
		return err
	}
	_, err = recordTx(ctx, tx, now, userID, EventPasskeysRevoked, actor, strings.Join(names, ", "))
	return err
}

// knownAuthenticators names common authenticators by AAGUID (from the community list at
// github.com/passkeydeveloper/passkey-authenticator-aaguids).
var knownAuthenticators = map[string]string{
	"ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4": "Google Password Manager",
	"adce0002-35bc-c60a-648b-0b25f1f05503": "Chrome on Mac",
	"dd4ec289-e01d-41c9-bb89-70fa845d4bf2": "iCloud Keychain",
	"fbfc3007-154e-4ecc-8c0b-6e020557d7bd": "iCloud Keychain",
	"08987058-cadc-4b81-b6e1-30de50dcbe96": "Windows Hello",
	"9ddd1817-af5a-4672-a2b9-3e3dd95000a9": "Windows Hello",
	"6028b017-b1d4-4c02-b4b3-afcdafc96bb2": "Windows Hello",
	"bada5566-a7aa-401f-bd96-45619a55120d": "1Password",
	"d548826e-79b4-db40-a3d8-11116f7e8349": "Bitwarden",
	"531126d6-e717-415c-9320-3d9aa6981239": "Dashlane",
	"53414d53-554e-4700-0000-000000000000": "Samsung Pass",
}

// AuthenticatorName is the name of the authenticator with that AAGUID, "" when unknown.
func AuthenticatorName(aaguid []byte) string {
	id, err := uuid.FromBytes(aaguid)
	if err != nil || bytes.Equal(aaguid, make([]byte, 16)) {
		return ""
	}
	return knownAuthenticators[id.String()]
}
