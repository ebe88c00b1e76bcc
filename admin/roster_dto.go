package admin

import (
	"strings"

	"github.com/imgate/imgate"
)

// rosterItem is RosterItemDto: a user's public profile as the caller sees
// it, with the caller's notes on the user and their relation.
type rosterItem struct {
	UserID           int64  `json:"user_id"`
	Username         string `json:"username"`
	NickName         string `json:"nick_name"`
	Avatar           string `json:"avatar"`
	Alias            string `json:"alias"`
	Ext              string `json:"ext"`
	Description      string `json:"description"`
	PublicInfo       string `json:"public_info"`
	AuthMode         int    `json:"auth_mode"`
	AuthQuestion     string `json:"auth_question"`
	MuteNotification bool   `json:"mute_notification"`
	Relation         int    `json:"relation"`
}

// rosterItemOf shapes user u as seen through the caller's item for u.
func rosterItemOf(u imgate.User, item imgate.RosterItem) rosterItem {
	return rosterItem{
		UserID: u.ID, Username: u.Username, NickName: u.NickName, Avatar: u.Avatar, Alias: item.Alias,
		Ext: item.Ext, Description: u.Description, PublicInfo: u.PublicInfo, AuthMode: u.Settings.AuthMode,
		AuthQuestion: u.Settings.AuthQuestion, MuteNotification: item.Muted, Relation: int(item.Relation()),
	}
}

// rosterApplication is RosterApplicationDto, one application addressed to
// the caller.
type rosterApplication struct {
	UserID      int64  `json:"user_id"` // the applicant
	Reason      string `json:"reason"`
	Status      int    `json:"status"`
	ExpiredTime int64  `json:"expired_time"`
}

func rosterApplicationOf(a imgate.RosterApplication) rosterApplication {
	return rosterApplication{UserID: a.ApplicantID, Reason: a.Reason, Status: int(a.Status), ExpiredTime: a.ExpiresAt.UnixMilli()}
}

// batchApply is BatchApplyDto, the answer of /roster/apply/batch.
type batchApply struct {
	Success []int64      `json:"success"`
	Fails   []rosterFail `json:"fails"`
}

// rosterFail is FailDto: why one application of a batch failed.
type rosterFail struct {
	UserID int64  `json:"user_id"`
	Reason string `json:"reason"`
}

// rosterEntry is an item of the seed's GET /user/rosters: name is the
// friend's username.
type rosterEntry struct {
	UserID int64  `json:"user_id"`
	Name   string `json:"name"`
}

// rosterApplyRequest is RosterApplicationRequest, and RosterApplication (the
// same without auth_answer) in a batch.
type rosterApplyRequest struct {
	UserID     id     `json:"user_id"`
	Alias      string `json:"alias"`
	AuthAnswer string `json:"auth_answer"`
	Reason     string `json:"reason"`
}

// check validates the request of the applicant me.
func (req rosterApplyRequest) check(me int64) error {
	if err := checkRosterTarget(int64(req.UserID), me); err != nil {
		return err
	}
	return firstErr(checkLen("alias", req.Alias, maxNameLen), checkLen("reason", req.Reason, maxTextLen),
		checkLen("auth_answer", req.AuthAnswer, maxTextLen))
}

// rosterExtRequest is RosterExtRequest: fields left out stay.
type rosterExtRequest struct {
	UserID           id      `json:"user_id"`
	Alias            *string `json:"alias"`
	Ext              *string `json:"ext"`
	MuteNotification *bool   `json:"mute_notification"`
}

func (req rosterExtRequest) check(me int64) error {
	if err := checkRosterTarget(int64(req.UserID), me); err != nil {
		return err
	}
	return firstErr(checkLen("alias", deref(req.Alias), maxNameLen), checkBytes("ext", deref(req.Ext), maxInfoBytes))
}

// checkRosterTarget checks the other user of a roster change made by me.
func checkRosterTarget(other, me int64) error {
	switch {
	case other <= 0:
		return badParam("user_id is required and must be a positive integer")
	case other == me:
		return badParam("user_id %d is yourself", other)
	}
	return nil
}

// rightAuthAnswer compares an applicant's answer with the target's, ignoring
// surrounding space and letter case: people type answers by hand.
func rightAuthAnswer(given, want string) bool {
	return strings.EqualFold(strings.TrimSpace(given), strings.TrimSpace(want))
}
