package imgate

import "time"

// Relation is how one user stands to another, as RosterItemDto.relation.
type Relation int

// Relations, numbered as MaxIM numbers them.
const (
	RelationFriend   Relation = 0
	RelationDeleted  Relation = 1 // was a friend, deleted
	RelationStranger Relation = 2
	RelationBlocked  Relation = 3 // on the owner's blacklist
)

// RosterItem is one user's (Owner's) view of another (UserID): whether
// they are friends, whether Owner blacklisted UserID, and Owner's notes.
// Friendship is kept on both sides: A friend of B means B friend of A. The
// zero item (no row) is a stranger.
type RosterItem struct {
	AppID     string
	OwnerID   int64
	UserID    int64
	Friend    bool
	WasFriend bool // friends once, then deleted
	Blocked   bool
	Alias     string
	Ext       string
	Muted     bool // mute_notification
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Relation derives the MaxIM relation; a blacklisting wins over the rest.
func (r RosterItem) Relation() Relation {
	switch {
	case r.Blocked:
		return RelationBlocked
	case r.Friend:
		return RelationFriend
	case r.WasFriend:
		return RelationDeleted
	}
	return RelationStranger
}

// ApplicationStatus is the state of a friend or group application or of a
// group invitation.
type ApplicationStatus int

// Application statuses, numbered as MaxIM numbers them.
const (
	ApplicationPending  ApplicationStatus = 0
	ApplicationAccepted ApplicationStatus = 1
	ApplicationDeclined ApplicationStatus = 2
)

// RosterApplication is a friend request from ApplicantID to TargetID.
// There is at most one per ordered pair: a new request replaces the old.
type RosterApplication struct {
	AppID       string
	ApplicantID int64
	TargetID    int64
	Alias       string // the applicant's alias for the target, applied on acceptance
	Reason      string
	Status      ApplicationStatus
	ExpiresAt   time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}
