package gateway

import (
	"bytes"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/imgate/imgate/gateway/xsync"
)

// A session's writer merges eager pushes that queued up behind each
// other into one WebSocket message: one SyncDL carrying all their metas,
// in order. Under a group's fan-out that turns many small writes per
// socket into few, without re-encoding anything: in protobuf, repeated
// fields of concatenated encodings append, so a SyncDL whose other
// fields are the same is its head, every push's metas, then its tail.
//
// What merges: adjacent binary pushes (pushFrame set) whose SyncDLs have
// byte-identical fields besides metas (status OK, the same xid,
// is_eager_sync, nothing else), up to mergeMaxMetas metas and
// mergeMaxBytes bytes per frame. Anything else (answers, pulls, NOTICEs,
// JSON frames) is written as it is and ends a run, so nothing is
// reordered.
const (
	// mergeMaxMetas is a pull page (syncPage): the metas MaxIM's SDKs
	// already take in one SyncDL.
	mergeMaxMetas = syncPage
	// mergeMaxBytes bounds a merged frame at the size imgate accepts from
	// clients by default (--max-frame-bytes). A push that is larger alone
	// is written alone, as before.
	mergeMaxBytes = 64 << 10
	// mergeKeepBytes bounds the merge buffer a writer keeps between
	// writes; a larger merged frame gets a buffer of its own.
	mergeKeepBytes = 16 << 10
)

// pushFrame is the layout of a binary Frame{SYNC, SyncDL{…, eager}}:
// its SyncDL encoding is head, then n metas (the bytes of their field-2
// entries), then tail. The slices alias the frame's data, which is
// shared by every session a group message goes to: read-only.
type pushFrame struct {
	head, metas, tail []byte
	n                 int
}

// splitPush finds the layout of an encoded eager push, or returns nil if
// the frame is not laid out as Go's protobuf encodes Frame{command SYNC,
// payload} with the metas in one run, in which case it is never merged.
func splitPush(data []byte) *pushFrame {
	var payload []byte
	for b := data; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil
		}
		b = b[n:]
		switch {
		case num == 3 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 || v != uint64(xsync.Frame_SYNC) {
				return nil
			}
			b = b[n:]
		case num == 4 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil
			}
			payload, b = v, b[n:]
		default:
			// Any other field of Frame (compression, encryption,
			// version, tag) would not survive the rebuilt header.
			return nil
		}
	}
	p := &pushFrame{}
	start, end := -1, -1
	for off := 0; off < len(payload); {
		num, typ, n := protowire.ConsumeField(payload[off:])
		if n < 0 {
			return nil
		}
		if num == 2 && typ == protowire.BytesType {
			if start < 0 {
				start = off
			} else if end != off {
				return nil // metas not in one run
			}
			end = off + n
			p.n++
		}
		off += n
	}
	if p.n == 0 {
		return nil
	}
	p.head, p.metas, p.tail = payload[:start], payload[start:end], payload[end:]
	return p
}

// mergeEnd returns the end of the run of messages from q[i] that go in
// one frame: i+1 when q[i] merges with nothing.
func mergeEnd(q []outMsg, i int) int {
	p := q[i].push
	if p == nil {
		return i + 1
	}
	n, size := p.n, frameHeaderMax+len(p.head)+len(p.metas)+len(p.tail)
	j := i + 1
	for ; j < len(q); j++ {
		o := q[j].push
		if o == nil || q[j].typ != q[i].typ || !bytes.Equal(o.head, p.head) || !bytes.Equal(o.tail, p.tail) ||
			n+o.n > mergeMaxMetas || size+len(o.metas) > mergeMaxBytes {
			break
		}
		n, size = n+o.n, size+len(o.metas)
	}
	return j
}

// frameHeaderMax bounds the bytes of a Frame before its payload: the
// command's tag and value, the payload's tag and a length of at most
// mergeMaxBytes (a varint of 3 bytes).
const frameHeaderMax = 2 + 1 + 3

// appendMerged appends to b the Frame carrying the merged SyncDL of run,
// a result of mergeEnd.
func appendMerged(b []byte, run []outMsg) []byte {
	p := run[0].push
	size := len(p.head) + len(p.tail)
	for _, m := range run {
		size += len(m.push.metas)
	}
	b = protowire.AppendTag(b, 3, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(xsync.Frame_SYNC))
	b = protowire.AppendTag(b, 4, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	b = append(b, p.head...)
	for _, m := range run {
		b = append(b, m.push.metas...)
	}
	return append(b, p.tail...)
}
