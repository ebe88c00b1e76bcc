package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The headers of a webhook call.
const (
	// HeaderSignature carries the app's static callback signature, as
	// MaxIM sends it.
	HeaderSignature = "signature"
	// HeaderHMAC carries "t=<unix seconds>,v1=<hex HMAC-SHA256 of
	// "<t>.<body>" under the app's webhook secret>".
	HeaderHMAC      = "X-Imgate-Signature"
	HeaderEventID   = "X-Imgate-Event-Id"
	HeaderEventType = "X-Imgate-Event-Type"
	HeaderAttempt   = "X-Imgate-Attempt"
)

// Sign returns the HeaderHMAC value of body signed with secret at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte("."))
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a HeaderHMAC value against body and secret, and that it
// was made within tolerance of now: what a receiver does with each call.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, sig string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook signature: no timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook signature: made %s from now", d)
	}
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(secret, ts, body)) {
		return errors.New("webhook signature: does not match")
	}
	return nil
}
