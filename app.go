package imgate

import "time"

// AppStatus says whether an app may be used.
type AppStatus int

// App statuses; the names follow MaxIM's discovery answer.
const (
	AppNormal AppStatus = iota
	AppFrozen
	AppBanned
)

var appStatusNames = [...]string{AppNormal: "normal", AppFrozen: "frozen", AppBanned: "banned"}

// String is the status's name in MaxIM's discovery answer.
func (s AppStatus) String() string {
	if s >= 0 && int(s) < len(appStatusNames) {
		return appStatusNames[s]
	}
	return "normal"
}

// ParseAppStatus is the status with the name: normal, frozen or banned.
func ParseAppStatus(name string) (AppStatus, error) {
	for s, n := range appStatusNames {
		if n == name {
			return AppStatus(s), nil
		}
	}
	return 0, Errorf(CodeInvalidParameter, "app status %q: want normal, frozen or banned", name)
}

// App is a tenant: every user, group and message belongs to one app, and a
// token of one app never reaches another app's data.
type App struct {
	ID        string // 12 lowercase letters when generated, like MaxIM's
	Name      string
	Status    AppStatus
	Limits    AppLimits
	Webhook   Webhook
	CreatedAt time.Time
}

// AppLimits are an app's group limits. A zero field takes the default
// below; WithDefaults fills them in.
type AppLimits struct {
	GroupCapacity       int // members of one group (20010)
	GroupsPerApp        int // groups of the app (20007)
	GroupsOwnedPerUser  int // groups one user owns (20008)
	GroupsJoinedPerUser int // groups one user belongs to (20009)
	KicksBeforeBar      int // kicks from one group after which a user cannot rejoin it (20016)
}

// The defaults of AppLimits.
const (
	DefaultGroupCapacity       = 3000
	DefaultGroupsPerApp        = 1_000_000
	DefaultGroupsOwnedPerUser  = 100
	DefaultGroupsJoinedPerUser = 1000
	DefaultKicksBeforeBar      = 5
)

// WithDefaults returns the limits with zero fields set to the defaults.
func (l AppLimits) WithDefaults() AppLimits {
	for _, f := range []struct {
		v   *int
		def int
	}{
		{&l.GroupCapacity, DefaultGroupCapacity}, {&l.GroupsPerApp, DefaultGroupsPerApp},
		{&l.GroupsOwnedPerUser, DefaultGroupsOwnedPerUser}, {&l.GroupsJoinedPerUser, DefaultGroupsJoinedPerUser},
		{&l.KicksBeforeBar, DefaultKicksBeforeBar},
	} {
		if *f.v <= 0 {
			*f.v = f.def
		}
	}
	return l
}

// TokenKind tells an app administrator's token from an end user's.
type TokenKind int

// Token kinds. The values are the "role" claim of the signed token.
const (
	TokenUser  TokenKind = 1
	TokenAdmin TokenKind = 2
)

// Token is the stored record behind a signed access-token. The signed form
// carries ID, AppID, Kind and UserID; the record adds what can change
// after signing: revocation.
type Token struct {
	ID         string // the signed token's "jti"
	AppID      string
	Kind       TokenKind
	UserID     int64 // 0 for admin tokens
	DeviceGUID string
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: never
	RevokedAt  time.Time // zero: not revoked
}

// Revoked reports whether the token was revoked.
func (t Token) Revoked() bool { return !t.RevokedAt.IsZero() }

// Expired reports whether the token has expired at now.
func (t Token) Expired(now time.Time) bool { return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) }
