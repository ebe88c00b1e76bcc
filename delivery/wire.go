package delivery

import (
	"encoding/json"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/gateway/xsync"
)

// wireEvent is an Event as it travels between nodes: JSON, with each meta
// as its protobuf bytes.
type wireEvent struct {
	Node       string    `json:"node"`
	Kind       EventKind `json:"kind"`
	App        string    `json:"app"`
	ConvKind   int       `json:"conv_kind,omitempty"`
	Peer       int64     `json:"peer,omitempty"`
	From       int64     `json:"from,omitempty"`
	FromDevice uint32    `json:"from_device,omitempty"`
	FirstSeq   int64     `json:"first_seq,omitempty"`
	LastSeq    int64     `json:"last_seq,omitempty"`
	LastID     int64     `json:"last_id,omitempty"`
	Metas      [][]byte  `json:"metas,omitempty"`
	Users      []int64   `json:"users,omitempty"`
	Kick       *Kick     `json:"kick,omitempty"`
	Accepted   int64     `json:"accepted,omitempty"`
	Published  int64     `json:"published,omitempty"`
}

func encodeEvent(node string, e *Event) ([]byte, error) {
	w := wireEvent{
		Node: node, Kind: e.Kind, App: e.App, ConvKind: int(e.Conv.Kind), Peer: e.Conv.Peer, From: e.From,
		FromDevice: e.FromDevice, FirstSeq: e.FirstSeq, LastSeq: e.LastSeq, LastID: e.LastID, Users: e.Users, Kick: e.Kick,
		Accepted: e.Accepted, Published: time.Now().UnixNano(),
	}
	for _, m := range e.Metas {
		b, err := proto.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("delivery: encode meta: %w", err)
		}
		w.Metas = append(w.Metas, b)
	}
	return json.Marshal(w)
}

// decodeEvent returns the event and the node that published it.
func decodeEvent(data []byte) (*Event, string, error) {
	var w wireEvent
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, "", fmt.Errorf("delivery: decode event: %w", err)
	}
	e := &Event{
		Kind: w.Kind, App: w.App, Conv: imgate.Conv{Kind: imgate.ConvKind(w.ConvKind), Peer: w.Peer}, From: w.From,
		FromDevice: w.FromDevice, FirstSeq: w.FirstSeq, LastSeq: w.LastSeq, LastID: w.LastID, Users: w.Users, Kick: w.Kick,
		Accepted: w.Accepted, Published: w.Published,
	}
	for _, b := range w.Metas {
		m := &xsync.Meta{}
		if err := proto.Unmarshal(b, m); err != nil {
			return nil, "", fmt.Errorf("delivery: decode meta: %w", err)
		}
		e.Metas = append(e.Metas, m)
	}
	return e, w.Node, nil
}
