package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/imgate/imgate"
)

// HideMessage hides the message id of conv from user alone:
// CodeInvalidParameter if conv, as user sees it, has no such message,
// CodeUserNotFound if user is no user of the app. Hiding it again does
// nothing.
func (s *Store) HideMessage(ctx context.Context, appID string, user int64, conv imgate.Conv, id int64) error {
	k, err := keyFor(appID, user, conv)
	if err != nil {
		return fmt.Errorf("sqlstore: hide message %d from user %d: %w", id, user, err)
	}
	err = s.write(ctx, func(tx *sqlx.Tx) error {
		var found struct {
			Message bool `db:"message"`
			User    bool `db:"is_user"`
		}
		err := tx.GetContext(ctx, &found, tx.Rebind("SELECT"+
			" EXISTS (SELECT 1 FROM messages m WHERE m.id = ? AND m.conv_id ="+
			" (SELECT c.id FROM conversations c WHERE "+convWhere+")) AS message,"+
			" EXISTS (SELECT 1 FROM users WHERE app_id = ? AND id = ?) AS is_user"),
			id, k.app, int(k.kind), k.a, k.b, appID, user)
		switch {
		case err != nil:
			return err
		case !found.Message:
			return imgate.Errorf(imgate.CodeInvalidParameter, "no message %d in the conversation of user %d with %d", id, user, conv.Peer)
		case !found.User:
			return errUserNotFound(appID, user)
		}
		_, err = tx.ExecContext(ctx, tx.Rebind("INSERT INTO message_hides (app_id, user_id, message_id) VALUES (?, ?, ?)"+
			" ON CONFLICT (app_id, user_id, message_id) DO NOTHING"), appID, user, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: hide message %d from user %d: %w", id, user, err)
	}
	return nil
}

// ClearConversation moves user's read and cleared positions in conv to
// its last message, so that the user's lists start after it; the hides of
// the messages it clears are dropped, as the position covers them. A
// conversation without messages has nothing to clear: the call does
// nothing. CodeUserNotFound if user is no user of the app.
func (s *Store) ClearConversation(ctx context.Context, appID string, user int64, conv imgate.Conv) error {
	k, err := keyFor(appID, user, conv)
	if err != nil {
		return fmt.Errorf("sqlstore: clear conversation of user %d: %w", user, err)
	}
	err = s.write(ctx, func(tx *sqlx.Tx) error {
		var c struct {
			ID   int64 `db:"id"`
			Last int64 `db:"last_seq"`
		}
		err := tx.GetContext(ctx, &c, tx.Rebind("SELECT c.id, c.last_seq FROM conversations c WHERE "+convWhere),
			k.app, int(k.kind), k.a, k.b)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && c.Last == 0) {
			return nil
		}
		if err != nil {
			return err
		}
		n, err := execCount(ctx, tx, tx.Rebind("INSERT INTO conv_reads (app_id, user_id, conv_id, read_seq, cleared_seq)"+
			" SELECT u.app_id, u.id, CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT) FROM users u WHERE u.app_id = ? AND u.id = ?"+
			" ON CONFLICT (app_id, user_id, conv_id) DO UPDATE SET read_seq = excluded.read_seq, cleared_seq = excluded.cleared_seq"),
			c.ID, c.Last, c.Last, appID, user)
		if err == nil && n == 0 {
			err = errUserNotFound(appID, user)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, tx.Rebind("DELETE FROM message_hides WHERE app_id = ? AND user_id = ?"+
			" AND EXISTS (SELECT 1 FROM messages m WHERE m.id = message_hides.message_id AND m.conv_id = ? AND m.seq <= ?)"),
			appID, user, c.ID, c.Last)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: clear conversation of user %d with %d: %w", user, conv.Peer, err)
	}
	return nil
}
