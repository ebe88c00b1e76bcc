package auth

import (
	"crypto/hmac"
	"crypto/sha256"
)

// Sign returns an HMAC-SHA256 of msg under a key derived from the signing
// secret and the purpose, so that a signature made for one purpose (a
// group's QR-code invitation, say) is worthless for any other and never
// reveals the secret that signs tokens.
func (t *Tokens) Sign(purpose string, msg []byte) []byte {
	k := hmac.New(sha256.New, t.cfg.Secret)
	k.Write([]byte(purpose))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write(msg)
	return m.Sum(nil)
}

// Valid reports whether sig is Sign(purpose, msg), in constant time.
func (t *Tokens) Valid(purpose string, msg, sig []byte) bool {
	return hmac.Equal(t.Sign(purpose, msg), sig)
}
