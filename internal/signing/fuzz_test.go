package signing

import (
	"bytes"
	"crypto/ed25519"
	"testing"
)

// FuzzParseJWKS: a key set is fetched from a URL a user names, so any
// bytes may arrive. Parsing never panics; what it accepts is only
// well-formed Ed25519 keys, each with its kid; and a set sigtrail
// publishes reads back as the same keys in the same order.
func FuzzParseJWKS(f *testing.F) {
	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	f.Add(marshalJWKS([]Key{{ID: KeyID(pub), Public: pub}}))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"x","e":"AQAB"},{"kty":"OKP","crv":"Ed25519","x":"` + b64(pub) + `"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":null}]}`))
	f.Add([]byte(`{"keys":{}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		v, err := ParseJWKS(doc)
		if err != nil {
			if len(v.keys) != 0 {
				t.Fatalf("error %v with %d keys", err, len(v.keys))
			}
			return
		}
		if len(v.keys) == 0 || len(v.keys) != len(v.ids) {
			t.Fatalf("%d keys, %d kids", len(v.keys), len(v.ids))
		}
		keys := make([]Key, len(v.keys))
		for i, k := range v.keys {
			if len(k) != ed25519.PublicKeySize {
				t.Fatalf("key %d is %d bytes", i, len(k))
			}
			keys[i] = Key{ID: v.ids[i], Public: k}
		}
		again, err := ParseJWKS(marshalJWKS(keys))
		if err != nil || len(again.keys) != len(keys) {
			t.Fatalf("published set does not read back: %v", err)
		}
		for i := range keys {
			if !again.keys[i].Equal(keys[i].Public) || again.ids[i] != keys[i].ID {
				t.Fatalf("key %d changed on the way back", i)
			}
		}
	})
}
