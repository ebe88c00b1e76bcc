package sqlstore

import "github.com/imgate/imgate"

// groupRow is the SQL form of imgate.Group. Count is no column: reads
// count the group's members, so a member that left through the cascade
// of a deleted user is never counted.
type groupRow struct {
	ID             int64  `db:"id"`
	AppID          string `db:"app_id"`
	Name           string `db:"name"`
	Avatar         string `db:"avatar"`
	Description    string `db:"description"`
	Ext            string `db:"ext"`
	OwnerID        int64  `db:"owner_id"`
	Type           int    `db:"type"`
	Capacity       int    `db:"capacity"`
	Count          int    `db:"count"`
	ApplyApproval  int    `db:"apply_approval"`
	MemberInvite   bool   `db:"member_invite"`
	MemberModify   bool   `db:"member_modify"`
	ReadAck        bool   `db:"read_ack"`
	HistoryVisible bool   `db:"history_visible"`
	HideMemberInfo bool   `db:"hide_member_info"`
	BanAllExpire   int64  `db:"ban_all_expire"`
	CreatedAt      int64  `db:"created_at"`
	UpdatedAt      int64  `db:"updated_at"`
}

// groupSet lists the columns SaveGroup writes: the info and settings.
const groupSet = `name, avatar, description, ext, owner_id, type, capacity, apply_approval,
	member_invite, member_modify, read_ack, history_visible, hide_member_info,
	ban_all_expire, updated_at`

// groupColumns lists the stored columns of groupRow.
const groupColumns = "id, app_id, created_at, " + groupSet

// groupSelect reads groups with their member counts; a WHERE on the
// groups table follows.
const groupSelect = "SELECT " + groupColumns +
	", (SELECT COUNT(*) FROM group_members m WHERE m.group_id = groups.id) AS count FROM groups"

func newGroupRow(g imgate.Group) groupRow {
	return groupRow{
		ID: g.ID, AppID: g.AppID, Name: g.Name, Avatar: g.Avatar, Description: g.Description, Ext: g.Ext,
		OwnerID: g.OwnerID, Type: int(g.Type), Capacity: g.Capacity, Count: g.Count,
		ApplyApproval: g.ApplyApproval, MemberInvite: g.MemberInvite, MemberModify: g.MemberModify,
		ReadAck: g.ReadAck, HistoryVisible: g.HistoryVisible, HideMemberInfo: g.HideMemberInfo,
		BanAllExpire: g.BanAllExpire, CreatedAt: millis(g.CreatedAt), UpdatedAt: millis(g.UpdatedAt),
	}
}

func (r groupRow) group() imgate.Group {
	return imgate.Group{
		ID: r.ID, AppID: r.AppID, Name: r.Name, Avatar: r.Avatar, Description: r.Description, Ext: r.Ext,
		OwnerID: r.OwnerID, Type: imgate.GroupType(r.Type), Capacity: r.Capacity, Count: r.Count,
		ApplyApproval: r.ApplyApproval, MemberInvite: r.MemberInvite, MemberModify: r.MemberModify,
		ReadAck: r.ReadAck, HistoryVisible: r.HistoryVisible, HideMemberInfo: r.HideMemberInfo,
		BanAllExpire: r.BanAllExpire, CreatedAt: fromMillis(r.CreatedAt), UpdatedAt: fromMillis(r.UpdatedAt),
	}
}

// memberRow is the SQL form of imgate.Member.
type memberRow struct {
	GroupID     int64  `db:"group_id"`
	UserID      int64  `db:"user_id"`
	Seq         int64  `db:"seq"`
	Role        int    `db:"role"`
	DisplayName string `db:"display_name"`
	JoinedAt    int64  `db:"joined_at"`
	BanExpire   int64  `db:"ban_expire"`
	MuteMode    int    `db:"mute_mode"`
	PushMode    int    `db:"push_mode"`
}

const memberColumns = "group_id, user_id, seq, role, display_name, joined_at, ban_expire, mute_mode, push_mode"

// memberSet lists the columns SaveMember writes.
const memberSet = "role, display_name, ban_expire, mute_mode, push_mode"

func newMemberRow(m imgate.Member) memberRow {
	return memberRow{
		GroupID: m.GroupID, UserID: m.UserID, Seq: m.Seq, Role: int(m.Role), DisplayName: m.DisplayName,
		JoinedAt: millis(m.JoinedAt), BanExpire: m.BanExpire, MuteMode: m.MuteMode, PushMode: m.PushMode,
	}
}

func (r memberRow) member() imgate.Member {
	return imgate.Member{
		GroupID: r.GroupID, UserID: r.UserID, Seq: r.Seq, Role: imgate.Role(r.Role), DisplayName: r.DisplayName,
		JoinedAt: fromMillis(r.JoinedAt), BanExpire: r.BanExpire, MuteMode: r.MuteMode, PushMode: r.PushMode,
	}
}

func members(rows []memberRow) []imgate.Member {
	out := make([]imgate.Member, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.member())
	}
	return out
}

// groupAppRow is the SQL form of imgate.GroupApplication.
type groupAppRow struct {
	GroupID     int64  `db:"group_id"`
	ApplicantID int64  `db:"applicant_id"`
	Reason      string `db:"reason"`
	Status      int    `db:"status"`
	ExpiresAt   int64  `db:"expires_at"`
	CreatedAt   int64  `db:"created_at"`
	UpdatedAt   int64  `db:"updated_at"`
}

const groupAppColumns = "group_id, applicant_id, reason, status, expires_at, created_at, updated_at"

const groupAppSet = "reason, status, expires_at, created_at, updated_at"

func newGroupAppRow(a imgate.GroupApplication) groupAppRow {
	return groupAppRow{
		GroupID: a.GroupID, ApplicantID: a.ApplicantID, Reason: a.Reason, Status: int(a.Status),
		ExpiresAt: millis(a.ExpiresAt), CreatedAt: millis(a.CreatedAt), UpdatedAt: millis(a.UpdatedAt),
	}
}

func (r groupAppRow) application() imgate.GroupApplication {
	return imgate.GroupApplication{
		GroupID: r.GroupID, ApplicantID: r.ApplicantID, Reason: r.Reason, Status: imgate.ApplicationStatus(r.Status),
		ExpiresAt: fromMillis(r.ExpiresAt), CreatedAt: fromMillis(r.CreatedAt), UpdatedAt: fromMillis(r.UpdatedAt),
	}
}

// invitationRow is the SQL form of imgate.GroupInvitation.
type invitationRow struct {
	GroupID   int64  `db:"group_id"`
	InviteeID int64  `db:"invitee_id"`
	InviterID int64  `db:"inviter_id"`
	Reason    string `db:"reason"`
	Status    int    `db:"status"`
	ExpiresAt int64  `db:"expires_at"`
	CreatedAt int64  `db:"created_at"`
	UpdatedAt int64  `db:"updated_at"`
}

const invitationColumns = "group_id, invitee_id, inviter_id, reason, status, expires_at, created_at, updated_at"

const invitationSet = "inviter_id, reason, status, expires_at, created_at, updated_at"

func newInvitationRow(inv imgate.GroupInvitation) invitationRow {
	return invitationRow{
		GroupID: inv.GroupID, InviteeID: inv.InviteeID, InviterID: inv.InviterID, Reason: inv.Reason,
		Status: int(inv.Status), ExpiresAt: millis(inv.ExpiresAt), CreatedAt: millis(inv.CreatedAt), UpdatedAt: millis(inv.UpdatedAt),
	}
}

func (r invitationRow) invitation() imgate.GroupInvitation {
	return imgate.GroupInvitation{
		GroupID: r.GroupID, InviteeID: r.InviteeID, InviterID: r.InviterID, Reason: r.Reason,
		Status: imgate.ApplicationStatus(r.Status), ExpiresAt: fromMillis(r.ExpiresAt),
		CreatedAt: fromMillis(r.CreatedAt), UpdatedAt: fromMillis(r.UpdatedAt),
	}
}

// blockRow is the SQL form of imgate.GroupBlock.
type blockRow struct {
	GroupID   int64 `db:"group_id"`
	UserID    int64 `db:"user_id"`
	CreatedAt int64 `db:"created_at"`
}

const blockColumns = "group_id, user_id, created_at"

func (r blockRow) block() imgate.GroupBlock {
	return imgate.GroupBlock{GroupID: r.GroupID, UserID: r.UserID, CreatedAt: fromMillis(r.CreatedAt)}
}

// announcementRow is the SQL form of imgate.Announcement.
type announcementRow struct {
	ID        int64  `db:"id"`
	GroupID   int64  `db:"group_id"`
	Title     string `db:"title"`
	Content   string `db:"content"`
	AuthorID  int64  `db:"author_id"`
	CreatedAt int64  `db:"created_at"`
}

// announcementColumns leaves out the id, which the database assigns.
const announcementColumns = "group_id, title, content, author_id, created_at"

func newAnnouncementRow(a imgate.Announcement) announcementRow {
	return announcementRow{ID: a.ID, GroupID: a.GroupID, Title: a.Title, Content: a.Content, AuthorID: a.AuthorID, CreatedAt: millis(a.CreatedAt)}
}

func (r announcementRow) announcement() imgate.Announcement {
	return imgate.Announcement{ID: r.ID, GroupID: r.GroupID, Title: r.Title, Content: r.Content, AuthorID: r.AuthorID, CreatedAt: fromMillis(r.CreatedAt)}
}

// fileRow is the SQL form of imgate.SharedFile.
type fileRow struct {
	ID         int64  `db:"id"`
	GroupID    int64  `db:"group_id"`
	Name       string `db:"name"`
	Size       int64  `db:"size"`
	Type       string `db:"type"`
	URL        string `db:"url"`
	UploaderID int64  `db:"uploader_id"`
	CreatedAt  int64  `db:"created_at"`
	UpdatedAt  int64  `db:"updated_at"`
}

// fileSet lists what SaveSharedFile writes: all but the id and group.
const fileSet = "name, size, type, url, uploader_id, created_at, updated_at"

// fileColumns leaves out the id, which the database assigns.
const fileColumns = "group_id, " + fileSet

func newFileRow(f imgate.SharedFile) fileRow {
	return fileRow{
		ID: f.ID, GroupID: f.GroupID, Name: f.Name, Size: f.Size, Type: f.Type, URL: f.URL,
		UploaderID: f.UploaderID, CreatedAt: millis(f.CreatedAt), UpdatedAt: millis(f.UpdatedAt),
	}
}

func (r fileRow) file() imgate.SharedFile {
	return imgate.SharedFile{
		ID: r.ID, GroupID: r.GroupID, Name: r.Name, Size: r.Size, Type: r.Type, URL: r.URL,
		UploaderID: r.UploaderID, CreatedAt: fromMillis(r.CreatedAt), UpdatedAt: fromMillis(r.UpdatedAt),
	}
}
