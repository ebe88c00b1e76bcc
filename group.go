package imgate

import "time"

// GroupType is the kind of a group, as GroupInfoAndSettingsDto.type.
type GroupType int

// Group types, numbered as MaxIM numbers them.
const (
	GroupPrivate   GroupType = 0
	GroupPublic    GroupType = 1
	GroupChatroom  GroupType = 2
	GroupTemporary GroupType = 3
)

// Apply-approval modes of Group.ApplyApproval.
const (
	ApplyAcceptAll = 0
	ApplyByAdmin   = 1
	ApplyRejectAll = 2
)

// Group is a group chat's info and settings. Its id comes from the
// sequence users' ids come from.
type Group struct {
	ID             int64
	AppID          string
	Name           string
	Avatar         string
	Description    string
	Ext            string
	OwnerID        int64
	Type           GroupType
	Capacity       int // the most members it may have
	Count          int // members now; kept by the store
	ApplyApproval  int
	MemberInvite   bool // members may invite
	MemberModify   bool // members may change the group's info
	ReadAck        bool
	HistoryVisible bool // new members see earlier messages
	HideMemberInfo bool
	// BanAllExpire bans every member but the owner and admins from
	// sending: seconds since the epoch; 0 none, -1 permanent.
	BanAllExpire int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Role is a member's rank in a group.
type Role int

// Roles, ordered: a higher role may do all a lower one may.
const (
	RoleMember Role = 0
	RoleAdmin  Role = 1
	RoleOwner  Role = 2
)

// Member is a user's membership of a group, with the member's own
// settings for it.
type Member struct {
	GroupID     int64
	UserID      int64
	Role        Role
	DisplayName string
	// Seq orders members by joining: assigned by the store, increasing
	// within the group; list cursors page over it.
	Seq      int64
	JoinedAt time.Time
	// BanExpire is when the member may send again: milliseconds since the
	// epoch; 0 not banned, -1 permanent.
	BanExpire int64
	MuteMode  int // msg_mute_mode: 0 none, 1 no local notification, 2 don't receive
	PushMode  int // msg_push_mode: 0 all, 1 none, 2 admins and @, 3 admins, 4 @ only
}

// Banned reports whether the member may not send at the time.
func (m Member) Banned(now time.Time) bool {
	return m.BanExpire == -1 || m.BanExpire > now.UnixMilli()
}

// GroupApplication is a user's request to join a group; at most one per
// group and applicant.
type GroupApplication struct {
	GroupID     int64
	ApplicantID int64
	Reason      string
	Status      ApplicationStatus
	ExpiresAt   time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// GroupInvitation is an invitation to join a group that waits for the
// invitee's answer; at most one per group and invitee (the latest
// inviter's).
type GroupInvitation struct {
	GroupID   int64
	InviterID int64
	InviteeID int64
	Reason    string
	Status    ApplicationStatus
	ExpiresAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// GroupBlock is a user on a group's blacklist.
type GroupBlock struct {
	GroupID   int64
	UserID    int64
	CreatedAt time.Time
}

// Announcement is a group announcement.
type Announcement struct {
	ID        int64 // assigned by the store
	GroupID   int64
	Title     string
	Content   string
	AuthorID  int64
	CreatedAt time.Time
}

// SharedFile is a group's shared file: metadata and the URL the uploader
// gave; imgate stores no file content.
type SharedFile struct {
	ID         int64 // assigned by the store
	GroupID    int64
	Name       string
	Size       int64
	Type       string
	URL        string
	UploaderID int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}
