package imgate

import "time"

// NoticeKind is the XSYNC namespace a notice travels in (Meta.ns).
type NoticeKind int

// Notice kinds, numbered as XSYNC's NameSpace.
const (
	NoticeGroup  NoticeKind = 2
	NoticeRoster NoticeKind = 3
	NoticeUser   NoticeKind = 4
)

// GroupNotice types, numbered as XSYNC's GroupNotice.Type.
const (
	GroupPresence           = 1
	GroupAbsence            = 2
	GroupCreated            = 3
	GroupDestroyed          = 4
	GroupJoined             = 5
	GroupLeaved             = 6
	GroupApplied            = 7
	GroupApplyAccepted      = 8
	GroupApplyDeclined      = 9
	GroupInvited            = 10
	GroupInviteAccepted     = 11
	GroupInviteDeclined     = 12
	GroupKicked             = 13
	GroupBlocked            = 14
	GroupUnblocked          = 15
	GroupOwnerAssigned      = 16
	GroupAdminGranted       = 17
	GroupAdminRevoked       = 18
	GroupMuted              = 19
	GroupUnmuted            = 20
	GroupBanned             = 21
	GroupUnbanned           = 22
	GroupInfoUpdated        = 23
	GroupAnnouncementUpdate = 24
	GroupMessageSetting     = 25
	GroupFileUploaded       = 26
	GroupFileDeleted        = 27
	GroupFileUpdated        = 28
)

// RosterNotice types, numbered as XSYNC's RosterNotice.Type.
const (
	RosterAdded       = 1
	RosterRemoved     = 2
	RosterAccepted    = 3
	RosterDeclined    = 4
	RosterBlocked     = 5
	RosterUnblocked   = 6
	RosterApplied     = 7
	RosterInfoUpdated = 8
	RosterMuted       = 9
	RosterUnmuted     = 10
)

// UserNotice types, numbered as XSYNC's UserNotice.Type.
const (
	UserPasswordChanged     = 1
	UserFrozen              = 2
	UserRemoved             = 3
	UserKickBySameDevice    = 4
	UserKickedByOtherDevice = 5
	UserInfoUpdated         = 6
	UserDeviceLogin         = 7
	UserDeviceLogout        = 8
	UserDeviceAdded         = 9
	UserDeviceRemoved       = 10
)

// Notice is one event addressed to one user: a change of the social graph
// or of the user's account that the user's devices must learn of, live or
// on their next sync. Notices are written in the transaction of the change
// they announce, so none is lost and none announces a change that did not
// happen.
type Notice struct {
	AppID  string
	UserID int64 // the recipient
	// Seq orders the recipient's notices: assigned by the store, strictly
	// increasing in commit order, so a cursor over it never skips one.
	Seq     int64
	Kind    NoticeKind
	Type    int     // a Group*, Roster* or User* constant of Kind
	From    int64   // who made the change; 0 for an admin or the system
	GroupID int64   // the group of a group notice
	To      []int64 // the users the change concerns (GroupNotice.to, RosterNotice.to)
	Content string  // free text: a reason, an answer, new info
	At      time.Time
}

// Notify returns one notice of the kind and type for each recipient; the
// other fields come from n.
func Notify(recipients []int64, n Notice) []Notice {
	out := make([]Notice, len(recipients))
	for i, r := range recipients {
		out[i] = n
		out[i].UserID = r
	}
	return out
}
