package sqlstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/imgate/imgate"
)

// loginRow is LoginState's one row: what a login needs of the user, the
// device's columns prefixed with d_ (zero when there is no such device),
// and the lists as JSON arrays.
type loginRow struct {
	Status       int    `db:"status"`
	PasswordHash string `db:"password_hash"`
	DSN          int64  `db:"d_sn"`
	DGUID        string `db:"d_guid"`
	DPlatform    int    `db:"d_platform"`
	DUserAgent   string `db:"d_user_agent"`
	DPushToken   string `db:"d_push_token"`
	DNotifier    string `db:"d_notifier_name"`
	DDeviceToken string `db:"d_device_token"`
	DNoticeSeq   int64  `db:"d_notice_seq"`
	DCreatedAt   int64  `db:"d_created_at"`
	DLastLoginAt int64  `db:"d_last_login_at"`
	Groups       string `db:"groups_json"`
	Convs        string `db:"convs_json"`
	LastNotice   int64  `db:"last_notice"`
	AppStatus    int    `db:"app_status"`
	// The token's columns, prefixed with t_ (zero when none was asked
	// for or there is no such token).
	TID         string `db:"t_id"`
	TAppID      string `db:"t_app_id"`
	TKind       int    `db:"t_kind"`
	TUserID     int64  `db:"t_user_id"`
	TDeviceGUID string `db:"t_device_guid"`
	TCreatedAt  int64  `db:"t_created_at"`
	TExpiresAt  int64  `db:"t_expires_at"`
	TRevokedAt  int64  `db:"t_revoked_at"`
}

// LoginState reads the user, the device, the user's groups and
// conversations, the user's notice counter and the token asked for in
// one statement: a login is then one round trip to the database, not
// seven.
func (s *Store) LoginState(ctx context.Context, q imgate.LoginQuery) (imgate.LoginState, error) {
	var row loginRow
	var args []any
	if q.Convs {
		args = convStatesArgs(q.App, q.User)
	}
	args = append(args, int64(q.SN), q.Token, q.App, q.User)
	if err := s.r.GetContext(ctx, &row, s.r.Rebind(s.loginStateQuery(q.Convs)), args...); err != nil {
		err = notFound(err, errUserNotFound(q.App, q.User))
		return imgate.LoginState{}, fmt.Errorf("sqlstore: login state of user %d: %w", q.User, err)
	}
	st, err := row.state(q.App, q.User)
	if err != nil {
		return imgate.LoginState{}, fmt.Errorf("sqlstore: login state of user %d: %w", q.User, err)
	}
	return st, nil
}

// loginStateQuery is LoginState's statement. Its parameters are
// convStatesArgs (with convs), then the device's SN, the token's id ("":
// none), the app and the user.
func (s *Store) loginStateQuery(convs bool) string {
	agg, arr := s.d.JSONAgg, s.d.JSONArray
	var dev []string
	for _, c := range columnNames(deviceColumns) {
		if c == "app_id" || c == "user_id" {
			continue
		}
		zero := "0"
		if c == "guid" || c == "user_agent" || c == "push_token" || c == "notifier_name" || c == "device_token" {
			zero = "''"
		}
		dev = append(dev, "COALESCE(d."+c+", "+zero+") AS d_"+c)
	}
	for _, c := range columnNames(tokenColumns) {
		zero := "0"
		if c == "id" || c == "app_id" || c == "device_guid" {
			zero = "''"
		}
		dev = append(dev, "COALESCE(t."+c+", "+zero+") AS t_"+c)
	}
	convsJSON := "'[]'"
	if convs {
		convsJSON = "COALESCE((SELECT " + agg + "(" + arr + "(x.kind, x.a, x.b, x.last_seq, x.last_id, x.read_seq, x.read_id, x.unread))" +
			" FROM (" + convStatesQuery("") + ") x), '[]')"
	}
	return "SELECT u.status, u.password_hash, " + strings.Join(dev, ", ") + "," +
		" COALESCE((SELECT " + agg + "(group_id) FROM group_members WHERE user_id = u.id" +
		" AND group_id IN (SELECT id FROM groups WHERE app_id = u.app_id)), '[]') AS groups_json," +
		" " + convsJSON + " AS convs_json," +
		" COALESCE((SELECT last FROM notice_seqs WHERE app_id = u.app_id AND user_id = u.id), 0) AS last_notice," +
		" COALESCE((SELECT status FROM apps WHERE id = u.app_id), 0) AS app_status" +
		" FROM users u LEFT JOIN devices d ON d.app_id = u.app_id AND d.user_id = u.id AND d.sn = ?" +
		" LEFT JOIN tokens t ON t.id = ?" +
		" WHERE u.app_id = ? AND u.id = ?"
}

// state decodes the row.
func (r loginRow) state(appID string, userID int64) (imgate.LoginState, error) {
	st := imgate.LoginState{Status: imgate.UserStatus(r.Status), PasswordHash: r.PasswordHash, LastNotice: r.LastNotice, AppStatus: imgate.AppStatus(r.AppStatus)}
	if r.DSN != 0 {
		st.Device = deviceRow{
			AppID: appID, UserID: userID, SN: r.DSN, GUID: r.DGUID, Platform: r.DPlatform,
			UserAgent: r.DUserAgent, PushToken: r.DPushToken, NotifierName: r.DNotifier,
			DeviceToken: r.DDeviceToken, NoticeSeq: r.DNoticeSeq, CreatedAt: r.DCreatedAt, LastLoginAt: r.DLastLoginAt,
		}.device()
	}
	if r.TID != "" {
		st.Token = tokenRow{
			ID: r.TID, AppID: r.TAppID, Kind: r.TKind, UserID: r.TUserID, DeviceGUID: r.TDeviceGUID,
			CreatedAt: r.TCreatedAt, ExpiresAt: r.TExpiresAt, RevokedAt: r.TRevokedAt,
		}.token()
	}
	if err := json.Unmarshal([]byte(r.Groups), &st.Groups); err != nil {
		return imgate.LoginState{}, fmt.Errorf("groups: %w", err)
	}
	slices.Sort(st.Groups)
	var convs [][8]int64
	if err := json.Unmarshal([]byte(r.Convs), &convs); err != nil {
		return imgate.LoginState{}, fmt.Errorf("conversations: %w", err)
	}
	st.Convs = make([]imgate.ConvState, len(convs))
	for i, c := range convs {
		k := convKey{app: appID, kind: imgate.ConvKind(c[0]), a: c[1], b: c[2]}
		st.Convs[i] = imgate.ConvState{
			Conv:    imgate.Conv{Kind: k.kind, Peer: k.peer(userID)},
			LastSeq: c[3], LastID: c[4], ReadSeq: c[5], ReadID: c[6], Unread: c[7],
		}
	}
	// Newest message first, as Conversations.
	slices.SortFunc(st.Convs, func(a, b imgate.ConvState) int { return cmp.Compare(b.LastID, a.LastID) })
	return st, nil
}
