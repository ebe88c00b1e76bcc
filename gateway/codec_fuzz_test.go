package gateway

import (
	"bytes"
	"testing"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/imgate/imgate/gateway/xsync"
)

// fuzzFrame is a binary frame of the command carrying msg, built the way
// MaxIM's SDKs build them.
func fuzzFrame(tb testing.TB, f *xsync.Frame, msg proto.Message) []byte {
	tb.Helper()
	if msg != nil {
		payload, err := proto.Marshal(msg)
		if err != nil {
			tb.Fatal(err)
		}
		f.Payload = payload
	}
	data, err := proto.Marshal(f)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// codecSeeds are real frames of both protocols and near misses of them.
func codecSeeds(tb testing.TB) (binary [][]byte, text []string) {
	provision := &xsync.Provision{
		Xid: &xsync.XID{Uid: 42, DeviceSN: 7}, Token: "tok", DeviceGuid: "guid", OsType: xsync.Provision_WEB,
		SdkVsn: "4.0", IsManualLogin: true, DeviceInfo: "fuzz", LastLoginTime: 1 << 40, Password: "pw",
	}
	sync := &xsync.SyncUL{Xid: &xsync.XID{Uid: 5}, Key: 99, IsFullSync: true, FullSyncNum: -20}
	send := &xsync.SyncUL{Meta: &xsync.Meta{Id: 1, From: &xsync.XID{Uid: 1}, To: &xsync.XID{Uid: 2, DeviceSN: 3},
		Timestamp: 1700000000000, Ns: xsync.Meta_MESSAGE, Payload: []byte("\x08\x01")}}
	binary = [][]byte{
		{},
		{0xff, 0xff, 0xff},
		[]byte("not protobuf at all"),
		fuzzFrame(tb, &xsync.Frame{Command: xsync.Frame_PROVISION}, provision),
		fuzzFrame(tb, &xsync.Frame{Command: xsync.Frame_UNREAD}, &xsync.UnreadUL{}),
		fuzzFrame(tb, &xsync.Frame{Command: xsync.Frame_SYNC}, sync),
		fuzzFrame(tb, &xsync.Frame{Command: xsync.Frame_SYNC}, send),
		fuzzFrame(tb, &xsync.Frame{Command: xsync.Frame_NOTICE}, &xsync.Notice{Xid: &xsync.XID{Uid: 8}}),
		fuzzFrame(tb, &xsync.Frame{Command: xsync.Frame_SYNC, Vsn: xsync.Frame_XSYNC_V2, CheckSum: 12, Tag: "t"}, sync),
		fuzzFrame(tb, &xsync.Frame{Command: xsync.Frame_SYNC, CompressMethod: xsync.Frame_ZLIB}, sync),
		fuzzFrame(tb, &xsync.Frame{Command: xsync.Frame_PROVISION, EncryptMethod: xsync.Frame_AES_CBC_256, EncryptKey: []byte("k")}, provision),
		fuzzFrame(tb, &xsync.Frame{Command: 9}, sync),
		fuzzFrame(tb, &xsync.Frame{Command: -1}, sync),
		fuzzFrame(tb, &xsync.Frame{Command: xsync.Frame_SYNC, Payload: []byte{0xff, 0xff}}, nil),
		// A truncated PROVISION and one with a string that is not UTF-8.
		fuzzFrame(tb, &xsync.Frame{Command: xsync.Frame_PROVISION}, provision)[:20],
		fuzzFrame(tb, &xsync.Frame{Command: xsync.Frame_PROVISION, Payload: []byte("\x32\x02\x08\x01\x32\x01\xff")}, nil),
	}
	text = []string{
		``,
		`{}`,
		`null`,
		`[]`,
		`{"command":"SYNC","payload":{"xid":{"uid":"5"}}}`,
		`{"command":"SYNC","payload":{"xid":{"uid":5,"deviceSN":2},"key":"18446744073709551615","isFullSync":true,"fullSyncNum":-3}}`,
		`{"command":"SYNC","payload":{"meta":{"id":"1","to":{"uid":"2"},"ns":"MESSAGE","payload":"CAE="}}}`,
		`{"command":"UNREAD"}`,
		`{"command":"UNREAD","payload":{}}`,
		`{"command":"UNREAD","payload":null}`,
		`{"command":"NOTICE","payload":{"xid":{"uid":"8"}}}`,
		`{"command":"PROVISION","payload":{"xid":{"uid":"42"},"token":"tok","osType":"WEB","deviceGuid":"g","lastLoginTime":"1"}}`,
		`{"command":"PROVISION","payload":{"xid":{"uid":"-1"}}}`,
		`{"command":"PROVISION","payload":{"xid":{"uid":1e309}}}`,
		`{"command":"SYNC","payload":{"xid":{"uid":"5"},"unknown":1}}`,
		`{"command":"sync","payload":{}}`,
		`{"command":"FROB","payload":{}}`,
		`{"command":3}`,
		`{"command":"SYNC","payload":"x"}`,
		`{"command":"SYNC","payload":[[[[[[[[[]]]]]]]]]}`,
		`{"command":"SYNC","payload":{"xid":{"uid":"5"}}} trailing`,
		`{"command":"SYNC","command":"UNREAD"}`,
		"{\"command\":\"SYNC\",\"payload\":{\"xid\":{\"uid\":\"\xff\"}}}",
	}
	return binary, text
}

func FuzzBinaryDecode(f *testing.F) {
	binary, _ := codecSeeds(f)
	for _, b := range binary {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, binaryCodec{}, websocket.MessageBinary, data)
		// The binary protocol refuses text messages whatever they hold.
		if _, m, err := (binaryCodec{}).decode(websocket.MessageText, data); err == nil || m != nil {
			t.Fatalf("a text message on the binary protocol decoded: %v, %v", m, err)
		}
	})
}

func FuzzJSONDecode(f *testing.F) {
	_, text := codecSeeds(f)
	for _, s := range text {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, jsonCodec{}, websocket.MessageText, data)
		if _, m, err := (jsonCodec{}).decode(websocket.MessageBinary, data); err == nil || m != nil {
			t.Fatalf("a binary message on the JSON protocol decoded: %v, %v", m, err)
		}
	})
}

// checkDecode decodes data and, when it is a frame, checks that its
// message survives encoding and decoding again, in the same codec and in
// the other one.
func checkDecode(t *testing.T, c codec, typ websocket.MessageType, data []byte) {
	t.Helper()
	orig := bytes.Clone(data)
	cmd, msg, err := c.decode(typ, data)
	if !bytes.Equal(orig, data) {
		t.Fatalf("decode changed its input")
	}
	if err != nil {
		if msg != nil {
			t.Fatalf("decode failed (%v) but returned a message %v", err, msg)
		}
		if err.Error() == "" {
			t.Fatalf("decode failed with an empty error")
		}
		return
	}
	if msg == nil {
		t.Fatalf("decode succeeded without a message (command %s)", cmd)
	}
	want, err := xsync.NewUp(cmd)
	if err != nil {
		t.Fatalf("decode succeeded with command %d, which has no UL message: %v", cmd, err)
	}
	if want.ProtoReflect().Descriptor() != msg.ProtoReflect().Descriptor() {
		t.Fatalf("command %s decoded into %T, want %T", cmd, msg, want)
	}
	for _, re := range []codec{c, binaryCodec{}, jsonCodec{}} {
		m := msg
		if _, same := re.(binaryCodec); !same {
			// protojson has no room for the unknown fields protobuf keeps.
			m = proto.Clone(msg)
			discardUnknown(m.ProtoReflect())
		}
		rtyp, raw, err := re.encode(cmd, m)
		if err != nil {
			t.Fatalf("%T: encode %s %v after decoding it: %v", re, cmd, m, err)
		}
		cmd2, m2, err := re.decode(rtyp, raw)
		if err != nil {
			t.Fatalf("%T: decode of the re-encoded %s %v failed: %v\nencoded: %q", re, cmd, m, err, raw)
		}
		if cmd2 != cmd || !proto.Equal(m, m2) {
			t.Fatalf("%T: round trip changed the frame:\n got %s %v\nwant %s %v", re, cmd2, m2, cmd, m)
		}
	}
}

// discardUnknown drops the unknown fields of m and of its messages.
func discardUnknown(m protoreflect.Message) {
	m.SetUnknown(nil)
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len(); i++ {
				discardUnknown(v.List().Get(i).Message())
			}
		case fd.Message() != nil && !fd.IsMap():
			discardUnknown(v.Message())
		}
		return true
	})
}
