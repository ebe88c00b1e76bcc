package imgate

import (
	"context"
	"time"
)

// Store is the persistence contract shared by storage/postgres and
// storage/embedded; storage/storetest checks both against it. Every method
// scopes its data by app id where it takes one: nothing of one app is
// visible through another. Errors are *Error with the codes named in each
// method's doc, or internal errors (CodeStore) wrapped with context; test
// them with ErrorCode or errors.Is, never ==. Writing a record of an app
// that does not exist is CodeUnknownApp.
//
// The fn callbacks of the Update methods run inside the store's write
// transaction: they must not call the store (the embedded store has one
// writer connection and would deadlock), and an fn that changes a key field
// fails the update with an internal error. The same holds for the fn of
// Roster, CreateGroup and UpdateGroup. Any such fn may run more than once:
// a transaction that Postgres aborts to break a deadlock runs again (up to
// three times), so fn must leave nothing behind of a run that rolled back
// (reset what it collects at its start).
type Store interface {
	RosterStore
	GroupStore
	NoticeStore
	MessageStore
	OutboxStore

	// Ping checks that the store answers.
	Ping(ctx context.Context) error
	// Close releases the store's connections.
	Close() error

	// Secret returns the token-signing secret kept in the store. When none
	// is kept yet, it keeps fresh and returns it; concurrent callers all get
	// the one that was kept first.
	Secret(ctx context.Context, fresh []byte) ([]byte, error)

	// CreateApp stores a new app: CodeInvalidParameter if its id is taken.
	CreateApp(ctx context.Context, app App) error
	// App returns the app with the id: CodeUnknownApp if there is none.
	App(ctx context.Context, id string) (App, error)
	// Apps lists every app, oldest first.
	Apps(ctx context.Context) ([]App, error)
	// SetAppStatus sets the app's status: CodeUnknownApp if there is none.
	SetAppStatus(ctx context.Context, id string, status AppStatus) error

	// CreateToken stores a token record: CodeInvalidParameter if its id is
	// taken.
	CreateToken(ctx context.Context, t Token) error
	// Token returns the token record with the id: CodeInvalidToken if none.
	Token(ctx context.Context, id string) (Token, error)
	// RevokeToken marks the token revoked at the time: CodeInvalidToken if
	// there is no such token. Revoking a revoked token is not an error.
	RevokeToken(ctx context.Context, id string, at time.Time) error
	// RevokeUserTokens revokes every unrevoked token of the user except the
	// one with id keep (which may be empty) and returns the ids it revoked.
	RevokeUserTokens(ctx context.Context, appID string, userID int64, keep string, at time.Time) ([]string, error)
	// RevokedTokens returns the ids of the tokens revoked at or after
	// the time, at most limit, earliest revocation first.
	RevokedTokens(ctx context.Context, since time.Time, limit int) ([]string, error)
	// PruneTokens deletes the tokens that expired before the time and
	// returns how many it deleted.
	PruneTokens(ctx context.Context, before time.Time) (int, error)

	// CreateUser stores a new user and returns it with its id assigned:
	// CodeUserExists if the username or email is taken in the app,
	// CodeMobileTaken if the mobile is.
	CreateUser(ctx context.Context, u User) (User, error)
	// User returns the user: CodeUserNotFound if the app has none with the id.
	User(ctx context.Context, appID string, id int64) (User, error)
	// UserByName returns the user with the username: CodeUserNotFound.
	UserByName(ctx context.Context, appID, username string) (User, error)
	// UserByLogin returns the user whose username, mobile or email (tried
	// in that order) is login: CodeUserNotFound.
	UserByLogin(ctx context.Context, appID, login string) (User, error)
	// UpdateUser reads the user, applies fn and writes the result, in one
	// transaction; an error from fn aborts the update and is returned as is.
	// fn must not change ID or AppID. CodeUserNotFound, and the uniqueness
	// codes of CreateUser.
	UpdateUser(ctx context.Context, appID string, id int64, fn func(*User) error) (User, error)
	// Users lists the app's users by id, skipping offset and returning at
	// most limit.
	Users(ctx context.Context, appID string, offset, limit int) ([]User, error)
	// SetUserStatus sets the status of every listed user, or of none:
	// CodeUserNotFound if any id is not a user of the app.
	SetUserStatus(ctx context.Context, appID string, ids []int64, status UserStatus) error
	// DeleteUser deletes the user with its tokens and devices:
	// CodeUserNotFound.
	DeleteUser(ctx context.Context, appID string, id int64) error

	// RegisterDevice records a login of d.UserID's device. It finds the
	// device by d.SN when that is not 0 and exists, else by d.GUID when
	// that is not empty and exists; it then updates Platform, UserAgent,
	// LastLoginAt, and GUID (which moves from any other device of the user
	// holding it), and fills PushToken if the device had none. Otherwise it
	// creates the device with the user's next free SN and, if the user
	// then has more than MaxDeviceRecords devices, deletes those that
	// logged in least recently (the new one never). CodeUserNotFound.
	RegisterDevice(ctx context.Context, d Device) (Device, error)
	// CreateDevice creates d as a new device of d.UserID in one statement,
	// as RegisterDevice would create it (the user's next SN, the user's
	// latest notice Seq), unless the user has a device with d's SN or GUID.
	// It returns false, and creates nothing, then, when the user has
	// MaxDeviceRecords devices or does not exist, and when a concurrent
	// login took the SN; the caller registers
	// the device with RegisterDevice, which says which. A login whose
	// LoginState found no device with the SN tries it first: a new
	// device's registration is then one round trip, not a transaction.
	CreateDevice(ctx context.Context, d Device) (Device, bool, error)
	// Device returns one device of the user: ErrDeviceNotFound.
	Device(ctx context.Context, appID string, userID int64, sn uint32) (Device, error)
	// Devices lists the user's devices by SN.
	Devices(ctx context.Context, appID string, userID int64) ([]Device, error)
	// UpdateDevice reads the device, applies fn and writes the result in one
	// transaction: ErrDeviceNotFound. fn must not change the key fields.
	UpdateDevice(ctx context.Context, appID string, userID int64, sn uint32, fn func(*Device) error) (Device, error)
	// DeleteDevice deletes the device: ErrDeviceNotFound.
	DeleteDevice(ctx context.Context, appID string, userID int64, sn uint32) error

	// LoginState reads what a WebSocket login asks for in one statement
	// and so one snapshot: CodeUserNotFound when the user does not exist.
	LoginState(ctx context.Context, q LoginQuery) (LoginState, error)
}

// LoginQuery says what LoginState reads: the user's state and groups,
// one of its devices, and optionally its conversations and a token.
type LoginQuery struct {
	App  string
	User int64
	// SN is the device's serial number; 0 reads no device.
	SN uint32
	// Convs reads the user's conversations too. Without it Convs is
	// left empty, for a read that only picks the device and the groups
	// (a first login's, before its session is registered), at a fraction
	// of the cost.
	Convs bool
	// Token, when not empty, is the id of a token record to read with
	// the rest, so that verifying a token the node has not seen costs
	// the login no round trip of its own.
	Token string
}

// LoginState is what a login reads of a user and one of its devices.
type LoginState struct {
	// Status and PasswordHash are the user's.
	Status       UserStatus
	PasswordHash string
	// AppStatus is the user's app's.
	AppStatus AppStatus
	// Device is the device with the SN asked for; its SN is 0 when the
	// user has no such device.
	Device Device
	// Groups are the ids of the groups the user is a member of, by id.
	Groups []int64
	// Convs are the user's conversations, as Conversations lists them.
	Convs []ConvState
	// LastNotice is the Seq of the user's latest notice, 0 when none:
	// notices are pending for the device when it is above Device.NoticeSeq.
	LastNotice int64
	// Token is the record LoginQuery.Token asked for; its ID is empty
	// when there is no such record (or none was asked for).
	Token Token
}

// ErrDeviceNotFound answers a device serial number the user does not have.
// MaxIM has no code of its own for it; it is a bad parameter.
var ErrDeviceNotFound = &Error{Code: CodeInvalidParameter, Message: "device not found"}
