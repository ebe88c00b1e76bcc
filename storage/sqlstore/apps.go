package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/imgate/imgate"
)

// secretKey names the token-signing secret in the settings table.
const secretKey = "token_secret"

// Secret returns the kept token-signing secret, keeping fresh first when
// there is none. The insert does nothing when a secret is already kept, so
// concurrent callers all read the first one.
func (s *Store) Secret(ctx context.Context, fresh []byte) ([]byte, error) {
	if len(fresh) == 0 {
		// An empty secret would sign tokens anyone can forge.
		return nil, fmt.Errorf("sqlstore: secret: the fresh secret is empty")
	}
	var kept []byte
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind(
			"INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"),
			secretKey, fresh)
		if err != nil {
			return err
		}
		return tx.GetContext(ctx, &kept, tx.Rebind("SELECT value FROM settings WHERE key = ?"), secretKey)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: secret: %w", err)
	}
	return kept, nil
}

// appRow is the SQL form of imgate.App: the limits flattened into one
// column each, kept as given: 0 stands for the default, which callers
// fill in with AppLimits.WithDefaults.
type appRow struct {
	ID                  string `db:"id"`
	Name                string `db:"name"`
	Status              int    `db:"status"`
	GroupCapacity       int    `db:"group_capacity"`
	GroupsPerApp        int    `db:"groups_per_app"`
	GroupsOwnedPerUser  int    `db:"groups_owned_per_user"`
	GroupsJoinedPerUser int    `db:"groups_joined_per_user"`
	KicksBeforeBar      int    `db:"kicks_before_bar"`
	CreatedAt           int64  `db:"created_at"`
	WebhookURL          string `db:"webhook_url"`
	WebhookSecret       string `db:"webhook_secret"`
	CallbackSignature   string `db:"callback_signature"`
	WebhookEvents       string `db:"webhook_events"`
}

func newAppRow(a imgate.App) appRow {
	l := a.Limits
	return appRow{
		ID: a.ID, Name: a.Name, Status: int(a.Status),
		GroupCapacity: l.GroupCapacity, GroupsPerApp: l.GroupsPerApp,
		GroupsOwnedPerUser: l.GroupsOwnedPerUser, GroupsJoinedPerUser: l.GroupsJoinedPerUser,
		KicksBeforeBar: l.KicksBeforeBar, CreatedAt: millis(a.CreatedAt),
	}
}

// webhook is the app's webhook; an event type the store does not know
// (written by a newer version) is left out.
func (a appRow) webhook() imgate.Webhook {
	w := imgate.Webhook{URL: a.WebhookURL, Secret: a.WebhookSecret, CallbackSignature: a.CallbackSignature}
	for name := range strings.SplitSeq(a.WebhookEvents, ",") {
		if t, err := imgate.ParseEventTypes(name); err == nil {
			w.Events = append(w.Events, t...)
		}
	}
	return w
}

func (a appRow) app() imgate.App {
	return imgate.App{
		ID: a.ID, Name: a.Name, Status: imgate.AppStatus(a.Status),
		Limits: imgate.AppLimits{
			GroupCapacity: a.GroupCapacity, GroupsPerApp: a.GroupsPerApp,
			GroupsOwnedPerUser: a.GroupsOwnedPerUser, GroupsJoinedPerUser: a.GroupsJoinedPerUser,
			KicksBeforeBar: a.KicksBeforeBar,
		},
		Webhook:   a.webhook(),
		CreatedAt: fromMillis(a.CreatedAt),
	}
}

const appColumns = `id, name, status, group_capacity, groups_per_app,
	groups_owned_per_user, groups_joined_per_user, kicks_before_bar, created_at,
	webhook_url, webhook_secret, callback_signature, webhook_events`

// appInsertColumns are the columns CreateApp sets: an app starts without
// a webhook.
const appInsertColumns = `id, name, status, group_capacity, groups_per_app,
	groups_owned_per_user, groups_joined_per_user, kicks_before_bar, created_at`

const appValues = `:id, :name, :status, :group_capacity, :groups_per_app,
	:groups_owned_per_user, :groups_joined_per_user, :kicks_before_bar, :created_at`

// CreateApp stores a new app. A taken id is a primary-key violation, which
// the dialect translates to CodeInvalidParameter.
func (s *Store) CreateApp(ctx context.Context, app imgate.App) error {
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.NamedExecContext(ctx, "INSERT INTO apps ("+appInsertColumns+") VALUES ("+appValues+")", newAppRow(app))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: create app %q: %w", app.ID, err)
	}
	return nil
}

// SetAppStatus sets the app's status: CodeUnknownApp if there is none.
func (s *Store) SetAppStatus(ctx context.Context, id string, status imgate.AppStatus) error {
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		n, err := execCount(ctx, tx, tx.Rebind("UPDATE apps SET status = ? WHERE id = ?"), int(status), id)
		if err == nil && n == 0 {
			err = imgate.Errorf(imgate.CodeUnknownApp, "unknown app %s", id)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: set status of app %q: %w", id, err)
	}
	return nil
}

// App returns the app with the id: CodeUnknownApp if there is none.
func (s *Store) App(ctx context.Context, id string) (imgate.App, error) {
	var row appRow
	err := s.r.GetContext(ctx, &row, s.r.Rebind("SELECT "+appColumns+" FROM apps WHERE id = ?"), id)
	if err != nil {
		err = notFound(err, imgate.Errorf(imgate.CodeUnknownApp, "unknown app %s", id))
		return imgate.App{}, fmt.Errorf("sqlstore: app %q: %w", id, err)
	}
	return row.app(), nil
}

// Apps lists every app, oldest first.
func (s *Store) Apps(ctx context.Context) ([]imgate.App, error) {
	var rows []appRow
	err := s.r.SelectContext(ctx, &rows, "SELECT "+appColumns+" FROM apps ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: apps: %w", err)
	}
	apps := make([]imgate.App, 0, len(rows))
	for _, r := range rows {
		apps = append(apps, r.app())
	}
	return apps, nil
}
