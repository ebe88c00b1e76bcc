package admin

import (
	"context"
	"net/http"
	"sync"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/delivery"
)

// background runs work that outlives its request, such as the rest of a
// broadcast, under a context of its own that close cancels; close then
// waits for the work to end.
type background struct {
	ctx    context.Context
	stop   context.CancelFunc
	mu     sync.Mutex // guards closed, so that no work starts once close waits
	closed bool
	wg     sync.WaitGroup
}

// run starts fn unless the server is closed.
func (b *background) run(fn func(ctx context.Context)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.wg.Go(func() { fn(b.ctx) })
}

func (b *background) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.stop()
	b.wg.Wait()
}

// broadcastRequest is BroadcastMessageRequest.
type broadcastRequest struct {
	Type        *int   `json:"type"`
	ContentType *int   `json:"content_type"`
	Content     string `json:"content"`
	Attachment  string `json:"attachment"`
	Config      string `json:"config"`
	Ext         string `json:"ext"`
}

// maxBroadcastCType is the last content type a broadcast may have
// (COMMAND), as the Swagger bounds it.
const maxBroadcastCType = 6

// broadcastResult is 广播结果.
type broadcastResult struct {
	SendNum int64 `json:"send_num"`
	Success bool  `json:"success"`
}

// POST /message/broadcast BroadcastMessageRequest: a system message to
// every user of the app, in the chat of each with the system sender,
// stored in batches of Config.MaxListLen users. The first batch is stored
// before the answer, so that a bad message fails the request, and
// send_num counts it; in an app with more users the rest follows in the
// background, and a failure there is logged. Users registered meanwhile
// may or may not get it.
func (s *Server) broadcast(r *http.Request, c *call) (any, error) {
	var req broadcastRequest
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	switch {
	case req.Type == nil || *req.Type != targetUsers:
		return nil, badParam("type must be 1 (users)")
	case req.ContentType == nil:
		return nil, badParam("content_type is required")
	case *req.ContentType < 0 || *req.ContentType > maxBroadcastCType:
		return nil, badParam("content_type must be from 0 to %d", maxBroadcastCType)
	}
	b := broadcaster{s: s, from: delivery.Sender{App: c.app.ID, User: imgate.SystemUser, Admin: true}, msg: imgate.Message{
		Kind: imgate.ConvChat, Type: imgate.TypeChat, CType: *req.ContentType, Content: req.Content,
		Config: req.Config, Attachment: req.Attachment, Ext: req.Ext, System: true,
	}}
	n, more, err := b.page(r.Context(), 0)
	if err != nil {
		return nil, err
	}
	if more {
		s.bg.run(func(ctx context.Context) { b.rest(ctx, n) })
	}
	return broadcastResult{SendNum: int64(n), Success: true}, nil
}

// broadcaster sends one message to every user of an app.
type broadcaster struct {
	s    *Server
	from delivery.Sender
	msg  imgate.Message
}

// page sends the message to a page of the app's users from offset, and
// returns how many it reached and whether there may be more.
func (b broadcaster) page(ctx context.Context, offset int) (int, bool, error) {
	limit := b.s.cfg.MaxListLen
	users, err := b.s.store.Users(ctx, b.from.App, offset, limit)
	if err != nil || len(users) == 0 {
		return 0, false, err
	}
	msgs := make([]imgate.Message, len(users))
	for i, u := range users {
		msgs[i] = b.msg
		msgs[i].To = u.ID
	}
	if _, _, err := b.s.core.Send(ctx, b.from, msgs); err != nil {
		return 0, false, err
	}
	return len(users), len(users) == limit, nil
}

// rest sends the pages after the first n users, until the last or ctx
// ends.
func (b broadcaster) rest(ctx context.Context, n int) {
	for {
		got, more, err := b.page(ctx, n)
		n += got
		if err != nil {
			b.s.log.Error("broadcast stopped", "app", b.from.App, "sent", n, "err", err)
			return
		}
		if !more {
			b.s.log.Info("broadcast done", "app", b.from.App, "sent", n)
			return
		}
	}
}
