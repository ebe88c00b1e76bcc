package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/auth"
)

// admin runs the app and token commands.
func (e env) admin(ctx context.Context, cmd string, args []string) error {
	fs := e.flags(cmd)
	sf := e.storeFlags(fs)
	secret := fs.String("secret", e.getenv("IMGATE_SECRET"), "token-signing secret, at least 32 bytes; empty keeps a generated one in the store (env IMGATE_SECRET)")
	id := fs.String("id", "", "app create: the app id; empty makes a random 12-letter one")
	name := fs.String("name", "", "app create: the app's name")
	app := fs.String("app", "", "token create, token import: the app id")
	status := fs.String("status", "", "app status: normal, frozen or banned")
	hook := e.webhookFlags(fs)
	var limits imgate.AppLimits
	fs.IntVar(&limits.GroupCapacity, "group-capacity", 0, fmt.Sprintf("app create: members of one group (default %d)", imgate.DefaultGroupCapacity))
	fs.IntVar(&limits.GroupsPerApp, "groups-per-app", 0, fmt.Sprintf("app create: groups of the app (default %d)", imgate.DefaultGroupsPerApp))
	fs.IntVar(&limits.GroupsOwnedPerUser, "groups-owned", 0, fmt.Sprintf("app create: groups one user may own (default %d)", imgate.DefaultGroupsOwnedPerUser))
	fs.IntVar(&limits.GroupsJoinedPerUser, "groups-joined", 0, fmt.Sprintf("app create: groups one user may join (default %d)", imgate.DefaultGroupsJoinedPerUser))
	fs.IntVar(&limits.KicksBeforeBar, "kick-limit", 0, fmt.Sprintf("app create: kicks from a group after which a user cannot rejoin it (default %d)", imgate.DefaultKicksBeforeBar))
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := auth.CheckSecret(*secret); err != nil {
		return fmt.Errorf("--secret: %w", err)
	}
	return sf.with(ctx, e.stderr, func(store versioned, logger *slog.Logger) error {
		a := adminCmd{env: e, store: store, logger: logger}
		switch cmd {
		case "app create":
			return a.createApp(ctx, imgate.App{ID: *id, Name: *name, Limits: limits}, *secret)
		case "app list":
			return a.listApps(ctx, hook.parkAfter)
		case "app update":
			return a.updateApp(ctx, *id, fs, hook)
		case "app status":
			return a.setAppStatus(ctx, *id, *status)
		case "token create":
			return a.createToken(ctx, *app, *secret)
		case "token import":
			return a.importToken(ctx, *app, fs.Arg(0), *secret)
		case "token revoke":
			return a.revokeToken(ctx, fs.Arg(0), *secret)
		}
		return fmt.Errorf("unknown command %q", cmd)
	})
}

type adminCmd struct {
	env
	store  imgate.Store
	logger *slog.Logger
}

type credentials struct {
	AppID       string `json:"app_id"`
	AccessToken string `json:"access_token"`
}

func (a adminCmd) tokens(ctx context.Context, secret string) (*auth.Tokens, error) {
	key, err := auth.LoadSecret(ctx, a.store, secret)
	if err != nil {
		return nil, err
	}
	return auth.New(a.store, auth.Config{Secret: key}, nil)
}

// setAppStatus sets an app's status: a frozen or banned app's REST calls
// answer 40003 and its logins are refused (APP_FROZEN).
func (a adminCmd) setAppStatus(ctx context.Context, id, name string) error {
	if id == "" {
		return fmt.Errorf("app status: --id is required")
	}
	st, err := imgate.ParseAppStatus(name)
	if err != nil {
		return fmt.Errorf("app status: --status: %w", err)
	}
	if err := a.store.SetAppStatus(ctx, id, st); err != nil {
		return fmt.Errorf("app status: %w", err)
	}
	return nil
}

func (a adminCmd) createApp(ctx context.Context, app imgate.App, secret string) error {
	if app.Name == "" {
		return fmt.Errorf("app create: --name is required")
	}
	creds, err := newApp(ctx, a.store, app, a.tokensFunc(secret))
	if err != nil {
		return err
	}
	return printJSON(a.stdout, creds)
}

func (a adminCmd) tokensFunc(secret string) func(context.Context) (*auth.Tokens, error) {
	return func(ctx context.Context) (*auth.Tokens, error) { return a.tokens(ctx, secret) }
}

// newApp creates an app and its first admin token.
func newApp(ctx context.Context, store imgate.Store, app imgate.App, tokens func(context.Context) (*auth.Tokens, error)) (credentials, error) {
	if app.ID == "" {
		app.ID = randomAppID()
	}
	if err := validAppID(app.ID); err != nil {
		return credentials{}, err
	}
	app.CreatedAt = time.UnixMilli(time.Now().UnixMilli())
	if err := store.CreateApp(ctx, app); err != nil {
		return credentials{}, fmt.Errorf("create app %s: %w", app.ID, err)
	}
	t, err := tokens(ctx)
	if err != nil {
		return credentials{}, err
	}
	raw, _, err := t.IssueAdmin(ctx, app.ID)
	if err != nil {
		return credentials{}, err
	}
	return credentials{AppID: app.ID, AccessToken: raw}, nil
}

func (a adminCmd) listApps(ctx context.Context, parkAfter int) error {
	apps, err := a.store.Apps(ctx)
	if err != nil {
		return err
	}
	outbox, err := a.store.OutboxStats(ctx, parkAfter)
	if err != nil {
		return err
	}
	waiting := make(map[string]imgate.OutboxStats, len(outbox))
	for _, s := range outbox {
		waiting[s.AppID] = s
	}
	for _, app := range apps {
		l := app.Limits.WithDefaults()
		line := struct {
			AppID         string `json:"app_id"`
			Name          string `json:"name"`
			Status        int    `json:"status"`
			CreatedAt     int64  `json:"created_at"`
			GroupCapacity int    `json:"group_capacity"`
			GroupsPerApp  int    `json:"groups_per_app"`
			GroupsOwned   int    `json:"groups_owned"`
			GroupsJoined  int    `json:"groups_joined"`
			KickLimit     int    `json:"kick_limit"`
			webhookLine
		}{app.ID, app.Name, int(app.Status), app.CreatedAt.UnixMilli(),
			l.GroupCapacity, l.GroupsPerApp, l.GroupsOwnedPerUser, l.GroupsJoinedPerUser, l.KicksBeforeBar,
			newWebhookLine(app.Webhook, waiting[app.ID])}
		if err := printJSON(a.stdout, line); err != nil {
			return err
		}
	}
	return nil
}

func (a adminCmd) createToken(ctx context.Context, appID, secret string) error {
	if _, err := a.store.App(ctx, appID); err != nil {
		return fmt.Errorf("token create: --app %q: %w", appID, err)
	}
	t, err := a.tokens(ctx, secret)
	if err != nil {
		return err
	}
	raw, _, err := t.IssueAdmin(ctx, appID)
	if err != nil {
		return err
	}
	return printJSON(a.stdout, credentials{AppID: appID, AccessToken: raw})
}

func (a adminCmd) importToken(ctx context.Context, appID, raw, secret string) error {
	if _, err := a.store.App(ctx, appID); err != nil {
		return fmt.Errorf("token import: --app %q: %w", appID, err)
	}
	t, err := a.tokens(ctx, secret)
	if err != nil {
		return err
	}
	if _, err := t.Import(ctx, appID, raw); err != nil {
		return fmt.Errorf("token import: %w", err)
	}
	return printJSON(a.stdout, credentials{AppID: appID, AccessToken: raw})
}

func (a adminCmd) revokeToken(ctx context.Context, raw, secret string) error {
	t, err := a.tokens(ctx, secret)
	if err != nil {
		return err
	}
	id, err := t.ID(raw)
	if err != nil {
		return fmt.Errorf("token revoke: not a token of this store")
	}
	if err := t.Revoke(ctx, id); err != nil {
		return fmt.Errorf("token revoke: %w", err)
	}
	return printJSON(a.stdout, struct {
		Revoked string `json:"revoked"`
	}{id})
}

func printJSON(w io.Writer, v any) error {
	if err := json.NewEncoder(w).Encode(v); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// randomAppID makes a 12-letter lowercase id like MaxIM's.
func randomAppID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	for i := range b {
		b[i] = 'a' + b[i]%26
	}
	return string(b)
}

func validAppID(id string) error {
	if len(id) > 64 {
		return fmt.Errorf("app id %q is longer than 64 characters", id)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return fmt.Errorf("app id %q may contain only letters, digits, _ and -", id)
		}
	}
	return nil
}
