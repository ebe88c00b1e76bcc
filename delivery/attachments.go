package delivery

import (
	"context"

	"github.com/imgate/imgate"
)

// Attachments is told of the messages that carry an attachment, which may
// name a file the server stores: when one is sent, so that files never
// sent can be told from the others, and when one is recalled, so that
// its file is withdrawn from the conversation. The file service
// implements it; both calls are made on the sender's request, before it
// is answered, and only for messages whose Attachment is not empty.
type Attachments interface {
	// Sent is called before the message is stored.
	Sent(ctx context.Context, m imgate.Message)
	// Recalled is called after the message was recalled.
	Recalled(ctx context.Context, m imgate.Message)
}

// sent tells Attachments of the messages with an attachment.
func (c *Core) sent(ctx context.Context, msgs []imgate.Message) {
	if c.cfg.Attachments == nil {
		return
	}
	for _, m := range msgs {
		if m.Attachment != "" {
			c.cfg.Attachments.Sent(ctx, m)
		}
	}
}

// recalled tells Attachments of a recalled message with an attachment.
func (c *Core) recalled(ctx context.Context, m imgate.Message) {
	if c.cfg.Attachments != nil && m.Attachment != "" {
		c.cfg.Attachments.Recalled(ctx, m)
	}
}
