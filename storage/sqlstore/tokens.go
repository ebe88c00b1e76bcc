package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/imgate/imgate"
)

// tokenRow is the SQL form of imgate.Token.
type tokenRow struct {
	ID         string `db:"id"`
	AppID      string `db:"app_id"`
	Kind       int    `db:"kind"`
	UserID     int64  `db:"user_id"`
	DeviceGUID string `db:"device_guid"`
	CreatedAt  int64  `db:"created_at"`
	ExpiresAt  int64  `db:"expires_at"`
	RevokedAt  int64  `db:"revoked_at"`
}

func (t tokenRow) token() imgate.Token {
	return imgate.Token{
		ID:         t.ID,
		AppID:      t.AppID,
		Kind:       imgate.TokenKind(t.Kind),
		UserID:     t.UserID,
		DeviceGUID: t.DeviceGUID,
		CreatedAt:  fromMillis(t.CreatedAt),
		ExpiresAt:  fromMillis(t.ExpiresAt),
		RevokedAt:  fromMillis(t.RevokedAt),
	}
}

const tokenColumns = "id, app_id, kind, user_id, device_guid, created_at, expires_at, revoked_at"

// errInvalidToken is what the token methods answer for an unknown id.
func errInvalidToken() *imgate.Error {
	return imgate.Errorf(imgate.CodeInvalidToken, "invalid token")
}

// CreateToken stores a token record.
func (s *Store) CreateToken(ctx context.Context, t imgate.Token) error {
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO tokens ("+tokenColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
			t.ID, t.AppID, int(t.Kind), t.UserID, t.DeviceGUID,
			millis(t.CreatedAt), millis(t.ExpiresAt), millis(t.RevokedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: create token %q: %w", t.ID, err)
	}
	return nil
}

// Token returns the token record with the id: CodeInvalidToken if none.
func (s *Store) Token(ctx context.Context, id string) (imgate.Token, error) {
	var row tokenRow
	err := s.r.GetContext(ctx, &row, s.r.Rebind("SELECT "+tokenColumns+" FROM tokens WHERE id = ?"), id)
	if err != nil {
		return imgate.Token{}, fmt.Errorf("sqlstore: token %q: %w", id, notFound(err, errInvalidToken()))
	}
	return row.token(), nil
}

// RevokeToken marks the token revoked at the time, keeping the first time
// of a token revoked before: CodeInvalidToken if there is no such token.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) error {
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		var revoked int64
		err := tx.GetContext(ctx, &revoked, tx.Rebind("SELECT revoked_at FROM tokens WHERE id = ?"+s.d.ForUpdate), id)
		if err != nil || revoked != 0 {
			return notFound(err, errInvalidToken())
		}
		_, err = tx.ExecContext(ctx, tx.Rebind("UPDATE tokens SET revoked_at = ? WHERE id = ?"), millis(at), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: revoke token %q: %w", id, err)
	}
	return nil
}

// RevokeUserTokens revokes every unrevoked token of the user except keep
// and returns the revoked ids in ascending order.
func (s *Store) RevokeUserTokens(ctx context.Context, appID string, userID int64, keep string, at time.Time) ([]string, error) {
	ids := []string{}
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &ids, tx.Rebind(`UPDATE tokens SET revoked_at = ?
			WHERE app_id = ? AND user_id = ? AND revoked_at = 0 AND id <> ? RETURNING id`),
			millis(at), appID, userID, keep)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: revoke tokens of user %d: %w", userID, err)
	}
	slices.Sort(ids)
	return ids, nil
}

// RevokedTokens returns the ids of the tokens revoked at or after since,
// at most limit, earliest revocation first.
func (s *Store) RevokedTokens(ctx context.Context, since time.Time, limit int) ([]string, error) {
	ids := []string{}
	err := s.r.SelectContext(ctx, &ids, s.r.Rebind(
		"SELECT id FROM tokens WHERE revoked_at <> 0 AND revoked_at >= ? ORDER BY revoked_at, id LIMIT ?"), millis(since), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: tokens revoked since %s: %w", since.Format(time.RFC3339), err)
	}
	return ids, nil
}

// PruneTokens deletes the tokens that expired before the time and returns
// how many it deleted. Tokens that never expire are kept.
func (s *Store) PruneTokens(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		var err error
		n, err = execCount(ctx, tx, tx.Rebind("DELETE FROM tokens WHERE expires_at <> 0 AND expires_at < ?"), millis(before))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlstore: prune tokens before %s: %w", before.Format(time.RFC3339), err)
	}
	return int(n), nil
}
