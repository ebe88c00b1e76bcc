package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"

	"github.com/imgate/imgate"
)

// errUserNotFound is what the user methods answer for an unknown user.
func errUserNotFound(appID string, id int64) *imgate.Error {
	return imgate.Errorf(imgate.CodeUserNotFound, "user %d not found in app %s", id, appID)
}

// CreateUser stores u under the next id of the shared sequence and returns
// it as stored. The uniqueness checks run inside the write transaction, so
// the code is precise; the dialect's translation of unique violations
// covers writers that race past them.
func (s *Store) CreateUser(ctx context.Context, u imgate.User) (imgate.User, error) {
	var out imgate.User
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		u.ID = 0
		if err := checkUnique(ctx, tx, u); err != nil {
			return err
		}
		id, err := s.d.NextID(ctx, tx)
		if err != nil {
			return fmt.Errorf("next id: %w", err)
		}
		u.ID = id
		if err := insertUser(ctx, tx, u); err != nil {
			return err
		}
		out, err = getUser(ctx, tx, u.AppID, id, "")
		if err != nil {
			return err
		}
		return s.writeEvents(ctx, tx, []pendingEvent{userEvent(u.AppID, imgate.EventUserCreated, id, u.Username)})
	})
	if err != nil {
		return imgate.User{}, fmt.Errorf("sqlstore: create user %q: %w", u.Username, err)
	}
	return out, nil
}

// User returns the user: CodeUserNotFound if the app has none with the id.
func (s *Store) User(ctx context.Context, appID string, id int64) (imgate.User, error) {
	u, err := getUser(ctx, s.r, appID, id, "")
	if err != nil {
		return imgate.User{}, fmt.Errorf("sqlstore: user %d: %w", id, err)
	}
	return u, nil
}

// UserByName returns the user with the username: CodeUserNotFound.
func (s *Store) UserByName(ctx context.Context, appID, username string) (imgate.User, error) {
	u, err := userBy(ctx, s.r, appID, "username", username)
	if err != nil {
		err = notFound(err, imgate.Errorf(imgate.CodeUserNotFound, "user %s not found", username))
		return imgate.User{}, fmt.Errorf("sqlstore: user by name %q: %w", username, err)
	}
	return u, nil
}

// UserByLogin returns the user whose username, mobile or email, tried in
// that order, is login: CodeUserNotFound. The lookups share one snapshot.
func (s *Store) UserByLogin(ctx context.Context, appID, login string) (imgate.User, error) {
	var u imgate.User
	err := s.read(ctx, func(tx *sqlx.Tx) error {
		var err error
		u, err = userByLogin(ctx, tx, appID, login)
		return err
	})
	if err != nil {
		return imgate.User{}, fmt.Errorf("sqlstore: user by login %q: %w", login, err)
	}
	return u, nil
}

// UpdateUser reads the user for update, applies fn, checks uniqueness and
// writes the result. An error from fn is returned as is, unwrapped.
func (s *Store) UpdateUser(ctx context.Context, appID string, id int64, fn func(*imgate.User) error) (imgate.User, error) {
	var out imgate.User
	var fnErr error
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		u, err := getUser(ctx, tx, appID, id, s.d.ForUpdate)
		if err != nil {
			return err
		}
		if fnErr = fn(&u); fnErr != nil {
			return fnErr
		}
		if u.ID != id || u.AppID != appID {
			return fmt.Errorf("fn changed the key of user %d to %d in app %q", id, u.ID, u.AppID)
		}
		if err := checkUnique(ctx, tx, u); err != nil {
			return err
		}
		if err := updateUser(ctx, tx, u); err != nil {
			return err
		}
		out, err = getUser(ctx, tx, appID, id, "")
		return err
	})
	if fnErr != nil {
		return imgate.User{}, fnErr
	}
	if err != nil {
		return imgate.User{}, fmt.Errorf("sqlstore: update user %d: %w", id, err)
	}
	return out, nil
}

// Users lists the app's users by id, skipping offset and returning at most
// limit; a limit of 0 or less returns none.
func (s *Store) Users(ctx context.Context, appID string, offset, limit int) ([]imgate.User, error) {
	if limit <= 0 {
		return []imgate.User{}, nil
	}
	var rows []userRow
	err := s.r.SelectContext(ctx, &rows, s.r.Rebind(
		"SELECT "+userColumns+" FROM users WHERE app_id = ? ORDER BY id LIMIT ? OFFSET ?"),
		appID, limit, max(offset, 0))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: users of app %q: %w", appID, err)
	}
	users := make([]imgate.User, 0, len(rows))
	for _, r := range rows {
		u, err := r.user()
		if err != nil {
			return nil, fmt.Errorf("sqlstore: users of app %q: %w", appID, err)
		}
		users = append(users, u)
	}
	return users, nil
}

// SetUserStatus sets the status of every listed user, or of none: when
// the update touches fewer rows than there are distinct ids, some id is not
// a user of the app and the transaction rolls back.
func (s *Store) SetUserStatus(ctx context.Context, appID string, ids []int64, status imgate.UserStatus) error {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		q, args, err := sqlx.In("UPDATE users SET status = ? WHERE app_id = ? AND id IN (?)", int(status), appID, ids)
		if err != nil {
			return err
		}
		n, err := execCount(ctx, tx, tx.Rebind(q), args...)
		if err != nil {
			return err
		}
		if n != int64(len(ids)) {
			return imgate.Errorf(imgate.CodeUserNotFound, "not every user of %v is in app %s", ids, appID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlstore: set status of users %v: %w", ids, err)
	}
	return nil
}

// DeleteUser deletes the user and its tokens; its devices go with it by
// the foreign key's ON DELETE CASCADE.
func (s *Store) DeleteUser(ctx context.Context, appID string, id int64) error {
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		n, err := execCount(ctx, tx, tx.Rebind("DELETE FROM users WHERE app_id = ? AND id = ?"), appID, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return errUserNotFound(appID, id)
		}
		_, err = tx.ExecContext(ctx, tx.Rebind("DELETE FROM tokens WHERE app_id = ? AND user_id = ?"), appID, id)
		if err != nil {
			return err
		}
		return s.writeEvents(ctx, tx, []pendingEvent{userEvent(appID, imgate.EventUserDeleted, id, "")})
	})
	if err != nil {
		return fmt.Errorf("sqlstore: delete user %d: %w", id, err)
	}
	return nil
}

// getUser reads one user of the app; lock is "" or the dialect's
// ForUpdate.
func getUser(ctx context.Context, q sqlx.ExtContext, appID string, id int64, lock string) (imgate.User, error) {
	var row userRow
	err := sqlx.GetContext(ctx, q, &row, q.Rebind("SELECT "+userColumns+" FROM users WHERE app_id = ? AND id = ?"+lock), appID, id)
	if err != nil {
		return imgate.User{}, notFound(err, errUserNotFound(appID, id))
	}
	return row.user()
}

// userBy reads the user of the app whose column holds value. column is
// one of the uniquely indexed login columns, never caller input.
func userBy(ctx context.Context, q sqlx.ExtContext, appID, column, value string) (imgate.User, error) {
	var row userRow
	err := sqlx.GetContext(ctx, q, &row, q.Rebind("SELECT "+userColumns+" FROM users WHERE app_id = ? AND "+column+" = ?"), appID, value)
	if err != nil {
		return imgate.User{}, err
	}
	return row.user()
}

// userByLogin tries login as username, mobile and email in turn. An empty
// login matches nobody, though many users have an empty mobile or email.
func userByLogin(ctx context.Context, q sqlx.ExtContext, appID, login string) (imgate.User, error) {
	if login != "" {
		for _, column := range []string{"username", "mobile", "email"} {
			u, err := userBy(ctx, q, appID, column, login)
			if err == nil {
				return u, nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return imgate.User{}, err
			}
		}
	}
	return imgate.User{}, imgate.Errorf(imgate.CodeUserNotFound, "user %s not found", login)
}

// checkUnique answers the code of the first of u's username, email and
// mobile that another user of the app holds.
func checkUnique(ctx context.Context, q sqlx.ExtContext, u imgate.User) error {
	checks := []struct {
		column, value string
		code          int
	}{
		{"username", u.Username, imgate.CodeUserExists},
		{"email", u.Email, imgate.CodeUserExists},
		{"mobile", u.Mobile, imgate.CodeMobileTaken},
	}
	for _, c := range checks {
		if c.value == "" && c.column != "username" {
			continue
		}
		var taken bool
		err := sqlx.GetContext(ctx, q, &taken, q.Rebind(
			"SELECT EXISTS (SELECT 1 FROM users WHERE app_id = ? AND "+c.column+" = ? AND id <> ?)"),
			u.AppID, c.value, u.ID)
		if err != nil {
			return fmt.Errorf("check %s: %w", c.column, err)
		}
		if taken {
			return imgate.Errorf(c.code, "%s %s is taken", c.column, c.value)
		}
	}
	return nil
}

func insertUser(ctx context.Context, tx *sqlx.Tx, u imgate.User) error {
	row, err := newUserRow(u)
	if err != nil {
		return err
	}
	_, err = tx.NamedExecContext(ctx, "INSERT INTO users ("+userColumns+") VALUES ("+userValues+")", row)
	return err
}

func updateUser(ctx context.Context, tx *sqlx.Tx, u imgate.User) error {
	row, err := newUserRow(u)
	if err != nil {
		return err
	}
	_, err = tx.NamedExecContext(ctx, "UPDATE users SET "+userSet+" WHERE app_id = :app_id AND id = :id", row)
	return err
}

// execCount runs a statement and returns how many rows it touched.
func execCount(ctx context.Context, tx *sqlx.Tx, query string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
