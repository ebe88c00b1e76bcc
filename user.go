package imgate

import (
	"strings"
	"time"
)

// UserStatus says whether a user may log in.
type UserStatus int

// User statuses, as /user/list reports them.
const (
	UserNormal   UserStatus = 0
	UserDisabled UserStatus = 1
)

// Friend-request modes of UserSettings.AuthMode.
const (
	AuthAny      = 0 // anyone may add the user
	AuthConfirm  = 1 // the user accepts or declines each application
	AuthQuestion = 2 // the applicant must answer the user's question
	AuthRefuse   = 3 // nobody may add the user
)

// User is an end user of an app. Ids of users and groups come from one
// sequence, so a conversation id names a user or a group unambiguously.
type User struct {
	ID           int64
	AppID        string
	Username     string
	PasswordHash string
	NickName     string
	Avatar       string
	Description  string
	Email        string
	Mobile       string
	PublicInfo   string
	PrivateInfo  string
	Status       UserStatus
	Settings     UserSettings
	Push         PushProfile
	// Pinned lists the conversation ids the user pinned, newest last.
	Pinned    []int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// UserSettings are the per-user preferences of MaxIM's UserSettings.
type UserSettings struct {
	AuthMode         int
	AuthQuestion     string
	AuthAnswer       string
	AutoDownload     bool
	GroupConfirm     bool
	NoPush           bool
	NoPushDetail     bool
	NoPushStartHour  int
	NoPushEndHour    int
	NoSounds         bool
	Vibratory        bool
	PushNickName     string
	SilenceStartTime int
	SilenceEndTime   int
}

// PushProfile is what the push paths store for a user: an alias, a badge
// count and tags. Delivery to push vendors is outside imgate.
type PushProfile struct {
	Alias string
	Badge int
	Tags  []string
}

// Platform is the device platform of MaxIM's DeviceDto and Provision.os_type.
type Platform int

// Platforms, numbered as MaxIM numbers them.
const (
	PlatformUnknown Platform = iota
	PlatformIOS
	PlatformAndroid
	PlatformWindows
	PlatformMac
	PlatformLinux
	PlatformWeb
)

// MaxDeviceRecords bounds the devices kept per user: when a login creates
// one more, Store.RegisterDevice deletes the user's devices that logged
// in least recently beyond it, so that new device_guids (a reinstall, a
// browser without storage, a script) cannot grow the rows without bound.
// MaxDevices online at once is far below it.
const MaxDeviceRecords = 100

// Device is one client installation of a user. SN is the deviceSN of XSYNC:
// assigned by the server, unique per user, reused by the client. GUID
// identifies the physical device, so a second login from it replaces the
// first.
type Device struct {
	AppID        string
	UserID       int64
	SN           uint32
	GUID         string
	Platform     Platform
	UserAgent    string
	PushToken    string // issued by imgate when a token is requested with a device_guid
	NotifierName string // push certificate name bound by /user/token/bind
	DeviceToken  string // the push vendor's token bound by /user/token/bind
	// NoticeSeq is the Seq of the last of the user's notices this device
	// was sent. A new device starts at the user's latest notice, so it is
	// sent the notices that come after it registered, not the user's past.
	NoticeSeq   int64
	CreatedAt   time.Time
	LastLoginAt time.Time
}

// ValidUsername checks MaxIM's username rule: letters, digits and
// underscores only, not all digits, not starting with "maxim" or "mta"
// (reserved), at most 64 characters. It returns a CodeInvalidParameter
// error naming the broken rule.
func ValidUsername(name string) error {
	if name == "" || len(name) > 64 {
		return Errorf(CodeInvalidParameter, "username must have 1 to 64 characters")
	}
	digits := true
	for _, r := range name {
		switch {
		case r >= '0' && r <= '9':
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_':
			digits = false
		default:
			return Errorf(CodeInvalidParameter, "username may contain only letters, digits and underscores")
		}
	}
	if digits {
		return Errorf(CodeInvalidParameter, "username must not be all digits")
	}
	lower := strings.ToLower(name)
	if strings.HasPrefix(lower, "maxim") || strings.HasPrefix(lower, "mta") {
		return Errorf(CodeInvalidParameter, "username must not start with maxim or mta")
	}
	return nil
}
