-- Elsewhere's tables. Applied at every start; every statement is idempotent.
-- Times are Unix seconds (UTC). SQL stays portable (no SQLite-only functions) so the
-- same queries can later run on PostgreSQL.

CREATE TABLE IF NOT EXISTS settings (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,        -- stored lower-cased: unique case-insensitively
    password_hash TEXT NOT NULL,               -- argon2id, PHC string form
    password_version INTEGER NOT NULL DEFAULT 1, -- bumped by a password change, not by a re-salt
    created_at    INTEGER NOT NULL,
    time_zone     TEXT NOT NULL DEFAULT '',    -- IANA zone a known browser last reported at sign-in; mails use it
    changes       INTEGER NOT NULL DEFAULT 0   -- moved by every write to the account (PostgreSQL): what is remembered of it is current while it stays
);

CREATE TABLE IF NOT EXISTS sessions (
    id              INTEGER PRIMARY KEY,
    handle          TEXT NOT NULL UNIQUE,      -- public id for markup and URLs; unrelated to the token
    token_hash      BLOB NOT NULL UNIQUE,      -- SHA-256 of the cookie token; the token itself is never stored
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,
    last_active_at  INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    remember        INTEGER NOT NULL DEFAULT 0,
    ip              TEXT NOT NULL DEFAULT '',
    user_agent      TEXT NOT NULL DEFAULT '',
    client_hints    TEXT NOT NULL DEFAULT '',  -- JSON of the Sec-CH-UA* headers at sign-in
    browser         TEXT NOT NULL DEFAULT '',
    os              TEXT NOT NULL DEFAULT '',
    device_type     TEXT NOT NULL DEFAULT 'unknown',
    device_model    TEXT NOT NULL DEFAULT '',
    stamp           BLOB NOT NULL,             -- HMAC of the user's password hash at sign-in
    confirmed_until INTEGER NOT NULL DEFAULT 0, -- end of this session's password-confirmation window
    wrong_passwords INTEGER NOT NULL DEFAULT 0, -- wrong confirmations since the last right one; the tenth signs it out
    device_id       INTEGER NOT NULL DEFAULT 0, -- the known_devices row of the browser (0: none known)
    data            BLOB                       -- other session values, gob-encoded
);
CREATE INDEX IF NOT EXISTS sessions_user_active ON sessions (user_id, last_active_at);
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires_at);

-- Token hashes of sessions that were signed out from elsewhere or ended by a password
-- change, kept until the session would have expired, so that device can be told why.
-- A token here is never accepted: it only picks the message on the sign-in page.
CREATE TABLE IF NOT EXISTS ended_sessions (
    token_hash BLOB PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    reason     TEXT NOT NULL DEFAULT ''       -- '' signed out from elsewhere; guessed-out
);
CREATE INDEX IF NOT EXISTS ended_sessions_expires ON ended_sessions (expires_at);

CREATE TABLE IF NOT EXISTS events (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind    TEXT NOT NULL,
    at      INTEGER NOT NULL,
    ip      TEXT NOT NULL DEFAULT '',
    device  TEXT NOT NULL DEFAULT '',          -- label of the device that acted
    detail  TEXT NOT NULL DEFAULT ''           -- e.g. the label of the device signed out
);
CREATE INDEX IF NOT EXISTS events_user_at ON events (user_id, at);
CREATE INDEX IF NOT EXISTS events_user_id ON events (user_id, id);  -- the newest entry: what a live page has seen
CREATE INDEX IF NOT EXISTS events_at ON events (at);

-- Failed attempts (and attempts in flight, reserved before the password is checked) and
-- lockouts for rate limits; in the database so they survive a restart.
CREATE TABLE IF NOT EXISTS failures (
    id    INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,                       -- login-email, login-ip, login-ip-all, confirm (keyed by session handle), signup-ip
    key   TEXT NOT NULL,
    at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS failures_scope_key_at ON failures (scope, key, at);
CREATE INDEX IF NOT EXISTS failures_at ON failures (at);

CREATE TABLE IF NOT EXISTS lockouts (
    scope TEXT NOT NULL,
    key   TEXT NOT NULL,
    until INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);

-- Browsers an account has seen, by their device cookie: a long-lived random value, kept
-- here as a SHA-256 only. A sign-in from a browser not in this table is a new device.
CREATE TABLE IF NOT EXISTS known_devices (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    device_hash   BLOB NOT NULL,
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    name          TEXT NOT NULL DEFAULT '',    -- what the owner named this browser ("Anna's iPad"); '' for none
    signed_out    INTEGER NOT NULL DEFAULT 0,  -- signed out from elsewhere: its next sign-in is alerted as new
    UNIQUE (user_id, device_hash)
);

-- Security-log entries a mail alert is still to tell of, written in the same transaction
-- as the entry; the mail worker gathers each account's into one mail.
CREATE TABLE IF NOT EXISTS alert_items (
    id       INTEGER PRIMARY KEY,
    user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    event_id INTEGER NOT NULL,
    kind     TEXT NOT NULL,                    -- the event's kind, or new-device
    at       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_items_user ON alert_items (user_id, at);
CREATE INDEX IF NOT EXISTS alert_items_at ON alert_items (at);

-- The kinds of change each account's alert mails told of in the last hour. A grave change
-- (every alerted kind but a new device) goes out past the hourly cap on alert mails unless
-- a mail already told of the same kind within the hour: repeats may wait, news may not.
CREATE TABLE IF NOT EXISTS alert_kinds_mailed (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind    TEXT NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- Mails to send, and the record of those sent. The body holds no secret: the link in it
-- is made, with a fresh token, when the mail is sent.
CREATE TABLE IF NOT EXISTS outbox (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,               -- alert, reset
    recipient     TEXT NOT NULL,
    subject       TEXT NOT NULL,
    body_text     TEXT NOT NULL,               -- with the link left as a placeholder
    body_html     TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    send_after    INTEGER NOT NULL,            -- next attempt, after a failure's back-off
    claimed_until INTEGER NOT NULL DEFAULT 0,  -- an app server is sending it until then
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT NOT NULL DEFAULT '',
    sent_at       INTEGER NOT NULL DEFAULT 0   -- 0: not yet; -1: given up
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (sent_at, send_after);
CREATE INDEX IF NOT EXISTS outbox_user ON outbox (user_id, kind, sent_at);

-- Single-use links from mails: "This wasn't me" (7 days) and password reset (1 hour).
-- Only a SHA-256 of each 256-bit token is kept.
CREATE TABLE IF NOT EXISTS mail_tokens (
    token_hash BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,                  -- not-me, reset
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS mail_tokens_user ON mail_tokens (user_id);
CREATE INDEX IF NOT EXISTS mail_tokens_expires ON mail_tokens (expires_at);

-- Device Bound Session Credentials: the public key a browser registered for a session
-- (never a private key; the browser keeps that). A bound session needs a bound cookie,
-- made with this key's proof, beside its session cookie. The row goes with its session.
CREATE TABLE IF NOT EXISTS session_keys (
    handle      TEXT PRIMARY KEY REFERENCES sessions(handle) ON DELETE CASCADE,
    alg         TEXT NOT NULL,                 -- ES256 or RS256
    jwk         TEXT NOT NULL,                 -- the public key, as the browser sent it (JWK JSON)
    thumbprint  BLOB NOT NULL,                 -- its RFC 7638 SHA-256 thumbprint, which bound cookies are tied to
    bound_at    INTEGER NOT NULL,
    misused_at  INTEGER NOT NULL DEFAULT 0     -- last time the session cookie came without a bound cookie (0: never)
);

-- Challenges for registering a key and for proving it at refresh: single-use, short-lived,
-- kept as a SHA-256 only, tied to the one session they were given to.
CREATE TABLE IF NOT EXISTS session_challenges (
    challenge_hash BLOB PRIMARY KEY,
    handle         TEXT NOT NULL REFERENCES sessions(handle) ON DELETE CASCADE,
    purpose        TEXT NOT NULL,              -- register, refresh
    expires_at     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS session_challenges_handle ON session_challenges (handle);
CREATE INDEX IF NOT EXISTS session_challenges_expires ON session_challenges (expires_at);

-- Passkeys (WebAuthn discoverable credentials): the public key and what the authenticator
-- said of itself, never a private key. The browser that added one is kept by its device
-- cookie's hash (and the session's handle), so "Lost or stolen?" on that browser removes
-- every passkey it added, from any of its sessions.
CREATE TABLE IF NOT EXISTS passkeys (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credential_id BLOB NOT NULL UNIQUE,
    public_key    BLOB NOT NULL,               -- COSE key, as the authenticator gave it
    sign_count    INTEGER NOT NULL DEFAULT 0,
    aaguid        BLOB NOT NULL,
    transports    TEXT NOT NULL DEFAULT '',    -- comma-separated (internal, hybrid, usb, ...)
    backup_eligible INTEGER NOT NULL DEFAULT 0,
    backup_state  INTEGER NOT NULL DEFAULT 0,
    name          TEXT NOT NULL DEFAULT '',    -- what the owner named it; '' for none
    added_device  TEXT NOT NULL DEFAULT '',    -- label of the device that added it
    device_hash   BLOB,                        -- device cookie hash of the browser that added it (NULL: none)
    added_handle  TEXT NOT NULL DEFAULT '',    -- handle of the session that added it
    added_at      INTEGER NOT NULL,
    last_used_at  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS passkeys_user ON passkeys (user_id, added_at);

-- Passkey ceremony challenges (add, confirm, sign in): single-use, short-lived, kept as a
-- SHA-256 only, with the ceremony's other parameters; add and confirm are tied to the
-- session they were given to, sign-in to nobody (the passkey names its account).
CREATE TABLE IF NOT EXISTS passkey_challenges (
    challenge_hash BLOB PRIMARY KEY,
    purpose        TEXT NOT NULL,              -- add, confirm, sign-in
    handle         TEXT NOT NULL DEFAULT '',   -- the session asked ('' for sign-in)
    user_id        INTEGER NOT NULL DEFAULT 0,
    ceremony       TEXT NOT NULL,              -- the library's session data, without the challenge
    expires_at     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS passkey_challenges_expires ON passkey_challenges (expires_at);
