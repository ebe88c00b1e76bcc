package delivery

import (
	"context"
	"fmt"
	"strings"

	"github.com/imgate/imgate"
)

// Sender is who sends: a user's device, or an admin token acting as the
// user (REST with from_user_id), which skips the rules that bind users:
// membership, bans and blacklists.
type Sender struct {
	App    string
	User   int64
	Device uint32
	Admin  bool
}

// Banned is the refusal of a message from a user muted in a group, or
// from a member while the group bans all.
type Banned struct{ Err *imgate.Error }

func (b Banned) Error() string { return b.Err.Error() }
func (b Banned) Unwrap() error { return b.Err }

func banned(format string, args ...any) error {
	return Banned{imgate.Errorf(imgate.CodeForbidden, format, args...)}
}

// Send checks and stores messages from one sender, each to its
// conversation (Kind and To), and publishes them. It returns them as
// stored, with dup true where a resend (same client_mid from the device,
// or same transaction_id) found the earlier message, which takes its
// place and is not published again. Nothing is stored unless every
// message passes the checks.
func (c *Core) Send(ctx context.Context, from Sender, msgs []imgate.Message) ([]imgate.Message, []bool, error) {
	if err := c.limits.admit(from, len(msgs)); err != nil {
		return nil, nil, err
	}
	checked := map[imgate.Conv]bool{}
	now := c.now()
	for i := range msgs {
		m := &msgs[i]
		m.AppID, m.From, m.FromDevice = from.App, from.User, from.Device
		if m.At.IsZero() {
			m.At = now
		}
		if err := c.validate(*m); err != nil {
			return nil, nil, err
		}
		conv := imgate.Conv{Kind: m.Kind, Peer: m.To}
		if checked[conv] {
			continue
		}
		k := checkKey{app: from.App, user: from.User, admin: from.Admin, conv: conv}
		if gen, ok := c.checks.passed(k, now); !ok {
			if err := c.check(ctx, from, conv); err != nil {
				return nil, nil, err
			}
			c.checks.pass(k, now, gen)
		}
		checked[conv] = true
	}
	c.sent(ctx, msgs)
	return c.enqueue(ctx, msgs, now)
}

// validate checks one message's own fields.
func (c *Core) validate(m imgate.Message) error {
	if m.Kind != imgate.ConvChat && m.Kind != imgate.ConvGroup {
		return imgate.Errorf(imgate.CodeInvalidParameter, "unknown conversation type %d", m.Kind)
	}
	if m.To <= 0 {
		return imgate.Errorf(imgate.CodeInvalidParameter, "no recipient")
	}
	if m.CType < 0 || m.CType > 8 {
		return imgate.Errorf(imgate.CodeInvalidParameter, "unknown content type %d", m.CType)
	}
	if n := len(m.Content) + len(m.Config) + len(m.Attachment) + len(m.Ext); n > c.cfg.MaxMessageBytes {
		return imgate.Errorf(imgate.CodeInvalidParameter, "message of %d bytes is over the limit of %d", n, c.cfg.MaxMessageBytes)
	}
	// Postgres cannot store NUL in text; SQLite can. Refused here, so
	// that both stores, and every way in, answer alike.
	for _, f := range [...]string{m.Content, m.Config, m.Attachment, m.Ext} {
		if strings.IndexByte(f, 0) >= 0 {
			return imgate.Errorf(imgate.CodeInvalidParameter, "message content, config, attachment and ext may not contain NUL")
		}
	}
	return nil
}

// check tells whether the sender may write to the conversation.
func (c *Core) check(ctx context.Context, from Sender, conv imgate.Conv) error {
	st := c.store
	if conv.Kind == imgate.ConvGroup {
		g, err := st.Group(ctx, from.App, conv.Peer)
		if err != nil {
			return err
		}
		if from.Admin {
			return nil
		}
		m, ok, err := st.Member(ctx, from.App, conv.Peer, from.User)
		if err != nil {
			return fmt.Errorf("delivery: membership of %d in %d: %w", from.User, conv.Peer, err)
		}
		if !ok {
			return imgate.Errorf(imgate.CodeNotGroupMember, "user %d is not a member of group %d", from.User, conv.Peer)
		}
		nowMS := c.now().UnixMilli()
		if m.BanExpire == -1 || m.BanExpire > nowMS {
			return banned("user %d is muted in group %d", from.User, conv.Peer)
		}
		if m.Role == imgate.RoleMember && (g.BanAllExpire == -1 || g.BanAllExpire > nowMS/1000) {
			return banned("group %d bans all members from sending", conv.Peer)
		}
		return nil
	}
	if _, err := st.User(ctx, from.App, conv.Peer); err != nil {
		return err
	}
	if from.Admin || conv.Peer == from.User {
		return nil
	}
	item, err := st.RosterItem(ctx, from.App, conv.Peer, from.User)
	if err != nil {
		return fmt.Errorf("delivery: roster of %d: %w", conv.Peer, err)
	}
	if item.Blocked {
		return imgate.Errorf(imgate.CodeInBlacklist, "user %d has blocked user %d", conv.Peer, from.User)
	}
	return nil
}
