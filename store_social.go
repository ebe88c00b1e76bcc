package imgate

import (
	"context"
	"time"
)

// The social graph's part of Store: rosters, groups and the notices their
// changes produce. Changes run as callbacks inside one write transaction
// that holds the locks they need (the two users of a roster change, the
// group of a group change), so that rules checked in the callback, such
// as a group's capacity, hold when it commits. Callbacks must not call the
// Store itself, and an error they return aborts the transaction and is
// returned as is.

// RosterStore keeps friendships, blacklists and friend applications.
type RosterStore interface {
	// Roster runs fn in a write transaction holding the locks of users a
	// and b (taken in id order): CodeUserNotFound if either is not a user of
	// the app.
	Roster(ctx context.Context, appID string, a, b int64, fn func(RosterTx) error) error
	// RosterItem returns owner's item for user; the zero item with the ids
	// filled in when there is none.
	RosterItem(ctx context.Context, appID string, owner, user int64) (RosterItem, error)
	// RosterItems lists owner's items that match the filter, by UserID,
	// starting after the user id after (0: from the start), at most limit.
	RosterItems(ctx context.Context, appID string, owner int64, filter RosterFilter, after int64, limit int) ([]RosterItem, error)
	// RosterApplications lists the applications addressed to target, newest
	// first (ties by applicant id, descending), starting after the
	// position after in that order (the zero position: from the start),
	// at most limit. The position is the last listed application's
	// (RosterApplication.Pos), so a page starts where the one before
	// ended even if that application was replaced or removed meanwhile.
	RosterApplications(ctx context.Context, appID string, target int64, after RosterApplicationPos, limit int) ([]RosterApplication, error)
}

// RosterApplicationPos is a position in a list of roster applications,
// newest first: the creation time and applicant of the application
// there. The zero position is the start.
type RosterApplicationPos struct {
	CreatedAt   time.Time
	ApplicantID int64
}

// Pos is the application's position in its target's list.
func (a RosterApplication) Pos() RosterApplicationPos {
	return RosterApplicationPos{CreatedAt: a.CreatedAt, ApplicantID: a.ApplicantID}
}

// RosterFilter selects roster items.
type RosterFilter int

// Roster filters.
const (
	FriendsOnly RosterFilter = iota // items with Friend set
	BlockedOnly                     // items with Blocked set
)

// RosterTx is a roster change in progress.
type RosterTx interface {
	// Item returns owner's item for user; the zero item with the ids and
	// AppID filled in when there is none.
	Item(owner, user int64) (RosterItem, error)
	// PutItem writes the item, creating or replacing it.
	PutItem(item RosterItem) error
	// Application returns applicant's application to target, if any.
	Application(applicant, target int64) (RosterApplication, bool, error)
	// PutApplication writes the application, replacing any of the pair.
	PutApplication(a RosterApplication) error
	// Notify stores notices, assigning each its recipient's next Seq. A
	// notice to a recipient who is not a user of the app (one deleted
	// meanwhile) is dropped; the change goes ahead.
	Notify(notices ...Notice) error
}

// GroupStore keeps groups, their members and what hangs off them.
type GroupStore interface {
	// CreateGroup stores g with a new id from the shared id sequence and
	// runs fn on it in the same transaction (to add members, check limits
	// and notify). It returns the group as fn left it.
	CreateGroup(ctx context.Context, g Group, fn func(GroupTx) error) (Group, error)
	// UpdateGroup runs fn in a write transaction holding the group's lock:
	// CodeGroupNotFound if the app has no such group.
	UpdateGroup(ctx context.Context, appID string, groupID int64, fn func(GroupTx) error) error
	// Group returns a group: CodeGroupNotFound.
	Group(ctx context.Context, appID string, groupID int64) (Group, error)
	// Groups returns the groups with the ids that exist, in the ids' order.
	Groups(ctx context.Context, appID string, ids []int64) ([]Group, error)
	// GroupCounts returns how many groups the app has and how many of them
	// the user owns and belongs to.
	GroupCounts(ctx context.Context, appID string, userID int64) (app, owned, joined int, err error)
	// Member returns a user's membership: ok false if not a member.
	Member(ctx context.Context, appID string, groupID, userID int64) (m Member, ok bool, err error)
	// Members lists a group's members that match the filter by Seq,
	// starting after the seq after (0: from the start), at most limit.
	Members(ctx context.Context, appID string, groupID int64, filter MemberFilter, after int64, limit int) ([]Member, error)
	// MembersOf returns the memberships of the listed users that exist.
	MembersOf(ctx context.Context, appID string, groupID int64, userIDs []int64) ([]Member, error)
	// UserGroups lists the ids of the groups the user belongs to, by id.
	UserGroups(ctx context.Context, appID string, userID int64) ([]int64, error)
	// PublicGroups lists the ids of the app's public groups, by id.
	PublicGroups(ctx context.Context, appID string) ([]int64, error)
	// GroupBlocks lists a group's blacklist by user id, starting after the
	// user id after, at most limit.
	GroupBlocks(ctx context.Context, appID string, groupID int64, after int64, limit int) ([]GroupBlock, error)
	// GroupApplications lists the applications to the groups, by group id
	// then applicant id, starting after the (group, applicant) pair after
	// ((0, 0): from the start), at most limit.
	GroupApplications(ctx context.Context, appID string, groupIDs []int64, after [2]int64, limit int) ([]GroupApplication, error)
	// GroupInvitations lists the invitations addressed to the user, by
	// group id, starting after the group id after, at most limit.
	GroupInvitations(ctx context.Context, appID string, userID int64, after int64, limit int) ([]GroupInvitation, error)
	// Announcements lists a group's announcements, newest first.
	Announcements(ctx context.Context, appID string, groupID int64) ([]Announcement, error)
	// SharedFiles lists a group's files, newest first.
	SharedFiles(ctx context.Context, appID string, groupID int64) ([]SharedFile, error)
}

// MemberFilter selects group members.
type MemberFilter int

// Member filters.
const (
	AllMembers    MemberFilter = iota
	AdminMembers               // owner and admins
	BannedMembers              // banned at the time of the call
)

// UserGroupCount is how many groups of its app a user owns and belongs
// to (owned ones included).
type UserGroupCount struct{ Owned, Joined int }

// GroupTx is a group change in progress, under the group's lock.
type GroupTx interface {
	// Group returns the group as it stands in the transaction.
	Group() Group
	// SaveGroup writes the group's info and settings (not ID, AppID or
	// Count, which the store keeps).
	SaveGroup(g Group) error
	// Member returns a membership: ok false if the user is not a member.
	Member(userID int64) (m Member, ok bool, err error)
	// MemberIDs lists every member's user id.
	MemberIDs() ([]int64, error)
	// AddMember adds a member, assigning its Seq and raising Count;
	// CodeAlreadyMember if it is one. Capacity is the caller's to check.
	AddMember(m Member) error
	// SaveMember writes an existing member's role, display name, ban and
	// settings.
	SaveMember(m Member) error
	// RemoveMember removes a member and lowers Count; removing a non-member
	// is not an error.
	RemoveMember(userID int64) error
	// UserGroups locks the rows of the users (in id order, so that two
	// transactions cannot wait for each other) until the transaction ends
	// and then counts, for each user of the app among them, the groups of
	// the app it owns and belongs to. A change of a user's groups that
	// calls it first waits for every other such change of that user's, so
	// that the per-user limits (20008, 20009) checked against its counts
	// hold under concurrent joins and creations.
	UserGroups(userIDs ...int64) (map[int64]UserGroupCount, error)
	// Blocked reports whether the user is on the group's blacklist.
	Blocked(userID int64) (bool, error)
	// Block puts the user on the blacklist; Unblock takes it off.
	Block(userID int64, at time.Time) error
	Unblock(userID int64) error
	// Kicks returns how often the user was kicked from the group;
	// AddKick counts one more.
	Kicks(userID int64) (int, error)
	AddKick(userID int64) error
	// Application returns the user's application to the group, if any;
	// PutApplication writes one, replacing the user's earlier one.
	Application(applicantID int64) (GroupApplication, bool, error)
	PutApplication(a GroupApplication) error
	// Invitation returns the invitation of the invitee, if any;
	// PutInvitation writes one, replacing the invitee's earlier one.
	Invitation(inviteeID int64) (GroupInvitation, bool, error)
	PutInvitation(inv GroupInvitation) error
	// Announcement returns one announcement, if any; AddAnnouncement stores
	// a new one and returns it with its id; DeleteAnnouncement removes one.
	Announcement(id int64) (Announcement, bool, error)
	AddAnnouncement(a Announcement) (Announcement, error)
	DeleteAnnouncement(id int64) error
	// SharedFile returns one file, if any; AddSharedFile stores a new one
	// and returns it with its id; SaveSharedFile updates one;
	// DeleteSharedFile removes one.
	SharedFile(id int64) (SharedFile, bool, error)
	AddSharedFile(f SharedFile) (SharedFile, error)
	SaveSharedFile(f SharedFile) error
	DeleteSharedFile(id int64) error
	// Destroy deletes the group and all that hangs off it. Notices written
	// before it in the transaction stay.
	Destroy() error
	// Notify stores notices, assigning each its recipient's next Seq. A
	// notice to a recipient who is not a user of the app (one deleted
	// meanwhile) is dropped; the change goes ahead.
	Notify(notices ...Notice) error
}

// NoticeStore reads the notices that roster, group and account changes
// wrote.
type NoticeStore interface {
	// Notices lists the user's notices with Seq above after, by Seq, at
	// most limit.
	Notices(ctx context.Context, appID string, userID int64, after int64, limit int) ([]Notice, error)
}
