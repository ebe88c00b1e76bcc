package admin

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/imgate/imgate"
)

func (s *Server) groupJoinRoutes() {
	s.handle("/group/invite", anyToken, s.invite, post)
	s.handle("/group/invite/handle", asUser, s.handleInvite, post, put)
	s.handle("/group/apply", asUser, s.apply, post)
	s.handle("/group/apply/handle", anyToken, s.handleApply, post, put)
	s.handle("/group/qrcode/sign", anyToken, s.signQRCode, get)
	s.handle("/group/qrcode/invite", asUser, s.joinByQRCode, post)
}

// admission is what deciding whether users may join a group needs: the
// app's limits and the joiners' accounts, read before the group's
// transaction (its callback may not call the store), and how many groups
// each joiner belongs to, read in the transaction (counted) with the
// joiners' rows locked, so that concurrent joins and creations cannot
// take a user past GroupsJoinedPerUser.
type admission struct {
	limits imgate.AppLimits
	at     time.Time
	users  map[int64]imgate.User // the joiners that are users of the app
	// owner is the creator of a group being created (0: none), whose
	// row is locked and groups counted with the joiners'.
	owner int64
	// counted is the transaction counts were read in (a write retried
	// runs its callback again, in a new one).
	counted imgate.GroupTx
	counts  map[int64]imgate.UserGroupCount
}

func (s *Server) admission(ctx context.Context, c *call, userIDs ...int64) (*admission, error) {
	ad := &admission{limits: c.app.Limits.WithDefaults(), at: groupTime(), users: map[int64]imgate.User{}}
	for _, uid := range userIDs {
		u, err := s.store.User(ctx, c.app.ID, uid)
		if imgate.ErrorCode(err) == imgate.CodeUserNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		ad.users[uid] = u
	}
	return ad, nil
}

// count locks the rows of the joiners (and the owner) in tx and counts
// their groups, once per transaction.
func (ad *admission) count(tx imgate.GroupTx) error {
	if ad.counted == tx {
		return nil
	}
	ids := make([]int64, 0, len(ad.users)+1)
	for uid := range ad.users {
		ids = append(ids, uid)
	}
	if ad.owner != 0 {
		ids = append(ids, ad.owner)
	}
	counts, err := tx.UserGroups(ids...)
	if err != nil {
		return err
	}
	ad.counted, ad.counts = tx, counts
	return nil
}

// check tells whether the user may join the group as it stands in tx:
// 10000 unknown user, 20018 blacklisted, 20017 already a member, 20016
// kicked too often, 20010 group full, 20009 in too many groups.
func (ad *admission) check(tx imgate.GroupTx, userID int64) error {
	if _, ok := ad.users[userID]; !ok {
		return imgate.Errorf(imgate.CodeUserNotFound, "user %d not found", userID)
	}
	if blocked, err := tx.Blocked(userID); err != nil || blocked {
		return firstErr(err, imgate.Errorf(imgate.CodeInGroupBlacklist, "user %d is on the group's blacklist", userID))
	}
	if _, member, err := tx.Member(userID); err != nil || member {
		return firstErr(err, imgate.Errorf(imgate.CodeAlreadyMember, "user %d is already a member", userID))
	}
	if kicks, err := tx.Kicks(userID); err != nil || kicks >= ad.limits.KicksBeforeBar {
		return firstErr(err, imgate.Errorf(imgate.CodeKickLimit, "user %d was kicked from the group %d times and may not rejoin", userID, kicks))
	}
	g := tx.Group()
	capacity := g.Capacity
	if capacity <= 0 {
		capacity = ad.limits.GroupCapacity
	}
	if g.Count >= capacity {
		return imgate.Errorf(imgate.CodeGroupFull, "the group is full: %d members", g.Count)
	}
	if err := ad.count(tx); err != nil {
		return err
	}
	if n := ad.counts[userID].Joined; n >= ad.limits.GroupsJoinedPerUser {
		return imgate.Errorf(imgate.CodeJoinedGroupLimit, "user %d belongs to %d groups, the limit", userID, n)
	}
	return nil
}

// checkOwner checks the limits on groups owned and joined of the owner of
// a group being created, in its transaction, before the owner joins it:
// the new group is counted as owned already.
func (ad *admission) checkOwner(tx imgate.GroupTx) error {
	if err := ad.count(tx); err != nil {
		return err
	}
	switch c := ad.counts[ad.owner]; {
	case c.Owned-1 >= ad.limits.GroupsOwnedPerUser:
		return imgate.Errorf(imgate.CodeOwnedGroupLimit, "user %d owns %d groups, the limit", ad.owner, c.Owned-1)
	case c.Joined >= ad.limits.GroupsJoinedPerUser:
		return imgate.Errorf(imgate.CodeJoinedGroupLimit, "user %d belongs to %d groups, the limit", ad.owner, c.Joined)
	}
	return nil
}

// join adds the user as a plain member if check allows it. It is the one
// way into a group for invitations, applications and QR codes alike; the
// callers announce the joins.
func (ad *admission) join(tx imgate.GroupTx, userID int64) error {
	if err := ad.check(tx, userID); err != nil {
		return err
	}
	m := imgate.Member{GroupID: tx.Group().ID, UserID: userID, Role: imgate.RoleMember, JoinedAt: ad.at}
	return tx.AddMember(m)
}

// joinedLocked announces joins to the members, the new ones included.
func joinedLocked(tx imgate.GroupTx, from int64, at time.Time, users ...int64) error {
	if err := touchLocked(tx, at); err != nil {
		return err
	}
	return notifyMembers(tx, newGroupNotice(imgate.GroupJoined, from, at, users...))
}

// mayInvite: admins may invite, and members when the group lets them.
func mayInvite(a actor, g imgate.Group) error {
	if a.role == imgate.RoleMember && g.MemberInvite {
		return nil
	}
	if a.role == noRole {
		return a.need(imgate.RoleMember)
	}
	return a.need(imgate.RoleAdmin)
}

// POST /group/invite {group_id, reason, user_list}: invitees who ask to
// confirm group invitations (UserSettings.GroupConfirm) get a pending
// invitation; the others join at once. An admin token acting as nobody
// has no one for an invitation to answer to, so its invitees always join
// at once.
func (s *Server) invite(r *http.Request, c *call) (any, error) {
	var req struct {
		GroupID  id     `json:"group_id"`
		Reason   string `json:"reason"`
		UserList []id   `json:"user_list"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if err := firstErr(fillGroupID(c, &req.GroupID), s.checkList("user_list", len(req.UserList)),
		checkLen("reason", req.Reason, maxTextLen)); err != nil {
		return nil, err
	}
	users := uniqueIDs(ids(req.UserList))
	ad, err := s.admission(r.Context(), c, users...)
	if err != nil {
		return nil, err
	}
	var out []relationResult
	err = s.inGroup(r.Context(), c, int64(req.GroupID), noRole, func(tx imgate.GroupTx, a actor) error {
		if err := mayInvite(a, tx.Group()); err != nil {
			return err
		}
		out = make([]relationResult, 0, len(users))
		var joined []int64
		for _, uid := range users {
			added, err := ad.inviteLocked(tx, a, uid, req.Reason)
			if imgate.ErrorCode(err) == imgate.CodeStore {
				return err
			}
			out = append(out, relationOf(uid, err))
			if added {
				joined = append(joined, uid)
			}
		}
		if len(joined) == 0 {
			return nil
		}
		return joinedLocked(tx, a.userID, ad.at, joined...)
	})
	return out, err
}

// inviteLocked adds the invitee, or invites it when it confirms
// invitations: added reports which.
func (ad *admission) inviteLocked(tx imgate.GroupTx, a actor, userID int64, reason string) (added bool, err error) {
	if a.userID == 0 || !ad.users[userID].Settings.GroupConfirm {
		err := ad.join(tx, userID)
		return err == nil, err
	}
	if err := ad.check(tx, userID); err != nil {
		return false, err
	}
	inv := imgate.GroupInvitation{
		GroupID: tx.Group().ID, InviterID: a.userID, InviteeID: userID, Reason: reason, Status: imgate.ApplicationPending,
		ExpiresAt: ad.at.Add(groupRequestTTL), CreatedAt: ad.at, UpdatedAt: ad.at,
	}
	if err := tx.PutInvitation(inv); err != nil {
		return false, err
	}
	n := newGroupNotice(imgate.GroupInvited, a.userID, ad.at, userID)
	n.Content = reason
	return false, notifyUsers(tx, n, userID, a.userID)
}

// approvalRequest is ApprovalRequest: user_id is the inviter when an
// invitee answers, the applicant when an admin does.
type approvalRequest struct {
	Approval *bool `json:"approval"`
	GroupID  id    `json:"group_id"`
	UserID   id    `json:"user_id"`
}

func (s *Server) decodeApproval(r *http.Request, c *call) (approvalRequest, error) {
	var req approvalRequest
	if err := s.decode(r, &req); err != nil {
		return req, err
	}
	if req.Approval == nil {
		return req, badParam("approval is required")
	}
	return req, firstErr(fillGroupID(c, &req.GroupID), positive("user_id", int64(req.UserID)))
}

// POST|PUT /group/invite/handle {approval, group_id, user_id}: the acting
// user answers user_id's invitation (20015 if there is none pending).
func (s *Server) handleInvite(r *http.Request, c *call) (any, error) {
	req, err := s.decodeApproval(r, c)
	if err != nil {
		return nil, err
	}
	ad, err := s.admission(r.Context(), c, c.userID)
	if err != nil {
		return nil, err
	}
	err = s.inGroup(r.Context(), c, int64(req.GroupID), noRole, func(tx imgate.GroupTx, _ actor) error {
		inv, ok, err := tx.Invitation(c.userID)
		if err != nil {
			return err
		}
		if !ok || inv.InviterID != int64(req.UserID) || inv.Status != imgate.ApplicationPending || !ad.at.Before(inv.ExpiresAt) {
			return imgate.Errorf(imgate.CodeInviteHandled, "no pending invitation from user %d", req.UserID)
		}
		typ := imgate.GroupInviteDeclined
		inv.Status, inv.UpdatedAt = imgate.ApplicationDeclined, ad.at
		if *req.Approval {
			if err := ad.join(tx, c.userID); err != nil {
				return err
			}
			if err := joinedLocked(tx, c.userID, ad.at, c.userID); err != nil {
				return err
			}
			typ, inv.Status = imgate.GroupInviteAccepted, imgate.ApplicationAccepted
		}
		if err := tx.PutInvitation(inv); err != nil {
			return err
		}
		return notifyUsers(tx, newGroupNotice(typ, c.userID, ad.at, c.userID), c.userID, inv.InviterID)
	})
	if err != nil {
		return nil, err
	}
	return true, nil
}

// staffIDs lists the group's owner and admins, for addressing notices
// about applications. It is read before the group's transaction, and
// staffLocked filters it there.
func (s *Server) staffIDs(ctx context.Context, appID string, groupID int64) ([]int64, error) {
	ms, err := s.store.Members(ctx, appID, groupID, imgate.AdminMembers, 0, maxPage)
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.UserID
	}
	return out, err
}

// staffLocked returns the owner and those of the candidates still admins.
func staffLocked(tx imgate.GroupTx, candidates []int64) ([]int64, error) {
	out := []int64{tx.Group().OwnerID}
	for _, uid := range candidates {
		m, ok, err := tx.Member(uid)
		if err != nil {
			return nil, err
		}
		if ok && m.Role >= imgate.RoleAdmin {
			out = append(out, uid)
		}
	}
	return out, nil
}

// POST /group/apply {group_id, reason}: by the group's apply_approval the
// acting user joins at once (0), waits for an admin (1) or is turned
// away (2, 10010).
func (s *Server) apply(r *http.Request, c *call) (any, error) {
	var req struct {
		GroupID id     `json:"group_id"`
		Reason  string `json:"reason"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if err := firstErr(fillGroupID(c, &req.GroupID), checkLen("reason", req.Reason, maxTextLen)); err != nil {
		return nil, err
	}
	gid := int64(req.GroupID)
	ad, err := s.admission(r.Context(), c, c.userID)
	if err != nil {
		return nil, err
	}
	staff, err := s.staffIDs(r.Context(), c.app.ID, gid)
	if err != nil {
		return nil, err
	}
	err = s.inGroup(r.Context(), c, gid, noRole, func(tx imgate.GroupTx, _ actor) error {
		if err := ad.check(tx, c.userID); err != nil {
			return err
		}
		switch tx.Group().ApplyApproval {
		case imgate.ApplyRejectAll:
			return imgate.Errorf(imgate.CodeForbidden, "group %d takes no applications", gid)
		case imgate.ApplyAcceptAll:
			if err := ad.join(tx, c.userID); err != nil {
				return err
			}
			return joinedLocked(tx, c.userID, ad.at, c.userID)
		}
		return applyLocked(tx, ad.at, c.userID, req.Reason, staff)
	})
	if err != nil {
		return nil, err
	}
	return relationOf(c.userID, nil), nil
}

func applyLocked(tx imgate.GroupTx, at time.Time, applicant int64, reason string, staff []int64) error {
	ap := imgate.GroupApplication{
		GroupID: tx.Group().ID, ApplicantID: applicant, Reason: reason, Status: imgate.ApplicationPending,
		ExpiresAt: at.Add(groupRequestTTL), CreatedAt: at, UpdatedAt: at,
	}
	if err := tx.PutApplication(ap); err != nil {
		return err
	}
	to, err := staffLocked(tx, staff)
	if err != nil {
		return err
	}
	n := newGroupNotice(imgate.GroupApplied, applicant, at, applicant)
	n.Content = reason
	return notifyUsers(tx, n, to...)
}

// POST|PUT /group/apply/handle {approval, group_id, user_id}: an admin
// answers user_id's application (20014 if there is none pending).
func (s *Server) handleApply(r *http.Request, c *call) (any, error) {
	req, err := s.decodeApproval(r, c)
	if err != nil {
		return nil, err
	}
	gid, applicant := int64(req.GroupID), int64(req.UserID)
	ad, err := s.admission(r.Context(), c, applicant)
	if err != nil {
		return nil, err
	}
	staff, err := s.staffIDs(r.Context(), c.app.ID, gid)
	if err != nil {
		return nil, err
	}
	err = s.inGroup(r.Context(), c, gid, imgate.RoleAdmin, func(tx imgate.GroupTx, a actor) error {
		ap, ok, err := tx.Application(applicant)
		if err != nil {
			return err
		}
		if !ok || ap.Status != imgate.ApplicationPending || !ad.at.Before(ap.ExpiresAt) {
			return imgate.Errorf(imgate.CodeApplyHandled, "no pending application from user %d", applicant)
		}
		typ := imgate.GroupApplyDeclined
		ap.Status, ap.UpdatedAt = imgate.ApplicationDeclined, ad.at
		if *req.Approval {
			if err := ad.join(tx, applicant); err != nil {
				return err
			}
			if err := joinedLocked(tx, a.userID, ad.at, applicant); err != nil {
				return err
			}
			typ, ap.Status = imgate.GroupApplyAccepted, imgate.ApplicationAccepted
		}
		if err := tx.PutApplication(ap); err != nil {
			return err
		}
		to, err := staffLocked(tx, staff)
		if err != nil {
			return err
		}
		return notifyUsers(tx, newGroupNotice(typ, a.userID, ad.at, applicant), append(to, applicant)...)
	})
	if err != nil {
		return nil, err
	}
	return relationOf(applicant, nil), nil
}

// qrCode is QrCodeDto: a signed invitation anyone holding it may use
// until it expires, as long as its signer stays in the group and may invite.
type qrCode struct {
	QRInfo   string `json:"qr_info"`
	CreateAt int64  `json:"create_at"`
	ExpireAt int64  `json:"expire_at"`
}

// qrPurpose separates QR-code signatures from every other use of the
// server's signing secret (auth.Tokens.Sign); with the app's id appended
// it gives each app a key of its own, so a code works in its app only.
const qrPurpose = "imgate group qrcode v1 "

// qrClaims is what a QR code says: who invites whom into which group,
// from when until when (ms).
type qrClaims struct {
	groupID, inviterID int64
	createAt, expireAt int64
}

// payload is the signed text: the claims as dotted numbers.
func (q qrClaims) payload() string {
	return fmt.Sprintf("%d.%d.%d.%d", q.groupID, q.inviterID, q.createAt, q.expireAt)
}

// signQR gives a QR code's qr_info: the payload and its signature under
// the app's key, each base64url-encoded, joined by a dot.
func (s *Server) signQR(appID string, q qrClaims) string {
	p := q.payload()
	sig := s.tokens.Sign(qrPurpose+appID, []byte(p))
	return base64.RawURLEncoding.EncodeToString([]byte(p)) + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// openQR checks a QR code's signature under the app's key and reads it:
// 20024 if it is not one this server signed for the app.
func (s *Server) openQR(appID, info string) (qrClaims, error) {
	bad := imgate.Errorf(imgate.CodeQRCodeInvalid, "invalid group QR code")
	p64, sig64, _ := strings.Cut(info, ".")
	p, err1 := base64.RawURLEncoding.DecodeString(p64)
	sig, err2 := base64.RawURLEncoding.DecodeString(sig64)
	if err1 != nil || err2 != nil || !s.tokens.Valid(qrPurpose+appID, p, sig) {
		return qrClaims{}, bad
	}
	f := strings.Split(string(p), ".")
	if len(f) != 4 {
		return qrClaims{}, bad
	}
	var n [4]int64
	for i := range n {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return qrClaims{}, bad
		}
		n[i] = v
	}
	return qrClaims{groupID: n[0], inviterID: n[1], createAt: n[2], expireAt: n[3]}, nil
}

// GET /group/qrcode/sign?group_id: a QR-code invitation from the caller,
// who must be allowed to invite.
func (s *Server) signQRCode(r *http.Request, c *call) (any, error) {
	gid, err := groupIDParam(r, c)
	if err != nil {
		return nil, err
	}
	g, a, _, err := s.readGroup(r.Context(), c, gid, noRole)
	if err == nil {
		err = mayInvite(a, g)
	}
	if err != nil {
		return nil, err
	}
	at := groupTime()
	q := qrClaims{groupID: gid, inviterID: a.userID, createAt: at.UnixMilli(), expireAt: at.Add(groupQRCodeTTL).UnixMilli()}
	return qrCode{QRInfo: s.signQR(c.app.ID, q), CreateAt: q.createAt, ExpireAt: q.expireAt}, nil
}

// POST /group/qrcode/invite {qr_info}: the acting user joins the group of
// the code: 20024 if it is not a valid code of this app or its signer has
// left the group, 20025 if it has expired.
func (s *Server) joinByQRCode(r *http.Request, c *call) (any, error) {
	var req struct {
		QRInfo string `json:"qr_info"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	q, err := s.openQR(c.app.ID, req.QRInfo)
	if err != nil {
		return nil, err
	}
	ad, err := s.admission(r.Context(), c, c.userID)
	if err != nil {
		return nil, err
	}
	if ad.at.UnixMilli() >= q.expireAt {
		return nil, imgate.Errorf(imgate.CodeQRCodeExpired, "the group QR code expired")
	}
	err = s.inGroup(r.Context(), c, q.groupID, noRole, func(tx imgate.GroupTx, _ actor) error {
		if q.inviterID != 0 {
			// The code carries its signer's right to invite, so it lapses
			// when the signer leaves or may no longer invite.
			m, ok, err := tx.Member(q.inviterID)
			if err != nil {
				return err
			}
			if !ok || mayInvite(actor{userID: m.UserID, role: m.Role}, tx.Group()) != nil {
				return imgate.Errorf(imgate.CodeQRCodeInvalid, "the group QR code's signer may no longer invite")
			}
		}
		if err := ad.join(tx, c.userID); err != nil {
			return err
		}
		return joinedLocked(tx, c.userID, ad.at, c.userID)
	})
	return nil, err
}
