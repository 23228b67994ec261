package handlers

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/elsewhere-dev/elsewhere/models"
)

// Device Bound Session Credentials (https://w3c.github.io/webappsec-dbsc/): after a
// sign-in the browser is offered to bind the session to a key that never leaves the
// device. Once it has, every request of the session needs a short-lived bound cookie as
// well as the session cookie, and only a proof signed by that key gets a new one. A copy
// of the session cookie taken off the device stops working when the bound cookie copied
// with it expires (-bound-cookie-age).

// The DBSC endpoints, under the mount point.
const (
	dbscRegisterPath = "/dbsc/register"
	dbscRefreshPath  = "/dbsc/refresh"
)

// boundGrace is how long after registration a request of the session is still let
// through without its bound cookie: Chromium may follow the sign-in's redirect before it
// has stored the cookie from the registration it has just finished.
const boundGrace = 5 * time.Second

// maxProofLen bounds a proof header: an RS256 proof with its key in the header (4096
// bits) is under 2 KiB.
const maxProofLen = 8 << 10

// proofAlgs are the only signatures taken: what the registration offers. None, HMAC and
// everything else are refused while parsing, before any key is looked at.
var proofAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.RS256}

// Why a proof was refused; the log says which, never the proof itself.
var (
	errProofMalformed = errors.New("not a compact JWS of ES256 or RS256")
	errProofType      = errors.New("typ is not dbsc+jwt")
	errProofKey       = errors.New("no usable public key")
	errProofSignature = errors.New("signature does not verify")
	errProofPayload   = errors.New("payload has no challenge")
)

// keyProof is a verified dbsc+jwt: the challenge it answers and the key that signed it.
type keyProof struct {
	challenge string
	key       models.DeviceKey
}

// verifyProof checks a Secure-Session-Response. With stored nil (registration) the key
// is the one in the header's jwk, and the proof must be signed by it; otherwise the proof
// must be signed by the stored key, and a jwk in the header, if any, must be that key.
func verifyProof(token string, stored *models.DeviceKey) (keyProof, error) {
	if token == "" || len(token) > maxProofLen {
		return keyProof{}, errProofMalformed
	}
	jws, err := jose.ParseSignedCompact(token, proofAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return keyProof{}, errProofMalformed
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dbsc+jwt" {
		return keyProof{}, errProofType
	}
	var key jose.JSONWebKey
	switch {
	case stored == nil:
		if h.JSONWebKey == nil {
			return keyProof{}, errProofKey
		}
		key = *h.JSONWebKey
	default:
		if err := key.UnmarshalJSON([]byte(stored.JWK)); err != nil {
			return keyProof{}, errProofKey
		}
		if h.Algorithm != stored.Alg {
			return keyProof{}, errProofKey
		}
		if h.JSONWebKey != nil {
			tp, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
			if err != nil || string(tp) != string(stored.Thumbprint) {
				return keyProof{}, errProofKey // a key swapped in at refresh
			}
		}
	}
	if !usableKey(h.Algorithm, key) {
		return keyProof{}, errProofKey
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return keyProof{}, errProofSignature
	}
	var claims struct {
		JTI string `json:"jti"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.JTI == "" || len(claims.JTI) > 256 {
		return keyProof{}, errProofPayload
	}
	tp, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return keyProof{}, errProofKey
	}
	pub, err := key.Public().MarshalJSON()
	if err != nil {
		return keyProof{}, errProofKey
	}
	return keyProof{challenge: claims.JTI, key: models.DeviceKey{Alg: h.Algorithm, JWK: string(pub), Thumbprint: tp}}, nil
}

// usableKey says whether key is a public key of the kind alg signs with: a P-256 key for
// ES256, an RSA key of 2048 to 8192 bits for RS256.
func usableKey(alg string, key jose.JSONWebKey) bool {
	if !key.Valid() || !key.IsPublic() {
		return false
	}
	switch k := key.Key.(type) {
	case *ecdsa.PublicKey:
		return alg == string(jose.ES256) && k.Curve == elliptic.P256()
	case *rsa.PublicKey:
		return alg == string(jose.RS256) && k.N.BitLen() >= 2048 && k.N.BitLen() <= 8192
	}
	return false
}

// dbscConfig is the session configuration a registration and a refresh answer with.
type dbscConfig struct {
	SessionIdentifier string `json:"session_identifier"`
	RefreshURL        string `json:"refresh_url"`
	Scope             struct {
		Origin             string `json:"origin"`
		IncludeSite        bool   `json:"include_site"`
		ScopeSpecification []any  `json:"scope_specification"`
	} `json:"scope"`
	Credentials []dbscCredential `json:"credentials"`
}

type dbscCredential struct {
	Type       string `json:"type"`
	Name       string `json:"name"`
	Attributes string `json:"attributes"`
}

// config is the DBSC session configuration of the session handle. Its scope is the whole
// origin, as the session cookie's is (Path=/): the host app's routes behind RequireUser
// need the bound cookie too.
func (a *App) dbscConfig(handle string) dbscConfig {
	var cfg dbscConfig
	cfg.SessionIdentifier = handle
	cfg.RefreshURL = a.path(dbscRefreshPath)
	cfg.Scope.Origin = a.origin
	cfg.Scope.ScopeSpecification = []any{}
	attrs := "Path=/; HttpOnly; SameSite=Lax"
	if a.secure {
		attrs += "; Secure"
	}
	cfg.Credentials = []dbscCredential{{Type: "cookie", Name: a.boundName, Attributes: attrs}}
	return cfg
}

// offerBinding asks the browser that just signed in to bind its session to a key of its
// own. A browser without DBSC ignores the header; one that has it registers at once.
func (a *App) offerBinding(c *gin.Context, handle string) {
	if a.cfg.BoundCookieAge <= 0 {
		return
	}
	ch, err := a.keys.Challenge(context.WithoutCancel(c.Request.Context()), handle, models.ChallengeRegister)
	if err != nil {
		// The sign-in stands; this device is simply not bound.
		a.log.Warn("offer device binding", "err", err, "request_id", requestIDOf(c))
		return
	}
	c.Header("Secure-Session-Registration", `(ES256 RS256);path="`+a.path(dbscRegisterPath)+`";challenge="`+ch+`"`)
}

// registerKey is POST /dbsc/register: the browser's answer to the offer, a proof signed
// by its new key with the key in the header. The key is stored with the session and the
// first bound cookie set.
func (a *App) registerKey(c *gin.Context) {
	si := a.resolve(c)
	switch {
	case si.err != nil:
		a.fail(c, si.err)
		return
	case !si.ok:
		c.Status(http.StatusUnauthorized)
		return
	}
	proof, err := verifyProof(c.GetHeader("Secure-Session-Response"), nil)
	if err != nil {
		a.refuseProof(c, "register", err)
		return
	}
	ev, err := a.keys.Register(context.WithoutCancel(c.Request.Context()), si.user.ID, si.sess.Handle, proof.challenge, proof.key,
		models.Actor{IP: c.ClientIP(), Device: si.sess.Device.Label()})
	switch {
	case errors.Is(err, models.ErrChallenge), errors.Is(err, models.ErrAlreadyBound):
		a.refuseProof(c, "register", err)
		return
	case err != nil:
		a.fail(c, err)
		return
	}
	a.emit(ev)
	a.setBoundCookie(c, si.sess.Handle, proof.key.Thumbprint)
	c.JSON(http.StatusOK, a.dbscConfig(si.sess.Handle))
}

// refreshKey is POST /dbsc/refresh: without a proof it answers 403 with a fresh
// challenge; with a proof of that challenge signed by the session's key, a new bound
// cookie. The session cookie must come with it: the key alone signs nobody in.
func (a *App) refreshKey(c *gin.Context) {
	si := a.resolve(c)
	switch {
	case si.err != nil:
		a.fail(c, si.err)
		return
	case !si.ok || !si.sess.Bound() || c.GetHeader("Sec-Secure-Session-Id") != si.sess.Handle:
		// Signed out, or not this session: the browser's DBSC session is over.
		a.clearBoundCookie(c)
		endDBSC(c, c.GetHeader("Sec-Secure-Session-Id"))
		return
	}
	handle := si.sess.Handle
	token := c.GetHeader("Secure-Session-Response")
	if token == "" {
		a.challenge(c, handle)
		return
	}
	key, err := a.keys.Key(c.Request.Context(), handle)
	switch {
	case errors.Is(err, models.ErrNotFound): // signed out since the lookup a moment ago
		endDBSC(c, handle)
		return
	case err != nil:
		a.fail(c, err)
		return
	}
	proof, err := verifyProof(token, &key)
	if err != nil {
		a.refuseProof(c, "refresh", err)
		return
	}
	err = a.keys.Prove(context.WithoutCancel(c.Request.Context()), handle, proof.challenge, key.Thumbprint)
	switch {
	case errors.Is(err, models.ErrChallenge):
		// Used, expired or not this session's: a browser that was merely slow tries the
		// new one.
		a.log.Info("device key refused", "step", "refresh", "reason", err.Error(), "ip", c.ClientIP(), "request_id", requestIDOf(c))
		a.challenge(c, handle)
		return
	case err != nil:
		a.fail(c, err)
		return
	}
	a.setBoundCookie(c, handle, key.Thumbprint)
	c.JSON(http.StatusOK, a.dbscConfig(handle))
}

// endDBSC tells the browser the bound session is over: it was signed out.
func endDBSC(c *gin.Context, handle string) {
	c.JSON(http.StatusUnauthorized, gin.H{"session_identifier": handle, "continue": false})
}

// challenge answers 403 with a fresh refresh challenge for the session handle.
func (a *App) challenge(c *gin.Context, handle string) {
	ch, err := a.keys.Challenge(context.WithoutCancel(c.Request.Context()), handle, models.ChallengeRefresh)
	switch {
	case errors.Is(err, models.ErrNotFound): // signed out since the lookup a moment ago
		endDBSC(c, handle)
		return
	case err != nil:
		a.fail(c, err)
		return
	}
	c.Header("Secure-Session-Challenge", `"`+ch+`";id="`+handle+`"`)
	c.Status(http.StatusForbidden)
}

// refuseProof answers a proof that is not taken: 400, nothing stored, no cookie.
func (a *App) refuseProof(c *gin.Context, step string, why error) {
	a.log.Info("device key refused", "step", step, "reason", why.Error(), "ip", c.ClientIP(), "request_id", requestIDOf(c))
	c.JSON(http.StatusBadRequest, gin.H{"error": "proof refused"})
}

// setBoundCookie gives the device a bound cookie for the session and key, valid for
// -bound-cookie-age; the value itself says when it ends.
func (a *App) setBoundCookie(c *gin.Context, handle string, thumbprint []byte) {
	age := a.cfg.BoundCookieAge
	http.SetCookie(c.Writer, &http.Cookie{
		Name: a.boundName, Value: a.bound.Make(handle, thumbprint, a.now().Add(age)), Path: "/",
		MaxAge: int(age.Seconds()), HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode,
	})
}

// clearBoundCookie deletes the bound cookie, if the request has one.
func (a *App) clearBoundCookie(c *gin.Context) {
	if _, err := c.Request.Cookie(a.boundName); err == nil {
		http.SetCookie(c.Writer, &http.Cookie{Name: a.boundName, Path: "/", MaxAge: -1, HttpOnly: true,
			Secure: a.secure, SameSite: http.SameSiteLaxMode})
	}
}

// holdsKey says whether the request proves the bound session ss's key: a bound cookie
// the server made for this session and key, not yet expired; or it is in the moment
// right after registration (boundGrace).
func (a *App) holdsKey(c *gin.Context, ss models.Session) bool {
	now := a.now()
	if ck, err := c.Request.Cookie(a.boundName); err == nil && a.bound.Valid(ck.Value, ss.Handle, ss.KeyThumbprint, now) {
		return true
	}
	return now.Before(ss.BoundAt.Add(boundGrace))
}

// streamLifetime is how long the live stream of session ss may stay open: liveLifetime,
// or for a bound session until the bound cookie it was opened with expires (or the moment
// after registration ends), so a stream is never held open by a cookie that would no
// longer open one. The page then opens another, which its browser refreshes the cookie for.
func (a *App) streamLifetime(c *gin.Context, ss models.Session) time.Duration {
	if !ss.Bound() {
		return liveLifetime
	}
	now := a.now()
	until := ss.BoundAt.Add(boundGrace)
	if ck, err := c.Request.Cookie(a.boundName); err == nil {
		if exp, ok := a.bound.Expiry(ck.Value, ss.Handle, ss.KeyThumbprint, now); ok && exp.After(until) {
			until = exp
		}
	}
	return min(max(until.Sub(now), time.Second), liveLifetime)
}

// usedWithoutKey handles a bound session's cookie that came without its key: the request
// is signed out, and the owner hears of it in the log, on the device's row and by mail.
func (a *App) usedWithoutKey(c *gin.Context, ss models.Session) {
	a.log.Warn("this device's sign-in was used without its key", "ip", c.ClientIP(), "session", ss.Handle,
		"path", logPath(c), "request_id", requestIDOf(c))
	ev, recorded, err := a.keys.UsedWithoutKey(context.WithoutCancel(c.Request.Context()), ss, c.ClientIP())
	if err != nil {
		a.log.Error("record a sign-in used without its key", "err", err, "request_id", requestIDOf(c))
		return
	}
	if recorded {
		a.emit(ev)
	}
}

// dbscRoute says whether the request is one of the DBSC endpoints, which take a bound
// session's cookie without its bound cookie (that is what they are for) and are no
// activity of the person.
func (a *App) dbscRoute(c *gin.Context) bool {
	p := c.FullPath()
	return p != "" && (p == a.registerRoute || p == a.refreshRoute)
}
