package signing

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// KeyID derives a key's kid from its public key: base64url of the first 16
// bytes of its SHA-256, stable and the same in every process.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// jwk is one key as the v2 spec's JWK schema names its members.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	Alg string `json:"alg"`
	Use string `json:"use,omitempty"`
	Kid string `json:"kid"`
	X   string `json:"x"`
}

type jwkSet struct {
	Keys []jwk `json:"keys"`
}

func marshalJWKS(keys []Key) []byte {
	set := jwkSet{Keys: make([]jwk, 0, len(keys))}
	for _, k := range keys {
		set.Keys = append(set.Keys, jwk{Kty: "OKP", Crv: "Ed25519", Alg: "EdDSA", Use: "sig", Kid: k.ID,
			X: base64.RawURLEncoding.EncodeToString(k.Public)})
	}
	b, err := json.Marshal(set)
	if err != nil {
		panic("signing: marshal JWKS: " + err.Error()) // only strings: cannot fail
	}
	return b
}

// ParseJWKS reads a JSON Web Key Set and keeps its Ed25519 keys, in order.
// Keys of other types are skipped (a set may hold them); a set with no
// Ed25519 key, or an Ed25519 key whose x is not 32 bytes, is an error.
func ParseJWKS(b []byte) (Verifier, error) {
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Crv string `json:"crv"`
			Alg string `json:"alg"`
			Use string `json:"use"`
			Kid string `json:"kid"`
			X   string `json:"x"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return Verifier{}, fmt.Errorf("JWKS is not valid JSON: %w", err)
	}
	var v Verifier
	for i, k := range set.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != "EdDSA") {
			continue
		}
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return Verifier{}, fmt.Errorf("JWKS key %d (kid %q): x is not a base64url Ed25519 public key", i, k.Kid)
		}
		v.keys = append(v.keys, ed25519.PublicKey(x))
		v.ids = append(v.ids, k.Kid)
	}
	if len(v.keys) == 0 {
		return Verifier{}, errors.New("JWKS holds no Ed25519 key")
	}
	return v, nil
}
