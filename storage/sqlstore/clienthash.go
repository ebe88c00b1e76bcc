package sqlstore

import (
	"encoding/binary"
	"hash/fnv"

	"github.com/imgate/imgate"
)

// clientHash is a hash of what a sender sent in a message with a
// client_mid (0 without one): its conversation, type and content, not
// what the server adds (time, ids). A client_mid dedupes only a message
// of the same hash, so that two distinct messages a client gave one
// client_mid (the web SDK makes them from the clock in milliseconds) are
// both stored, while a resend is not. Never 0 for a client_mid: 0 marks
// the rows stored before the hash, which match any.
func clientHash(m imgate.Message) int64 {
	if m.ClientMID == 0 {
		return 0
	}
	h := fnv.New64a()
	var b [8]byte
	for _, n := range []int64{int64(m.Kind), m.To, int64(m.Type), int64(m.CType), int64(m.Op), m.OpMID} {
		binary.LittleEndian.PutUint64(b[:], uint64(n))
		h.Write(b[:])
	}
	for _, s := range []string{m.Content, m.Config, m.Attachment, m.Ext} {
		// Lengths first, so that moving bytes between fields changes it.
		binary.LittleEndian.PutUint64(b[:], uint64(len(s)))
		h.Write(b[:])
		h.Write([]byte(s))
	}
	if sum := int64(h.Sum64()); sum != 0 {
		return sum
	}
	return 1
}
