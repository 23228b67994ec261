package handlers_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/elsewhere-dev/elsewhere/db/dbtest"
	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models/mailer/mailtest"
	"github.com/elsewhere-dev/elsewhere/models/modelstest"
)

// deviceKey is a browser's DBSC key, made in the test: what Chromium keeps in its TPM or,
// in tests, in software.
type deviceKey struct {
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func newES256Key(t testing.TB) *deviceKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &deviceKey{alg: jose.ES256, priv: k}
}

func newRS256Key(t testing.TB) *deviceKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &deviceKey{alg: jose.RS256, priv: k}
}

// proof is a dbsc+jwt answering challenge, signed by k, with k's public key in the
// header when embed (registration) and none otherwise (refresh), as Chromium sends them.
func (k *deviceKey) proof(t testing.TB, challenge string, embed bool) string {
	t.Helper()
	opts := (&jose.SignerOptions{EmbedJWK: embed}).WithType("dbsc+jwt")
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]string{"jti": challenge})
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// proofTyped is a registration proof by k whose typ is typ.
func (k *deviceKey) proofTyped(t testing.TB, challenge, typ string) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, (&jose.SignerOptions{EmbedJWK: true}).WithType(jose.ContentType(typ)))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]string{"jti": challenge})
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

// proofWithJWK is a proof signed by k whose header carries other's public key.
func (k *deviceKey) proofWithJWK(t testing.TB, challenge string, other *deviceKey) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("dbsc+jwt").WithHeader("jwk", jose.JSONWebKey{Key: other.priv.Public()})
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]string{"jti": challenge})
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

// forgedProof is a proof made by hand, as an attacker would: alg "none" with no
// signature, or "HS256" keyed with the public key's own JWK (the classic confusion).
func (k *deviceKey) forgedProof(t testing.TB, alg, challenge string) string {
	t.Helper()
	jwk, _ := json.Marshal(jose.JSONWebKey{Key: k.priv.Public()})
	header, _ := json.Marshal(map[string]any{"alg": alg, "typ": "dbsc+jwt", "jwk": json.RawMessage(jwk)})
	payload, _ := json.Marshal(map[string]string{"jti": challenge})
	enc := base64.RawURLEncoding.EncodeToString
	input := enc(header) + "." + enc(payload)
	switch alg {
	case "none":
		return input + "."
	case "HS256":
		m := hmac.New(sha256.New, jwk)
		m.Write([]byte(input))
		return input + "." + enc(m.Sum(nil))
	}
	t.Fatalf("no forgery for %s", alg)
	return ""
}

var (
	registrationRe = regexp.MustCompile(`^\(ES256 RS256\);path="([^"]+)";challenge="([^"]+)"$`)
	challengeRe    = regexp.MustCompile(`^"([^"]+)";id="([^"]+)"$`)
)

// registration reads the offer of a sign-in's answer: the endpoint and the challenge.
func registration(t testing.TB, r response) (path, challenge string) {
	t.Helper()
	m := registrationRe.FindStringSubmatch(r.header.Get("Secure-Session-Registration"))
	if m == nil {
		t.Fatalf("no registration offered: Secure-Session-Registration %q", r.header.Get("Secure-Session-Registration"))
	}
	return m[1], m[2]
}

// dbscPost is a POST as Chromium makes it to the DBSC endpoints: an empty body, the
// cookies, and no Origin or Sec-Fetch-* headers.
func (d *device) dbscPost(path string, hdr ...string) response {
	d.t.Helper()
	return d.send("POST", path, nil, "", append([]string{"Origin", "", "Sec-Fetch-Site", ""}, hdr...)...)
}

// dbscLogin signs in and returns the registration offered.
func (d *device) dbscLogin(email string) (path, challenge string) {
	d.t.Helper()
	r := d.post("/login", url.Values{"email": {email}, "password": {testPassword}})
	if r.status != http.StatusSeeOther {
		d.t.Fatalf("%s: login: %d", d.name, r.status)
	}
	return registration(d.t, r)
}

// register answers a registration challenge with k and expects it taken.
func (d *device) register(path, challenge string, k *deviceKey) map[string]any {
	d.t.Helper()
	r := d.dbscPost(path, "Secure-Session-Response", k.proof(d.t, challenge, true))
	if r.status != http.StatusOK {
		d.t.Fatalf("%s: register: %d %s", d.name, r.status, r.body)
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(r.body), &cfg); err != nil {
		d.t.Fatalf("%s: register: %v in %s", d.name, err, r.body)
	}
	return cfg
}

// refreshChallenge asks the refresh endpoint for a challenge, as the browser's first POST.
func (d *device) refreshChallenge(path, id string) string {
	d.t.Helper()
	r := d.dbscPost(path, "Sec-Secure-Session-Id", id)
	if r.status != http.StatusForbidden || boundSetCookie(r) != nil {
		d.t.Fatalf("%s: refresh without a proof: %d (bound cookie set: %v), want 403 and none", d.name, r.status, boundSetCookie(r) != nil)
	}
	m := challengeRe.FindStringSubmatch(r.header.Get("Secure-Session-Challenge"))
	if m == nil || m[2] != id {
		d.t.Fatalf("%s: refresh challenge header %q", d.name, r.header.Get("Secure-Session-Challenge"))
	}
	return m[1]
}

// refresh is the browser's whole refresh: challenge, proof, new bound cookie.
func (d *device) refresh(path, id string, k *deviceKey) {
	d.t.Helper()
	ch := d.refreshChallenge(path, id)
	r := d.dbscPost(path, "Sec-Secure-Session-Id", id, "Secure-Session-Response", k.proof(d.t, ch, false))
	if r.status != http.StatusOK || boundSetCookie(r) == nil {
		d.t.Fatalf("%s: refresh: %d %s (bound cookie set: %v)", d.name, r.status, r.body, boundSetCookie(r) != nil)
	}
}

// boundSetCookie is the bound cookie a response sets, or nil.
func boundSetCookie(r response) *http.Cookie {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if strings.HasSuffix(c.Name, "elsewhere_bound") && c.MaxAge > 0 {
			return c
		}
	}
	return nil
}

// thief is a plain HTTP client holding a copy of d's session cookie and nothing else.
func (d *device) thief(ip string) *device {
	th := d.ta.device("thief", d.ua, ip)
	th.setCookie(d.cookie())
	return th
}

// boundFlow signs ann in on a laptop that registers key k, and returns the laptop, its
// handle and the refresh URL.
func boundFlow(t *testing.T, ta *testApp, k *deviceKey) (laptop *device, id, refreshURL string) {
	t.Helper()
	ta.device("setup", uaChromeMac, "203.0.113.1").signup("ann@example.com", testPassword)
	laptop = ta.device("laptop", uaChromeMac, "203.0.113.10")
	path, ch := laptop.dbscLogin("ann@example.com")
	cfg := laptop.register(path, ch, k)
	id, _ = cfg["session_identifier"].(string)
	refreshURL, _ = cfg["refresh_url"].(string)
	if id != laptop.handle() || refreshURL == "" {
		t.Fatalf("session config %v; the laptop's handle is %s", cfg, laptop.handle())
	}
	return laptop, id, refreshURL
}

// TestDeviceBoundSession: a browser that registers a key (ES256 or RS256) stays signed in
// across several bound-cookie lifetimes by refreshing with proofs of that key, its row says
// "Bound to this device"; a copy of its session cookie is refused once the bound cookie it
// was copied with has expired, and the owner's log, the row and an alert mail say so, with
// the address.
func TestDeviceBoundSession(t *testing.T) {
	for _, mk := range []func(testing.TB) *deviceKey{newES256Key, newRS256Key} {
		k := mk(t)
		t.Run(string(k.alg), func(t *testing.T) {
			sink := mailtest.Start(t, "")
			ta := newTestApp(t, withMail(sink.Addr))
			laptop, id, refreshURL := boundFlow(t, ta, k)
			if refreshURL != "/dbsc/refresh" {
				t.Errorf("refresh_url %q", refreshURL)
			}
			if n := ta.query(`SELECT COUNT(*) FROM session_keys WHERE handle = ? AND alg = ?`, id, string(k.alg)); n != "1" {
				t.Fatalf("%s keys stored for the session", n)
			}
			thief := laptop.thief("192.0.2.66") // the cookie copied now, with nothing else

			for i := range 3 { // three lifetimes, each ended by a refresh
				ta.clock.Advance(9 * time.Minute)
				laptop.refresh(refreshURL, id, k)
				ta.clock.Advance(2 * time.Minute)
				if r := laptop.get("/account/security"); r.status != http.StatusOK {
					t.Fatalf("lifetime %d: the bound laptop is refused: %d %s", i, r.status, r.location())
				}
			}
			rows, _ := laptop.page()
			if len(rows) != 2 || !rows[0].current || !strings.Contains(rows[0].text, "Bound to this device") ||
				strings.Contains(rows[1].text, "Bound to this device") {
				t.Fatalf("the laptop's row, and only it, should say it is bound: %+v", rows)
			}

			// The copy: refused as signed out, on a page, a fragment and the stream alike.
			for _, r := range []response{thief.get("/account/security"), thief.do("GET", "/account/security", nil, true),
				thief.get("/account/events")} {
				if r.status != http.StatusSeeOther && r.status != http.StatusUnauthorized {
					t.Fatalf("the copied cookie got %d", r.status)
				}
			}
			_, body := laptop.page()
			if kinds := logKinds(t, body); len(kinds) == 0 || kinds[0] != "key-missing" {
				t.Errorf("the log does not say the sign-in was used without its key: %v", kinds)
			}
			if entry := textOf(findByID(t, body, "security-log")); !strings.Contains(entry, "this device's sign-in was used without its key") ||
				!strings.Contains(entry, "192.0.2.66") {
				t.Errorf("the log does not say it with the copy's address: %s", entry)
			}
			rows, _ = laptop.page()
			if !strings.Contains(rows[0].text, "This device's sign-in was used without its key") {
				t.Errorf("the row does not say it was used without its key: %s", rows[0].text)
			}
			if n := ta.query(`SELECT COUNT(*) FROM events WHERE kind = 'key-missing'`); n != "1" {
				t.Errorf("%s key-missing entries for three refused requests, want 1", n)
			}
			// The new device's alert may have gone already, on its own.
			said := regexp.MustCompile(`this device's sign-in was used without its key\s+\S.*from 192\.0\.2\.66`)
			for i := 0; ; i++ {
				ta.releaseAlerts()
				m := ta.nextMail(sink)
				if said.MatchString(m.Text) {
					break
				}
				if i == 1 {
					t.Fatalf("no alert says the sign-in was used without its key; the last:\n%s", m.Text)
				}
			}
			// The copy kept nothing alive: the row's address is still the laptop's.
			if ip := ta.query(`SELECT ip FROM sessions WHERE handle = ?`, id); ip != "203.0.113.10" {
				t.Errorf("the refused copy left its address on the session: %s", ip)
			}
		})
	}
}

// keyState is what a refused proof must leave as it was: the stored keys, the bound
// cookies handed out, the security log.
func keyState(ta *testApp) string {
	return ta.query(`SELECT COUNT(*) || ':' || COALESCE(MAX(jwk), '') || ':' || COALESCE(MAX(bound_at), 0) FROM session_keys`) +
		" events " + ta.query(`SELECT COUNT(*) FROM events`)
}

// refused checks that r refused a proof: a 4xx, no bound cookie, never a 500.
func refused(t *testing.T, what string, r response, want ...int) {
	t.Helper()
	ok := false
	for _, w := range want {
		ok = ok || r.status == w
	}
	if !ok {
		t.Errorf("%s: %d, want one of %v", what, r.status, want)
	}
	if c := boundSetCookie(r); c != nil {
		t.Errorf("%s: a bound cookie was set", what)
	}
}

// TestDeviceKeyProofsRefused: every proof that is not the session's own key answering
// the session's own fresh challenge is refused, and changes nothing: no key stored or
// replaced, no bound cookie, nothing in the log.
func TestDeviceKeyProofsRefused(t *testing.T) {
	ta := newTestApp(t)
	key, other := newES256Key(t), newES256Key(t)

	t.Run("registration", func(t *testing.T) {
		ta.device("ann-setup", uaChromeMac, "").signup("ann@example.com", testPassword)
		ta.device("bob-setup", uaChromeMac, "").signup("bob@example.com", testPassword)
		ann := ta.device("ann", uaChromeMac, "203.0.113.10")
		path, annCh := ann.dbscLogin("ann@example.com")
		bob := ta.device("bob", uaChromeMac, "203.0.113.20")
		_, bobCh := bob.dbscLogin("bob@example.com")
		before := keyState(ta)
		weak, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			t.Fatal(err)
		}
		weakRSA := &deviceKey{alg: jose.RS256, priv: weak}
		for _, c := range []struct {
			name  string
			proof string
		}{
			{"another session's challenge", key.proof(t, bobCh, true)},
			{"alg none", key.forgedProof(t, "none", annCh)},
			{"alg HS256", key.forgedProof(t, "HS256", annCh)},
			{"no key in the header", key.proof(t, annCh, false)},
			{"signed by another key than the header's", key.proofWithJWK(t, annCh, other)},
			{"an unknown challenge", key.proof(t, "made-up", true)},
			{"typ other than dbsc+jwt", key.proofTyped(t, annCh, "JWT")},
			{"an RSA key of 1024 bits", weakRSA.proof(t, annCh, true)},
			{"garbage", "not.a.jws"},
			{"empty", ""},
		} {
			refused(t, c.name, ann.dbscPost(path, "Secure-Session-Response", c.proof), http.StatusBadRequest)
		}
		if got := keyState(ta); got != before {
			t.Fatalf("refused registrations changed the keys or the log: %s, was %s", got, before)
		}
		// No session cookie: nobody to bind.
		stranger := ta.device("stranger", uaChromeMac, "")
		refused(t, "no session", stranger.dbscPost(path, "Secure-Session-Response", key.proof(t, annCh, true)), http.StatusUnauthorized)

		// The challenges were not spent by the refusals: each still binds its own session, once.
		ann.register(path, annCh, key)
		bob.register(path, bobCh, other)
		refused(t, "a replayed registration challenge", ann.dbscPost(path, "Secure-Session-Response", other.proof(t, annCh, true)),
			http.StatusBadRequest)
		if tp := ta.query(`SELECT jwk FROM session_keys WHERE handle = ?`, ann.handle()); !strings.Contains(tp, `"EC"`) ||
			ta.query(`SELECT COUNT(*) FROM session_keys`) != "2" {
			t.Fatalf("keys after the replay: %s", ta.query(`SELECT COUNT(*) FROM session_keys`))
		}
	})

	t.Run("refresh", func(t *testing.T) {
		ta := newTestApp(t)
		laptop, id, refreshURL := boundFlow(t, ta, key)
		before := keyState(ta)
		ch := laptop.refreshChallenge(refreshURL, id)
		hs := key.forgedProof(t, "HS256", ch)
		none := key.forgedProof(t, "none", ch)
		for _, c := range []struct {
			name  string
			proof string
			want  []int
		}{
			{"signed by another key", other.proof(t, ch, false), []int{http.StatusBadRequest}},
			{"a jwk swapped in, signed by it", other.proof(t, ch, true), []int{http.StatusBadRequest}},
			{"a jwk swapped in, signed by the stored key", key.proofWithJWK(t, ch, other), []int{http.StatusBadRequest}},
			{"alg none", none, []int{http.StatusBadRequest}},
			{"alg HS256", hs, []int{http.StatusBadRequest}},
			{"an unknown challenge", key.proof(t, "made-up", false), []int{http.StatusForbidden}},
			{"garbage", "x.y.z", []int{http.StatusBadRequest}},
		} {
			refused(t, c.name, laptop.dbscPost(refreshURL, "Sec-Secure-Session-Id", id, "Secure-Session-Response", c.proof), c.want...)
		}
		// The right proof of that challenge still works, once.
		good := key.proof(t, ch, false)
		if r := laptop.dbscPost(refreshURL, "Sec-Secure-Session-Id", id, "Secure-Session-Response", good); r.status != http.StatusOK ||
			boundSetCookie(r) == nil {
			t.Fatalf("the right proof after the refusals: %d", r.status)
		}
		refused(t, "a replayed refresh proof", laptop.dbscPost(refreshURL, "Sec-Secure-Session-Id", id, "Secure-Session-Response", good),
			http.StatusForbidden)
		// A registration challenge is not a refresh challenge, and a refresh challenge
		// does not outlive its minute.
		ch = laptop.refreshChallenge(refreshURL, id)
		ta.clock.Advance(61 * time.Second)
		refused(t, "a challenge past its lifetime", laptop.dbscPost(refreshURL, "Sec-Secure-Session-Id", id,
			"Secure-Session-Response", key.proof(t, ch, false)), http.StatusForbidden)
		refused(t, "another session's id", laptop.dbscPost(refreshURL, "Sec-Secure-Session-Id", "0123456789abcdef0123456789abcdef"),
			http.StatusUnauthorized)
		if got := keyState(ta); got != before {
			t.Fatalf("refused refreshes changed the keys or the log: %s, was %s", got, before)
		}
	})

	t.Run("revoked session", func(t *testing.T) {
		ta := newTestApp(t)
		laptop, id, refreshURL := boundFlow(t, ta, key)
		ch := laptop.refreshChallenge(refreshURL, id)
		phone := ta.device("phone", uaSafariIPhone, "198.51.100.2")
		phone.login("ann@example.com", testPassword)
		if r := phone.post("/account/sessions/"+id+"/revoke", url.Values{"password": {testPassword}}); r.status != http.StatusSeeOther {
			t.Fatalf("revoke the laptop: %d", r.status)
		}
		refused(t, "a refresh for a revoked session", laptop.dbscPost(refreshURL, "Sec-Secure-Session-Id", id,
			"Secure-Session-Response", key.proof(t, ch, false)), http.StatusUnauthorized)
		if n := ta.query(`SELECT COUNT(*) FROM session_keys WHERE handle = ?`, id); n != "0" {
			t.Errorf("the revoked session's key is still stored")
		}
		if n := ta.query(`SELECT COUNT(*) FROM session_challenges WHERE handle = ?`, id); n != "0" {
			t.Errorf("the revoked session's challenges are still stored")
		}
	})
}

// TestBoundCookieRules: the bound cookie is refused when it expired, when it was made for
// another session, or altered; a bound session is let through without it only in the
// moment right after registration; the cookie is HttpOnly, and Secure and __Host- named
// on https.
func TestBoundCookieRules(t *testing.T) {
	key := newES256Key(t)
	ta := newTestApp(t)
	laptop, id, refreshURL := boundFlow(t, ta, key)

	// Right after registration, a request without the bound cookie still gets through
	// (Chromium may follow the sign-in's redirect before storing it); seconds later not.
	bare := laptop.thief("203.0.113.10")
	if r := bare.get("/account/security"); r.status != http.StatusOK {
		t.Fatalf("without the bound cookie right after registration: %d", r.status)
	}
	ta.clock.Advance(6 * time.Second)
	if r := bare.get("/account/security"); r.status != http.StatusSeeOther {
		t.Fatalf("without the bound cookie 6 s after registration: %d", r.status)
	}

	// Another session's bound cookie is no use, even one made for the same key (a browser
	// may use one key for several sessions).
	bob := ta.device("bob", uaChromeMac, "")
	bob.signup("bob@example.com", testPassword)
	bobPath, bobCh := bob.dbscLogin("bob@example.com")
	bob.register(bobPath, bobCh, key)
	u, _ := url.Parse(ta.srv.URL)
	var bobBound string
	for _, c := range bob.client.Jar.Cookies(u) {
		if c.Name == "elsewhere_bound" {
			bobBound = c.Value
		}
	}
	swapped := laptop.thief("192.0.2.7")
	swapped.client.Jar.SetCookies(u, []*http.Cookie{{Name: "elsewhere_bound", Value: bobBound, Path: "/"}})
	if r := swapped.get("/account/security"); r.status != http.StatusSeeOther {
		t.Errorf("ann's session with bob's bound cookie: %d", r.status)
	}
	// An altered one neither.
	altered := []byte(bobBound)
	altered[3] ^= 1
	swapped.client.Jar.SetCookies(u, []*http.Cookie{{Name: "elsewhere_bound", Value: string(altered), Path: "/"}})
	if r := swapped.get("/account/security"); r.status != http.StatusSeeOther {
		t.Errorf("an altered bound cookie: %d", r.status)
	}

	// The laptop's own: good until it expires, by the server's clock whatever the browser keeps.
	laptop.refresh(refreshURL, id, key)
	if r := laptop.get("/account/security"); r.status != http.StatusOK {
		t.Fatalf("with a fresh bound cookie: %d", r.status)
	}
	ta.clock.Advance(10*time.Minute + time.Second)
	if r := laptop.get("/account/security"); r.status != http.StatusSeeOther {
		t.Fatalf("with a bound cookie past its lifetime: %d", r.status)
	}

	// https: HttpOnly, Secure, __Host-, Path=/.
	tls := newTestApp(t, func(c *handlers.Config) { c.BaseURL = "https://app.example" })
	d := tls.device("laptop", uaChromeMac, "")
	d.signup("ann@example.com", testPassword)
	login := d.post("/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}})
	path, ch := registration(t, login)
	var session string
	for _, c := range (&http.Response{Header: login.header}).Cookies() {
		if c.Name == "__Host-elsewhere_session" {
			session = c.Value
		}
	}
	// The test's jar keeps Secure cookies from plain http: the browser's cookie by hand.
	r := d.dbscPost(path, "Secure-Session-Response", key.proof(t, ch, true), "Cookie", "__Host-elsewhere_session="+session)
	c := boundSetCookie(r)
	if r.status != http.StatusOK || c == nil || c.Name != "__Host-elsewhere_bound" || !c.Secure || !c.HttpOnly || c.Path != "/" {
		t.Fatalf("bound cookie on https: %d %+v", r.status, c)
	}
	var cfg struct {
		Credentials []struct{ Name, Attributes string }
	}
	json.Unmarshal([]byte(r.body), &cfg)
	if len(cfg.Credentials) != 1 || cfg.Credentials[0].Name != c.Name || !strings.Contains(cfg.Credentials[0].Attributes, "Secure") {
		t.Errorf("session config credentials %+v", cfg.Credentials)
	}
}

// TestBoundSessionEndsAsAnyOther: "Lost or stolen?", a password change, signing out and
// the lifetimes end a bound session as any other, and its key goes with it.
func TestBoundSessionEndsAsAnyOther(t *testing.T) {
	key := newES256Key(t)
	for _, c := range []struct {
		name string
		end  func(ta *testApp, laptop *device, id string)
	}{
		{"lost or stolen", func(ta *testApp, laptop *device, id string) {
			phone := ta.device("phone", uaSafariIPhone, "")
			phone.login("ann@example.com", testPassword)
			if r := phone.post("/account/sessions/"+id+"/lost", url.Values{"password": {testPassword}, "new_password": {"a brand new passphrase 7"}}); r.status != http.StatusSeeOther {
				t.Fatalf("lost: %d %s", r.status, r.body)
			}
		}},
		{"password change", func(ta *testApp, laptop *device, id string) {
			phone := ta.device("phone", uaSafariIPhone, "")
			phone.login("ann@example.com", testPassword)
			if r := phone.post("/account/password", url.Values{"current_password": {testPassword}, "new_password": {"a brand new passphrase 7"}, "logout_others": {"on"}}); r.status != http.StatusSeeOther {
				t.Fatalf("password change: %d", r.status)
			}
		}},
		{"sign out", func(ta *testApp, laptop *device, id string) {
			if r := laptop.post("/logout", nil); r.status != http.StatusSeeOther {
				t.Fatalf("logout: %d", r.status)
			}
		}},
		{"idle lifetime", func(ta *testApp, laptop *device, id string) {
			ta.clock.Advance(3 * time.Hour)
			if err := ta.app.Sweep(t.Context()); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ta := newTestApp(t)
			laptop, id, refreshURL := boundFlow(t, ta, key)
			c.end(ta, laptop, id)
			if n := ta.query(`SELECT COUNT(*) FROM session_keys`); n != "0" {
				t.Errorf("%s keys left after the session ended", n)
			}
			if r := laptop.get("/account/security"); r.status != http.StatusSeeOther {
				t.Errorf("the ended bound session still gets the page: %d", r.status)
			}
			refused(t, "refresh after the end", laptop.dbscPost(refreshURL, "Sec-Secure-Session-Id", id), http.StatusUnauthorized)
		})
	}
}

// TestEmbeddedDeviceBoundSession: mounted under /auth, the registration and refresh
// endpoints are under /auth, and the binding holds on the host's own route behind
// RequireUser: the bound device gets through, a copy of its session cookie does not.
func TestEmbeddedDeviceBoundSession(t *testing.T) {
	key := newES256Key(t)
	clk := &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	d := modelstest.OpenDB(t)
	srv := httptest.NewUnstartedServer(nil)
	a, err := handlers.New(t.Context(), d, handlers.Config{BaseURL: "http://" + srv.Listener.Addr().String(), SignupOpen: true,
		HashParams: &fastHash, Now: clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	if err := r.SetTrustedProxies(nil); err != nil {
		t.Fatal(err)
	}
	a.Mount(r.Group("/auth"))
	r.GET("/dash", a.RequireUser, func(c *gin.Context) { c.String(http.StatusOK, "dash") })
	srv.Config.Handler = r
	srv.Start()
	t.Cleanup(srv.Close)
	h := &hostApp{t: t, srv: srv, app: a, db: d}

	laptop := h.client()
	res := laptop.do("POST", "/auth/signup", url.Values{"email": {"ann@example.com"}, "password": {testPassword}})
	path, ch := registration(t, res)
	if path != "/auth/dbsc/register" {
		t.Fatalf("registration path %q, want it under the mount", path)
	}
	reg := laptop.do("POST", path, nil, "Secure-Session-Response", key.proof(t, ch, true))
	var cfg struct {
		SessionIdentifier string `json:"session_identifier"`
		RefreshURL        string `json:"refresh_url"`
		Scope             struct{ Origin string }
		Credentials       []struct{ Name, Attributes string }
	}
	if err := json.Unmarshal([]byte(reg.body), &cfg); reg.status != http.StatusOK || err != nil {
		t.Fatalf("register: %d %s", reg.status, reg.body)
	}
	if cfg.RefreshURL != "/auth/dbsc/refresh" || cfg.Scope.Origin != srv.URL || len(cfg.Credentials) != 1 ||
		!strings.Contains(cfg.Credentials[0].Attributes, "Path=/") {
		t.Errorf("session config under /auth: %+v", cfg)
	}
	u, _ := url.Parse(srv.URL)
	var session string
	for _, c := range laptop.c.Jar.Cookies(u) {
		if c.Name == "elsewhere_session" {
			session = c.Value
		}
	}
	thief := h.client()
	thief.c.Jar.SetCookies(u, []*http.Cookie{{Name: "elsewhere_session", Value: session, Path: "/"}})
	clk.Advance(6 * time.Second) // past the moment after registration

	if r := laptop.do("GET", "/dash", nil); r.status != http.StatusOK {
		t.Fatalf("the bound laptop on the host's route: %d", r.status)
	}
	if r := thief.do("GET", "/dash", nil); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/auth/login") {
		t.Fatalf("the copy on the host's route: %d %s", r.status, r.location())
	}
	// A refresh through /auth keeps the host's route open past the bound cookie's lifetime.
	clk.Advance(10 * time.Minute)
	ch1 := laptop.do("POST", cfg.RefreshURL, nil, "Sec-Secure-Session-Id", cfg.SessionIdentifier)
	m := challengeRe.FindStringSubmatch(ch1.header.Get("Secure-Session-Challenge"))
	if ch1.status != http.StatusForbidden || m == nil {
		t.Fatalf("refresh under /auth: %d %q", ch1.status, ch1.header.Get("Secure-Session-Challenge"))
	}
	if r := laptop.do("POST", cfg.RefreshURL, nil, "Sec-Secure-Session-Id", cfg.SessionIdentifier,
		"Secure-Session-Response", key.proof(t, m[1], false)); r.status != http.StatusOK {
		t.Fatalf("refresh under /auth with the proof: %d", r.status)
	}
	if r := laptop.do("GET", "/dash", nil); r.status != http.StatusOK {
		t.Fatalf("the bound laptop on the host's route after the refresh: %d", r.status)
	}
}

// TestTwoAppServersDeviceBound: a key registered through server A is proved at refresh
// through server B (the challenge made by B, on one PostgreSQL), and the bound cookie B
// hands out is taken by A; a copy of the session cookie is refused by both.
func TestTwoAppServersDeviceBound(t *testing.T) {
	dsn := dbtest.PostgresDSN(t)
	a := newTestAppOn(t, dsn, []string{"127.0.0.1/32"}, noPolling)
	b := newTestAppOn(t, dsn, []string{"127.0.0.1/32"}, noPolling)
	key := newES256Key(t)
	laptopOnA, id, refreshURL := boundFlow(t, a, key)
	laptopOnB := *laptopOnA
	laptopOnB.ta = b
	thief := laptopOnA.thief("192.0.2.9")
	a.clock.Advance(11 * time.Minute)
	b.clock.Advance(11 * time.Minute)
	if r := laptopOnA.get("/account/security"); r.status != http.StatusSeeOther {
		t.Fatalf("past its bound cookie, without a refresh: %d", r.status)
	}
	laptopOnB.refresh(refreshURL, id, key)
	if r := laptopOnA.get("/account/security"); r.status != http.StatusOK {
		t.Fatalf("A with the bound cookie B handed out: %d", r.status)
	}
	thiefOnB := *thief
	thiefOnB.ta = b
	for _, d := range []*device{thief, &thiefOnB} {
		if r := d.get("/account/security"); r.status != http.StatusSeeOther {
			t.Errorf("the copy on %s: %d", d.ta.base.Host, r.status)
		}
	}
}

// TestHostileProofsNeverFail: whatever a client puts in the DBSC headers is answered with a
// 4xx, never a 5xx: oversized, not base64, not JSON, a payload without a string jti, a jti
// too long, a jwk that is a private or symmetric key.
func TestHostileProofsNeverFail(t *testing.T) {
	ta := newTestApp(t)
	key := newES256Key(t)
	laptop, id, refreshURL := boundFlow(t, ta, key)
	enc := base64.RawURLEncoding.EncodeToString
	privJWK, _ := json.Marshal(jose.JSONWebKey{Key: key.priv})
	octJWK, _ := json.Marshal(jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef")})
	signed := func(header, payload string) string {
		input := enc([]byte(header)) + "." + enc([]byte(payload))
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key.priv}, nil)
		if err != nil {
			t.Fatal(err)
		}
		jws, _ := s.Sign([]byte(payload))
		parts := strings.Split(func() string { out, _ := jws.CompactSerialize(); return out }(), ".")
		return input + "." + parts[2] // a signature over other bytes: must simply not verify
	}
	hostile := []string{
		strings.Repeat("A", 9000),
		"\xff\xfe.\x80.\x81",
		"a.b.c.d.e",
		enc([]byte(`{"alg":"ES256","typ":"dbsc+jwt","jwk":`+string(privJWK)+`}`)) + "." + enc([]byte(`{"jti":"x"}`)) + "." + enc([]byte("sig")),
		enc([]byte(`{"alg":"ES256","typ":"dbsc+jwt","jwk":`+string(octJWK)+`}`)) + "." + enc([]byte(`{"jti":"x"}`)) + "." + enc([]byte("sig")),
		signed(`{"alg":"ES256","typ":"dbsc+jwt"}`, `not json`),
		signed(`{"alg":"ES256","typ":"dbsc+jwt","crit":["exp"]}`, `{"jti":"x"}`),
		key.proof(t, strings.Repeat("j", 300), false),
		key.proof(t, "", false),
	}
	payloadNotJSON := func() string {
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key.priv}, (&jose.SignerOptions{}).WithType("dbsc+jwt"))
		jws, _ := s.Sign([]byte(`{"jti": 7}`))
		out, _ := jws.CompactSerialize()
		return out
	}()
	hostile = append(hostile, payloadNotJSON)
	for i, h := range hostile {
		for _, r := range []response{
			laptop.dbscPost("/dbsc/register", "Secure-Session-Response", h),
			laptop.dbscPost(refreshURL, "Sec-Secure-Session-Id", id, "Secure-Session-Response", h),
			laptop.dbscPost(refreshURL, "Sec-Secure-Session-Id", h[:min(len(h), 100)]),
		} {
			if r.status < 400 || r.status >= 500 || boundSetCookie(r) != nil {
				t.Errorf("hostile proof %d: %d", i, r.status)
			}
		}
	}
}

// TestBoundStreamEndsWithItsCookie: the live stream of a bound session ends, asking the
// page to reconnect, when the bound cookie it was opened with expires: it is never held
// open by a cookie that could no longer open one.
func TestBoundStreamEndsWithItsCookie(t *testing.T) {
	key := newES256Key(t)
	ta := newTestApp(t, noPolling, func(c *handlers.Config) { c.BoundCookieAge = handlers.MinBoundCookieAge })
	laptop, _, _ := boundFlow(t, ta, key)
	s := laptop.openStream(ta.query(`SELECT MAX(id) FROM events`))
	start := time.Now()
	for {
		ev, ok := s.next(handlers.MinBoundCookieAge + 10*time.Second)
		if !ok {
			t.Fatalf("the stream still runs %s after it was opened with a %s bound cookie", time.Since(start).Round(time.Second), handlers.MinBoundCookieAge)
		}
		if ev.name == "reconnect" {
			break
		}
	}
	if d := time.Since(start); d < handlers.MinBoundCookieAge-2*time.Second {
		t.Errorf("the stream ended after %s, before its bound cookie", d.Round(time.Millisecond))
	}
}
