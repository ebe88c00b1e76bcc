package gateway

import (
	"context"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/gateway/xsync"
)

// Page sizes of sync answers. A forward pull returns up to syncPage metas
// and a next_key to continue from; a history page (is_full_sync) returns
// full_sync_num metas, historyDefault when the client names none, at most
// historyMax.
const (
	syncPage       = 100
	historyDefault = 20
	historyMax     = 100
)

// serveSync answers a pull: the conversation's messages after the key, or,
// with is_full_sync, its history before the key (0: the newest). Sends,
// which carry a meta, are taken by the delivery core once it lands.
func (s *session) serveSync(ctx context.Context, m *xsync.SyncUL) {
	if m.Meta != nil {
		s.send(xsync.Frame_SYNC, &xsync.SyncDL{
			Status:    &xsync.Status{Code: xsync.Status_FAIL, Reason: "this server does not take messages over the socket yet"},
			ClientMid: m.Meta.GetId(), Xid: m.Meta.GetTo(),
		})
		return
	}
	dl, err := s.pull(ctx, m)
	if err != nil {
		dl = &xsync.SyncDL{Status: s.statusOf(err), Xid: m.Xid, IsFullSync: m.IsFullSync}
	}
	s.send(xsync.Frame_SYNC, dl)
}

func (s *session) pull(ctx context.Context, m *xsync.SyncUL) (*xsync.SyncDL, error) {
	conv, err := s.conv(ctx, int64(m.Xid.GetUid()))
	if err != nil {
		return nil, err
	}
	st := s.srv.store
	var msgs []imgate.Message
	limit := syncPage
	if m.IsFullSync {
		limit = int(m.FullSyncNum)
		if limit <= 0 {
			limit = historyDefault
		}
		limit = min(limit, historyMax)
		msgs, err = st.History(ctx, s.app, s.user, conv, int64(m.Key), limit+1)
	} else {
		msgs, err = st.Messages(ctx, s.app, s.user, conv, int64(m.Key), limit+1)
	}
	if err != nil {
		return nil, err
	}
	dl := &xsync.SyncDL{Status: ok(), Xid: m.Xid, IsFullSync: m.IsFullSync, Metas: make([]*xsync.Meta, 0, min(len(msgs), limit))}
	for i, msg := range msgs {
		if i == limit {
			dl.NextKey = uint64(msgs[i-1].ID)
			break
		}
		dl.Metas = append(dl.Metas, metaOf(msg))
	}
	return dl, nil
}

// conv names the conversation a client means by a uid: a group the user
// belongs to, or else a chat with that user. Ids of users and groups come
// from one sequence, so the two cannot be confused.
func (s *session) conv(ctx context.Context, peer int64) (imgate.Conv, error) {
	st := s.srv.store
	_, err := st.Group(ctx, s.app, peer)
	switch imgate.ErrorCode(err) {
	case imgate.CodeGroupNotFound:
		return imgate.Conv{Kind: imgate.ConvChat, Peer: peer}, nil
	case imgate.CodeOK:
	default:
		return imgate.Conv{}, err
	}
	_, member, err := st.Member(ctx, s.app, peer, s.user)
	if err != nil {
		return imgate.Conv{}, err
	}
	if !member {
		return imgate.Conv{}, imgate.Errorf(imgate.CodeNotGroupMember, "not a member of group %d", peer)
	}
	return imgate.Conv{Kind: imgate.ConvGroup, Peer: peer}, nil
}

// statusOf is the Status of a failed request: a refusal for business
// errors, FAIL (and a log line) for internal ones.
func (s *session) statusOf(err error) *xsync.Status {
	switch imgate.ErrorCode(err) {
	case imgate.CodeStore:
		s.srv.log.Error("sync failed", "user", s.user, "err", err)
		return &xsync.Status{Code: xsync.Status_FAIL, Reason: "server error"}
	case imgate.CodeNotGroupMember, imgate.CodeForbidden:
		return &xsync.Status{Code: xsync.Status_UNAUTHORIZED, Reason: imgate.ErrorMessage(err)}
	}
	return &xsync.Status{Code: xsync.Status_INVALID_PARAMETER, Reason: imgate.ErrorMessage(err)}
}

// unread answers the heartbeat with the conversations that have unread
// messages, from the user's read positions.
func (s *session) unread(ctx context.Context) {
	us, err := s.srv.store.Unreads(ctx, s.app, s.user)
	if err != nil {
		s.send(xsync.Frame_UNREAD, &xsync.UnreadDL{Status: s.statusOf(err)})
		return
	}
	out := make([]*xsync.ConversationUnread, len(us))
	for i, u := range us {
		out[i] = &xsync.ConversationUnread{
			Xid: &xsync.XID{Uid: uint64(u.Conv.Peer)}, N: uint32(min(u.Count, 1<<32-1)),
			Type: xsync.ConversationUnread_ConvType(u.Conv.Kind),
		}
	}
	s.send(xsync.Frame_UNREAD, &xsync.UnreadDL{Status: ok(), Unread: out})
}
