package files

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Purpose is what an upload ticket may store.
type Purpose string

// Upload purposes.
const (
	PurposeChat        Purpose = "chat"
	PurposeUserAvatar  Purpose = "user_avatar"
	PurposeGroupAvatar Purpose = "group_avatar"
)

// Ticket is the signed content of an upload URL: one object of one app,
// stored by one user, for one conversation or avatar, of one file type,
// before Expires. It is single-purpose: the object name is fixed, so the
// URL stores at most one file.
type Ticket struct {
	Purpose  Purpose `json:"p"`
	App      string  `json:"a"`
	Uploader int64   `json:"u"`
	ToType   int     `json:"k,omitempty"` // 1 user, 2 group; chat files
	ToID     int64   `json:"d,omitempty"` // the peer or group; the group of a group avatar
	FileType int     `json:"t,omitempty"` // MaxIM's file_type; chat files
	Object   string  `json:"o"`           // the object name within the app
	Expires  int64   `json:"e"`           // unix seconds
}

// FileSign is the signed content of a chat file's download URL: which
// object of which app, which conversation it was sent in and by whom.
// Readers are the members of that conversation; a forward signs a new
// FileSign for the same object and another conversation.
type FileSign struct {
	App      string `json:"a"`
	Object   string `json:"o"`
	FileType int    `json:"t"`
	ToType   int    `json:"k"`
	ToID     int64  `json:"d"`
	From     int64  `json:"f"`
}

// Signer signs and verifies tickets and file signs with one key.
type Signer struct {
	key []byte
}

// Errors of Signer's verification.
var (
	ErrBadSign = errors.New("files: bad signature")
	ErrExpired = errors.New("files: upload URL expired")
)

// NewSigner derives the signing key from the server's secret, so that the
// same secret signs nothing else alike.
func NewSigner(secret []byte) *Signer {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("imgate files v1"))
	return &Signer{key: m.Sum(nil)}
}

// The domains keep a file sign from passing as a ticket and back.
const (
	domainTicket = "ticket\x00"
	domainFile   = "file\x00"
)

// Ticket returns the URL-safe signed form of t.
func (s *Signer) Ticket(t Ticket) string { return s.sign(domainTicket, t) }

// FileSign returns the URL-safe signed form of f. It holds only letters,
// digits, '-', '_' and '.', so it can end a URL after "file_sign=".
func (s *Signer) FileSign(f FileSign) string { return s.sign(domainFile, f) }

// VerifyTicket returns the ticket of a signed form, ErrBadSign if it was
// not signed here, ErrExpired if it has expired at now.
func (s *Signer) VerifyTicket(raw string, now time.Time) (Ticket, error) {
	var t Ticket
	if err := s.verify(domainTicket, raw, &t); err != nil {
		return t, err
	}
	if now.Unix() > t.Expires {
		return t, ErrExpired
	}
	return t, nil
}

// VerifyFileSign returns the file sign of a signed form, ErrBadSign if it
// was not signed here.
func (s *Signer) VerifyFileSign(raw string) (FileSign, error) {
	var f FileSign
	return f, s.verify(domainFile, raw, &f)
}

func (s *Signer) sign(domain string, v any) string {
	payload, _ := json.Marshal(v) // plain structs of strings and numbers
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(s.mac(domain, p))
}

func (s *Signer) verify(domain, raw string, v any) error {
	p, sig, ok := strings.Cut(raw, ".")
	if !ok || len(raw) > 2048 {
		return ErrBadSign
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(domain, p)) {
		return ErrBadSign
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || json.Unmarshal(payload, v) != nil {
		return ErrBadSign
	}
	return nil
}

func (s *Signer) mac(domain, payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(domain))
	m.Write([]byte(payload))
	return m.Sum(nil)
}
