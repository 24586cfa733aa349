// Package sealing encrypts secrets at rest (destination authorization
// values and signing private keys) with keys the operator provides.
//
// A sealed value is self-describing text, "sealed:v1:<key id>:<base64url
// of nonce||AES-256-GCM ciphertext>", so sealed and plaintext values can
// coexist in one database while it migrates, and a value names the key
// that opens it. The key file holds one or more keys: the first seals,
// all of them open, which makes rotation "add a key on top, restart,
// reseal, remove the old key".
//
// Store wraps a store.Store, sealing those fields on write and opening
// them on read, so no backend knows about encryption.
package sealing
