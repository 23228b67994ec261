package modelstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
)

// Authenticator is a software passkey authenticator for tests: ECDSA P-256 keys,
// attestation "none", assertions signed over what the browser would send. Its fields are
// what a test changes to play a browser at another origin, an authenticator that skips
// user verification, or a cloned one whose counter goes backwards.
type Authenticator struct {
	Origin string   // the origin the "browser" reports in clientDataJSON
	RPID   string   // the relying party id hashed into authenticator data ("" : the options')
	AAGUID [16]byte // what the authenticator says it is
	NoUV   bool     // answer without user verification
	Creds  []*Credential
}

// Credential is one passkey the authenticator holds.
type Credential struct {
	ID         []byte
	UserHandle []byte
	Key        *ecdsa.PrivateKey
	Count      uint32 // the signature counter; each assertion adds one first
}

var b64 = base64.RawURLEncoding

// Create answers navigator.credentials.create options (as the server sent them, JSON)
// with a new resident credential: the PublicKeyCredential JSON a browser would post.
func (a *Authenticator) Create(options []byte) ([]byte, error) {
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			RP        struct {
				ID string `json:"id"`
			} `json:"rp"`
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	user, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		return nil, err
	}
	c := &Credential{ID: make([]byte, 32), UserHandle: user, Key: key}
	rand.Read(c.ID)
	a.Creds = append(a.Creds, c)

	pub := webauthncose.EC2PublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: 2, Algorithm: -7},
		Curve:         1, XCoord: pad32(key.X.Bytes()), YCoord: pad32(key.Y.Bytes()),
	}
	cose, err := webauthncbor.Marshal(pub)
	if err != nil {
		return nil, err
	}
	attested := append([]byte{}, a.AAGUID[:]...)
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(c.ID)))
	attested = append(attested, c.ID...)
	attested = append(attested, cose...)
	authData := a.authData(o.PublicKey.RP.ID, 0x40, 0, attested)
	attObj, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": authData})
	if err != nil {
		return nil, err
	}
	clientData := a.clientData("webauthn.create", o.PublicKey.Challenge)
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": b64.EncodeToString(c.ID), "type": "public-key",
		"clientExtensionResults": map[string]any{}, "authenticatorAttachment": "platform",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData),
			"attestationObject": b64.EncodeToString(attObj),
			"transports":        []string{"internal"},
		},
	})
}

// Get answers navigator.credentials.get options with an assertion by cred (nil: the
// first credential the options allow, or the first held).
func (a *Authenticator) Get(options []byte, cred *Credential) ([]byte, error) {
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			RPID      string `json:"rpId"`
			Allow     []struct {
				ID string `json:"id"`
			} `json:"allowCredentials"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, err
	}
	if cred == nil {
		for _, c := range a.Creds {
			if len(o.PublicKey.Allow) == 0 {
				cred = c
				break
			}
			for _, al := range o.PublicKey.Allow {
				if al.ID == b64.EncodeToString(c.ID) {
					cred = c
				}
			}
			if cred != nil {
				break
			}
		}
	}
	if cred == nil {
		return nil, errors.New("no credential for these options")
	}
	cred.Count++
	authData := a.authData(o.PublicKey.RPID, 0, cred.Count, nil)
	clientData := a.clientData("webauthn.get", o.PublicKey.Challenge)
	hash := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(append([]byte{}, authData...), hash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, cred.Key, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(cred.ID), "rawId": b64.EncodeToString(cred.ID), "type": "public-key",
		"clientExtensionResults": map[string]any{}, "authenticatorAttachment": "platform",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData),
			"authenticatorData": b64.EncodeToString(authData),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(cred.UserHandle),
		},
	})
}

// authData is the authenticator data: the RP id's hash, the flags (user present, user
// verified unless NoUV, plus extra), the counter and any attested credential data.
func (a *Authenticator) authData(rpID string, extra byte, count uint32, attested []byte) []byte {
	if a.RPID != "" {
		rpID = a.RPID
	}
	h := sha256.Sum256([]byte(rpID))
	flags := byte(0x01) | extra
	if !a.NoUV {
		flags |= 0x04
	}
	out := append(h[:], flags)
	out = binary.BigEndian.AppendUint32(out, count)
	return append(out, attested...)
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

func pad32(b []byte) []byte {
	out := make([]byte, 32)
	copy(out[32-len(b):], b)
	return out
}
