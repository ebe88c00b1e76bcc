package admin

import (
	"time"

	"github.com/imgate/imgate"
)

// groupInfo is GroupInfoAndSettingsDto: the group's info and settings,
// with the caller's own message settings when the caller is a member.
type groupInfo struct {
	GroupID        int64  `json:"group_id"`
	Name           string `json:"name"`
	Avatar         string `json:"avatar"`
	Description    string `json:"description"`
	Ext            string `json:"ext"`
	OwnerID        int64  `json:"owner_id"`
	Type           int    `json:"type"`
	Status         int    `json:"status"`
	Capacity       int    `json:"capacity"`
	Count          int    `json:"count"`
	CreatedAt      int64  `json:"created_at"`
	UpdatedAt      int64  `json:"updated_at"`
	ApplyApproval  int    `json:"apply_approval"`
	MemberInvite   bool   `json:"member_invite"`
	MemberModify   bool   `json:"member_modify"`
	ReadAck        bool   `json:"read_ack"`
	HistoryVisible bool   `json:"history_visible"`
	HideMemberInfo bool   `json:"hide_member_info"`
	MsgMuteMode    int    `json:"msg_mute_mode"`
	MsgPushMode    int    `json:"msg_push_mode"`
	BanExpireTime  int64  `json:"ban_expire_time"`
}

// groupInfoOf shapes a group; m is the caller's membership (zero if none).
func groupInfoOf(g imgate.Group, m imgate.Member) groupInfo {
	return groupInfo{
		GroupID: g.ID, Name: g.Name, Avatar: g.Avatar, Description: g.Description, Ext: g.Ext, OwnerID: g.OwnerID,
		Type: int(g.Type), Capacity: g.Capacity, Count: g.Count, CreatedAt: g.CreatedAt.UnixMilli(),
		UpdatedAt: g.UpdatedAt.UnixMilli(), ApplyApproval: g.ApplyApproval, MemberInvite: g.MemberInvite,
		MemberModify: g.MemberModify, ReadAck: g.ReadAck, HistoryVisible: g.HistoryVisible,
		HideMemberInfo: g.HideMemberInfo, MsgMuteMode: m.MuteMode, MsgPushMode: m.PushMode, BanExpireTime: g.BanAllExpire,
	}
}

// groupBrief is the /group/info/batch item (群简要信息及用户设置).
type groupBrief struct {
	GroupID       int64  `json:"group_id"`
	Name          string `json:"name"`
	Avatar        string `json:"avatar"`
	Owner         int64  `json:"owner"`
	Type          int    `json:"type"`
	Status        int    `json:"status"`
	Capacity      int    `json:"capacity"`
	Count         int    `json:"count"`
	ApplyApproval int    `json:"apply_approval"`
	MsgMuteMode   int    `json:"msg_mute_mode"`
	MsgPushMode   int    `json:"msg_push_mode"`
}

func groupBriefOf(g imgate.Group, m imgate.Member) groupBrief {
	return groupBrief{
		GroupID: g.ID, Name: g.Name, Avatar: g.Avatar, Owner: g.OwnerID, Type: int(g.Type), Capacity: g.Capacity,
		Count: g.Count, ApplyApproval: g.ApplyApproval, MsgMuteMode: m.MuteMode, MsgPushMode: m.PushMode,
	}
}

// groupMember is the GroupMember shape (群成员格式). expired_time, the ban's
// end in ms, is left out when the member is not banned.
type groupMember struct {
	UserID      int64  `json:"user_id"`
	DisplayName string `json:"display_name,omitempty"`
	JoinTime    int64  `json:"join_time"`
	ExpiredTime int64  `json:"expired_time,omitempty"`
}

func groupMemberOf(m imgate.Member, now time.Time) groupMember {
	out := groupMember{UserID: m.UserID, DisplayName: m.DisplayName, JoinTime: m.JoinedAt.UnixMilli()}
	if m.Banned(now) {
		out.ExpiredTime = m.BanExpire
	}
	return out
}

// relationResult is GroupUserRelationResponse, one user's outcome of a
// batch group operation.
type relationResult struct {
	UserID int64  `json:"user_id"`
	Result string `json:"result"` // "success" or "fail"
	Reason string `json:"reason,omitempty"`
}

func relationOf(userID int64, err error) relationResult {
	if err != nil {
		return relationResult{UserID: userID, Result: "fail", Reason: imgate.ErrorMessage(err)}
	}
	return relationResult{UserID: userID, Result: "success"}
}

// notifyMembers writes a group notice to every member of the group, and
// to the extra users (such as one who just left) as well.
func notifyMembers(tx imgate.GroupTx, n imgate.Notice, extra ...int64) error {
	ids, err := tx.MemberIDs()
	if err != nil {
		return err
	}
	n.Kind, n.GroupID, n.AppID = imgate.NoticeGroup, tx.Group().ID, tx.Group().AppID
	return tx.Notify(imgate.Notify(append(ids, extra...), n)...)
}
