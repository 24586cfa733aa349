package signing

import (
	"crypto/ed25519"

	"github.com/sigtrail/sigtrail/internal/audit"
)

// boundSigner signs with one key, whatever rotation does meanwhile.
type boundSigner struct{ key ed25519.PrivateKey }

func (b boundSigner) Sign(msg []byte) []byte { return ed25519.Sign(b.key, msg) }

// ActiveKey returns the public key that signs now and a signer bound to
// it, so a caller that must name the key beside its signature (a
// checkpoint note's key hash) cannot have a rotation slip in between.
func (k *Keyring) ActiveKey() (ed25519.PublicKey, audit.Signer) {
	st := k.current()
	return st.signer.Public().(ed25519.PublicKey), boundSigner{st.signer}
}

// PublicKeys returns the verifier's keys, in the order they are tried.
func (v Verifier) PublicKeys() []ed25519.PublicKey {
	return append([]ed25519.PublicKey(nil), v.keys...)
}
