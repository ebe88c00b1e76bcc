package delivery

import (
	"context"

	"github.com/imgate/imgate"
)

// ClearConversation clears conv for user and, once that commits, tells
// the user's sessions on every node (a Hides event): a node that answers
// pulls from its recent messages must stop showing the user what the
// clear hid. (A hidden message, the DELETE operation, is told by its
// Live event.)
func (s *notifyingStore) ClearConversation(ctx context.Context, appID string, user int64, conv imgate.Conv) error {
	if err := s.Store.ClearConversation(ctx, appID, user, conv); err != nil {
		return err
	}
	s.core.publish(ctx, &Event{Kind: Hides, App: appID, Conv: conv, From: user, Users: []int64{user}})
	return nil
}
