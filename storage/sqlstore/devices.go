package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"

	"github.com/jmoiron/sqlx"

	"github.com/imgate/imgate"
)

// deviceRow is the SQL form of imgate.Device.
type deviceRow struct {
	AppID        string `db:"app_id"`
	UserID       int64  `db:"user_id"`
	SN           int64  `db:"sn"`
	GUID         string `db:"guid"`
	Platform     int    `db:"platform"`
	UserAgent    string `db:"user_agent"`
	PushToken    string `db:"push_token"`
	NotifierName string `db:"notifier_name"`
	DeviceToken  string `db:"device_token"`
	NoticeSeq    int64  `db:"notice_seq"`
	CreatedAt    int64  `db:"created_at"`
	LastLoginAt  int64  `db:"last_login_at"`
}

func newDeviceRow(d imgate.Device) deviceRow {
	return deviceRow{
		AppID: d.AppID, UserID: d.UserID, SN: int64(d.SN), GUID: d.GUID,
		Platform: int(d.Platform), UserAgent: d.UserAgent, PushToken: d.PushToken,
		NotifierName: d.NotifierName, DeviceToken: d.DeviceToken, NoticeSeq: d.NoticeSeq,
		CreatedAt: millis(d.CreatedAt), LastLoginAt: millis(d.LastLoginAt),
	}
}

func (r deviceRow) device() imgate.Device {
	return imgate.Device{
		AppID: r.AppID, UserID: r.UserID, SN: uint32(r.SN), GUID: r.GUID,
		Platform: imgate.Platform(r.Platform), UserAgent: r.UserAgent, PushToken: r.PushToken,
		NotifierName: r.NotifierName, DeviceToken: r.DeviceToken, NoticeSeq: r.NoticeSeq,
		CreatedAt: fromMillis(r.CreatedAt), LastLoginAt: fromMillis(r.LastLoginAt),
	}
}

const deviceColumns = `app_id, user_id, sn, guid, platform, user_agent, push_token,
	notifier_name, device_token, notice_seq, created_at, last_login_at`

const deviceValues = `:app_id, :user_id, :sn, :guid, :platform, :user_agent, :push_token,
	:notifier_name, :device_token, :notice_seq, :created_at, :last_login_at`

const deviceSet = `guid = :guid, platform = :platform, user_agent = :user_agent,
	push_token = :push_token, notifier_name = :notifier_name, device_token = :device_token,
	notice_seq = :notice_seq, created_at = :created_at, last_login_at = :last_login_at`

// RegisterDevice records a login of d.UserID's device, found by SN, else
// by GUID, else created with the user's next free SN and the user's latest
// notice Seq as its NoticeSeq. The user's row is locked first, so
// concurrent logins of one user take turns and never pick the same SN.
func (s *Store) RegisterDevice(ctx context.Context, d imgate.Device) (imgate.Device, error) {
	var out imgate.Device
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		if err := s.lockUser(ctx, tx, d.AppID, d.UserID, errUserNotFound(d.AppID, d.UserID)); err != nil {
			return err
		}
		cur, found, err := findDevice(ctx, tx, d)
		if err != nil {
			return err
		}
		if found {
			cur = loggedIn(cur, d)
			err = saveDevice(ctx, tx, cur)
		} else if cur, err = insertDevice(ctx, tx, d); err == nil {
			err = pruneDevices(ctx, tx, cur)
		}
		if err != nil {
			return err
		}
		// What was written, as a read would return it (times in ms).
		out = newDeviceRow(cur).device()
		return nil
	})
	if err != nil {
		return imgate.Device{}, fmt.Errorf("sqlstore: register device of user %d: %w", d.UserID, err)
	}
	return out, nil
}

// CreateDevice creates d as a new device in one statement, unless the
// user has one with its SN or GUID, has imgate.MaxDeviceRecords devices
// (RegisterDevice then prunes) or does not exist (false). Where
// writers run concurrently (PostgreSQL), two new devices of one user may
// pick the same SN: the second fails on the primary key (as two with one
// GUID fail on devices_user_guid_key), and the caller falls back to
// RegisterDevice, which locks the user.
func (s *Store) CreateDevice(ctx context.Context, d imgate.Device) (imgate.Device, bool, error) {
	if d.CreatedAt.IsZero() {
		d.CreatedAt = d.LastLoginAt
	}
	r := newDeviceRow(d)
	var out struct {
		SN        int64 `db:"sn"`
		NoticeSeq int64 `db:"notice_seq"`
	}
	err := s.w.GetContext(ctx, &out, s.w.Rebind(s.createDeviceQuery()),
		r.GUID, r.Platform, r.UserAgent, r.PushToken, r.NotifierName, r.DeviceToken, r.CreatedAt, r.LastLoginAt,
		r.AppID, r.UserID, r.AppID, r.UserID, r.SN, r.GUID, imgate.MaxDeviceRecords)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return imgate.Device{}, false, nil
	case err != nil:
		return imgate.Device{}, false, fmt.Errorf("sqlstore: create device of user %d: %w", d.UserID, s.d.Translate(err))
	case out.SN > math.MaxUint32:
		return imgate.Device{}, false, fmt.Errorf("sqlstore: user %d has used every device sn", d.UserID)
	}
	d.SN, d.NoticeSeq = uint32(out.SN), out.NoticeSeq
	// What was written, as a read would return it (times in ms).
	return newDeviceRow(d).device(), true, nil
}

// createDeviceQuery is CreateDevice's statement: insertDevice's reads and
// insert in one, and the checks of RegisterDevice's lookups. Where the
// database locks rows it locks the user's first, as RegisterDevice does
// (FOR NO KEY UPDATE, which the device's foreign key check does not wait
// for): else a registration holding the user's row and waiting for this
// insert's key, and this insert's key check waiting for the user's row,
// deadlock.
func (s *Store) createDeviceQuery() string {
	lock := ""
	if s.d.ForNoKeyUpdate != "" {
		lock = s.d.ForNoKeyUpdate + " OF u"
	}
	return createDevice + lock + "\n\tRETURNING sn, notice_seq"
}

// createDevice is createDeviceQuery's statement up to its locking clause.
const createDevice = `INSERT INTO devices (` + deviceColumns + `)
	SELECT u.app_id, u.id, ` + nextSN + `,
		?, ?, ?, ?, ?, ?,
		COALESCE((SELECT n.last FROM notice_seqs n WHERE n.app_id = u.app_id AND n.user_id = u.id), 0),
		?, ?
	FROM users u, (SELECT COALESCE(MAX(x.sn), 0) AS sn FROM devices x WHERE x.app_id = ? AND x.user_id = ?) m
	WHERE u.app_id = ? AND u.id = ? AND NOT EXISTS (SELECT 1 FROM devices x
		WHERE x.app_id = u.app_id AND x.user_id = u.id AND (x.sn = ? OR (x.guid = ? AND x.guid <> '')))
		AND (SELECT COUNT(*) FROM devices x WHERE x.app_id = u.app_id AND x.user_id = u.id) < ?`

// Device returns one device of the user: ErrDeviceNotFound.
func (s *Store) Device(ctx context.Context, appID string, userID int64, sn uint32) (imgate.Device, error) {
	d, err := getDevice(ctx, s.r, appID, userID, sn, "")
	if err != nil {
		return imgate.Device{}, fmt.Errorf("sqlstore: device %d of user %d: %w", sn, userID, err)
	}
	return d, nil
}

// Devices lists the user's devices by SN.
func (s *Store) Devices(ctx context.Context, appID string, userID int64) ([]imgate.Device, error) {
	var rows []deviceRow
	err := s.r.SelectContext(ctx, &rows, s.r.Rebind(
		"SELECT "+deviceColumns+" FROM devices WHERE app_id = ? AND user_id = ? ORDER BY sn"), appID, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: devices of user %d: %w", userID, err)
	}
	devices := make([]imgate.Device, 0, len(rows))
	for _, r := range rows {
		devices = append(devices, r.device())
	}
	return devices, nil
}

// UpdateDevice reads the device for update, applies fn and writes the
// result. A GUID that fn sets moves from any other device of the user, as
// in RegisterDevice.
func (s *Store) UpdateDevice(ctx context.Context, appID string, userID int64, sn uint32, fn func(*imgate.Device) error) (imgate.Device, error) {
	var out imgate.Device
	var fnErr error
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		// The user's row first, in the order RegisterDevice locks.
		if err := s.lockUser(ctx, tx, appID, userID, imgate.ErrDeviceNotFound); err != nil {
			return err
		}
		d, err := getDevice(ctx, tx, appID, userID, sn, s.d.ForUpdate)
		if err != nil {
			return err
		}
		if fnErr = fn(&d); fnErr != nil {
			return fnErr
		}
		if d.AppID != appID || d.UserID != userID || d.SN != sn {
			return fmt.Errorf("fn changed the key of device %d of user %d", sn, userID)
		}
		if err := saveDevice(ctx, tx, d); err != nil {
			return err
		}
		// What was written, as a read would return it (times in ms).
		out = newDeviceRow(d).device()
		return nil
	})
	if fnErr != nil {
		return imgate.Device{}, fnErr
	}
	if err != nil {
		return imgate.Device{}, fmt.Errorf("sqlstore: update device %d of user %d: %w", sn, userID, err)
	}
	return out, nil
}

// DeleteDevice deletes the device: ErrDeviceNotFound.
func (s *Store) DeleteDevice(ctx context.Context, appID string, userID int64, sn uint32) error {
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		if err := keepSNHigh(ctx, tx, appID, userID); err != nil {
			return err
		}
		n, err := execCount(ctx, tx, tx.Rebind("DELETE FROM devices WHERE app_id = ? AND user_id = ? AND sn = ?"),
			appID, userID, int64(sn))
		if err == nil && n == 0 {
			err = imgate.ErrDeviceNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: delete device %d of user %d: %w", sn, userID, err)
	}
	return nil
}

// lockUser checks that the user exists, locking its row where the dialect
// locks rows, and answers missing when it does not.
func (s *Store) lockUser(ctx context.Context, tx *sqlx.Tx, appID string, id int64, missing *imgate.Error) error {
	var got int64
	err := tx.GetContext(ctx, &got, tx.Rebind("SELECT id FROM users WHERE app_id = ? AND id = ?"+s.d.ForUpdate), appID, id)
	return notFound(err, missing)
}

// findDevice finds the device d logs in from: by SN when that is set and
// exists, else by GUID when that is set and exists.
func findDevice(ctx context.Context, tx *sqlx.Tx, d imgate.Device) (imgate.Device, bool, error) {
	if d.SN != 0 {
		cur, err := getDevice(ctx, tx, d.AppID, d.UserID, d.SN, "")
		if !errors.Is(err, imgate.ErrDeviceNotFound) {
			return cur, err == nil, err
		}
	}
	if d.GUID == "" {
		return imgate.Device{}, false, nil
	}
	var row deviceRow
	err := tx.GetContext(ctx, &row, tx.Rebind(
		"SELECT "+deviceColumns+" FROM devices WHERE app_id = ? AND user_id = ? AND guid = ?"),
		d.AppID, d.UserID, d.GUID)
	if errors.Is(err, sql.ErrNoRows) {
		return imgate.Device{}, false, nil
	}
	return row.device(), err == nil, err
}

// loggedIn returns cur updated by the login d. An empty GUID in d keeps
// the device's GUID; a push token is filled only where there was none.
func loggedIn(cur, d imgate.Device) imgate.Device {
	cur.Platform = d.Platform
	cur.UserAgent = d.UserAgent
	cur.LastLoginAt = d.LastLoginAt
	if d.GUID != "" {
		cur.GUID = d.GUID
	}
	if cur.PushToken == "" {
		cur.PushToken = d.PushToken
	}
	return cur
}

// keepSNHigh records, before devices of the user are deleted, the highest
// SN the user has, so that the next new device is numbered past it (see
// nextSN).
func keepSNHigh(ctx context.Context, tx *sqlx.Tx, appID string, userID int64) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE users SET device_sn_high =
		CASE WHEN device_sn_high > `+maxSN+` THEN device_sn_high ELSE `+maxSN+` END
		WHERE app_id = ? AND id = ?`), appID, userID)
	if err != nil {
		return fmt.Errorf("keep the highest device sn: %w", err)
	}
	return nil
}

// maxSN is the highest SN of the user u's devices (0: none), in a
// statement on users u.
const maxSN = "COALESCE((SELECT MAX(x.sn) FROM devices x WHERE x.app_id = users.app_id AND x.user_id = users.id), 0)"

// nextSN is the SN of the user u's next new device: one past the highest
// it has now or has had (device_sn_high), so that no SN is given twice.
const nextSN = "(CASE WHEN u.device_sn_high > m.sn THEN u.device_sn_high ELSE m.sn END) + 1"

// insertDevice creates d under the user's next free SN, one past the
// highest it has had (deleted devices' too), with the Seq of the user's latest notice, so that
// the device is sent the notices that come after it. A notice that
// commits after the read has a higher Seq, so none is skipped. A zero
// CreatedAt becomes the login time.
func insertDevice(ctx context.Context, tx *sqlx.Tx, d imgate.Device) (imgate.Device, error) {
	var next int64
	err := tx.GetContext(ctx, &next, tx.Rebind("SELECT "+nextSN+" FROM users u, "+
		"(SELECT COALESCE(MAX(sn), 0) AS sn FROM devices WHERE app_id = ? AND user_id = ?) m WHERE u.app_id = ? AND u.id = ?"),
		d.AppID, d.UserID, d.AppID, d.UserID)
	if err != nil {
		return imgate.Device{}, fmt.Errorf("next sn: %w", err)
	}
	if next > math.MaxUint32 {
		return imgate.Device{}, fmt.Errorf("user %d has used every device sn", d.UserID)
	}
	d.SN = uint32(next)
	err = tx.GetContext(ctx, &d.NoticeSeq, tx.Rebind(
		"SELECT COALESCE((SELECT last FROM notice_seqs WHERE app_id = ? AND user_id = ?), 0)"), d.AppID, d.UserID)
	if err != nil {
		return imgate.Device{}, fmt.Errorf("latest notice: %w", err)
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = d.LastLoginAt
	}
	_, err = tx.NamedExecContext(ctx, "INSERT INTO devices ("+deviceColumns+") VALUES ("+deviceValues+")", newDeviceRow(d))
	return d, err
}

// pruneDevices deletes the devices of kept's user beyond the
// imgate.MaxDeviceRecords that logged in last, never kept itself. The
// user's row is locked, so the count cannot move meanwhile.
func pruneDevices(ctx context.Context, tx *sqlx.Tx, kept imgate.Device) error {
	var n int
	err := tx.GetContext(ctx, &n, tx.Rebind("SELECT COUNT(*) FROM devices WHERE app_id = ? AND user_id = ?"), kept.AppID, kept.UserID)
	if err != nil || n <= imgate.MaxDeviceRecords {
		return err
	}
	if err := keepSNHigh(ctx, tx, kept.AppID, kept.UserID); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, tx.Rebind(`DELETE FROM devices WHERE app_id = ? AND user_id = ? AND sn IN (
		SELECT sn FROM devices WHERE app_id = ? AND user_id = ? AND sn <> ?
		ORDER BY last_login_at, sn LIMIT ?)`),
		kept.AppID, kept.UserID, kept.AppID, kept.UserID, int64(kept.SN), n-imgate.MaxDeviceRecords)
	if err != nil {
		return fmt.Errorf("prune devices: %w", err)
	}
	return nil
}

// saveDevice writes every field of d but the key, after taking d's GUID
// away from any other device of the user.
func saveDevice(ctx context.Context, tx *sqlx.Tx, d imgate.Device) error {
	if d.GUID != "" {
		_, err := tx.ExecContext(ctx, tx.Rebind(
			"UPDATE devices SET guid = '' WHERE app_id = ? AND user_id = ? AND guid = ? AND sn <> ?"),
			d.AppID, d.UserID, d.GUID, int64(d.SN))
		if err != nil {
			return fmt.Errorf("move guid: %w", err)
		}
	}
	_, err := tx.NamedExecContext(ctx,
		"UPDATE devices SET "+deviceSet+" WHERE app_id = :app_id AND user_id = :user_id AND sn = :sn", newDeviceRow(d))
	return err
}

// getDevice reads one device; lock is "" or the dialect's ForUpdate.
func getDevice(ctx context.Context, q sqlx.ExtContext, appID string, userID int64, sn uint32, lock string) (imgate.Device, error) {
	var row deviceRow
	err := sqlx.GetContext(ctx, q, &row, q.Rebind(
		"SELECT "+deviceColumns+" FROM devices WHERE app_id = ? AND user_id = ? AND sn = ?"+lock),
		appID, userID, int64(sn))
	if err != nil {
		return imgate.Device{}, notFound(err, imgate.ErrDeviceNotFound)
	}
	return row.device(), nil
}
