package xsync_test

import (
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate/gateway/xsync"
)

// msg builds protobuf bytes field by field, independently of the
// generated code, so that these tests check the field numbers against
// MaxIM's (maxim-api-notes §3.3) rather than against themselves.
type msg []byte

func (m msg) varint(num protowire.Number, v uint64) msg {
	m = protowire.AppendTag(m, num, protowire.VarintType)
	return protowire.AppendVarint(m, v)
}

func (m msg) bytes(num protowire.Number, b []byte) msg {
	m = protowire.AppendTag(m, num, protowire.BytesType)
	return protowire.AppendBytes(m, b)
}

func (m msg) str(num protowire.Number, s string) msg { return m.bytes(num, []byte(s)) }

func xid(uid uint64, sn uint32) msg { return msg(nil).varint(1, uid).varint(2, uint64(sn)) }

// TestSDKProvision decodes the first frame MaxIM's web SDK sends.
func TestSDKProvision(t *testing.T) {
	prov := msg(nil).bytes(2, xid(100000001, 1000000007)).str(6, "tok").varint(7, 6).
		str(8, "2.0.0").str(10, "100000001_abc").str(13, "Web")
	frame := msg(nil).varint(1, 0).varint(2, 0).varint(3, 3).bytes(4, prov)

	var f xsync.Frame
	if err := proto.Unmarshal(frame, &f); err != nil {
		t.Fatal(err)
	}
	if f.Command != xsync.Frame_PROVISION || f.Vsn != xsync.Frame_XSYNC_V1 {
		t.Fatalf("frame = %v, want a PROVISION of XSYNC_V1", &f)
	}
	var p xsync.Provision
	if err := proto.Unmarshal(f.Payload, &p); err != nil {
		t.Fatal(err)
	}
	if p.Xid.GetUid() != 100000001 || p.Xid.GetDeviceSN() != 1000000007 || p.Token != "tok" ||
		p.OsType != xsync.Provision_WEB || p.SdkVsn != "2.0.0" || p.DeviceGuid != "100000001_abc" || p.DeviceInfo != "Web" {
		t.Errorf("provision = %v", &p)
	}
}

// TestSDKSend decodes a text message as the SDK sends it, and encodes
// the server's ack so that the SDK finds its fields where it reads them.
func TestSDKSend(t *testing.T) {
	body := msg(nil).varint(1, 2).str(4, "hello").varint(5, 0)
	meta := msg(nil).varint(1, 1732550000123).bytes(2, xid(7, 1)).bytes(3, xid(8, 0)).
		varint(4, 1732550000000).varint(5, 1).bytes(6, body)
	var ul xsync.SyncUL
	if err := proto.Unmarshal(msg(nil).bytes(3, meta), &ul); err != nil {
		t.Fatal(err)
	}
	m := ul.Meta
	if m.GetId() != 1732550000123 || m.From.GetUid() != 7 || m.To.GetUid() != 8 || m.Ns != xsync.Meta_MESSAGE {
		t.Fatalf("meta = %v", m)
	}
	var b xsync.MessageBody
	if err := proto.Unmarshal(m.Payload, &b); err != nil || b.Type != xsync.MessageBody_CHAT || b.Content != "hello" {
		t.Fatalf("body = %v, %v", &b, err)
	}

	ack, err := proto.Marshal(&xsync.SyncDL{
		Status: &xsync.Status{Code: xsync.Status_OK}, ClientMid: 1732550000123, ServerMid: 42, ServerTime: 99,
		Xid: &xsync.XID{Uid: 8},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[protowire.Number]uint64{5: 1732550000123, 6: 42, 7: 99}
	for len(ack) > 0 {
		num, typ, n := protowire.ConsumeTag(ack)
		ack = ack[n:]
		if typ == protowire.VarintType {
			v, n := protowire.ConsumeVarint(ack)
			if w, ok := want[num]; ok && v != w {
				t.Errorf("SyncDL field %d = %d, want %d", num, v, w)
			}
			delete(want, num)
			ack = ack[n:]
			continue
		}
		ack = ack[protowire.ConsumeFieldValue(num, typ, ack):]
	}
	if len(want) > 0 {
		t.Errorf("SyncDL lacks fields %v", want)
	}
}

// TestEnums spot-checks enum numbers the SDK branches on.
func TestEnums(t *testing.T) {
	for name, c := range map[string]struct{ got, want int32 }{
		"Status.TOO_MANY_DEVICES":        {int32(xsync.Status_TOO_MANY_DEVICES), 13},
		"Status.RATE_LIMIT_EXCEEDED":     {int32(xsync.Status_RATE_LIMIT_EXCEEDED), 20},
		"Meta.RTC_SIGNAL":                {int32(xsync.Meta_RTC_SIGNAL), 8},
		"MessageOperation.REPLACE":       {int32(xsync.MessageOperation_REPLACE), 9},
		"GroupNotice.FILE_UPDATED":       {int32(xsync.GroupNotice_FILE_UPDATED), 28},
		"RosterNotice.UNMUTED":           {int32(xsync.RosterNotice_UNMUTED), 10},
		"UserNotice.KICK_BY_SAME_DEVICE": {int32(xsync.UserNotice_KICK_BY_SAME_DEVICE), 4},
		"MessageBody.GROUPCHAT":          {int32(xsync.MessageBody_GROUPCHAT), 3},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", name, c.got, c.want)
		}
	}
}
