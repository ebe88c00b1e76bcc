package admin_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgate/imgate"
)

// gcApp is a copy of a working in a new app with the limits.
func gcApp(t *testing.T, a *api, id string, lim imgate.AppLimits) *api {
	t.Helper()
	ctx := context.Background()
	if err := a.store.CreateApp(ctx, imgate.App{ID: id, Name: id, Limits: lim, CreatedAt: time.UnixMilli(time.Now().UnixMilli())}); err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.tokens.IssueAdmin(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	b := *a
	b.t, b.app, b.admin = t, id, tok
	return &b
}

// gcConfirm makes the user confirm group invitations.
func gcConfirm(a *api, u gcUser) {
	a.ok("POST", "/user/settings", a.as(u.tok), map[string]any{"group_confirm": true}, nil)
}

func TestGroupInvite(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		g := gcNew(t, a, "inv")
		x, _ := a.user("inv_x")
		y, _ := a.user("inv_y")
		z, _ := a.user("inv_z")
		a.fails(imgate.CodeNeedMember, "POST", "/group/invite", a.as(g.outsider.tok), g.body(x))
		a.fails(imgate.CodeInvalidParameter, "POST", "/group/invite", a.as(g.member.tok), g.body())
		a.fails(imgate.CodeGroupNotFound, "POST", "/group/invite", a.as(g.member.tok), map[string]any{"group_id": gcNobody, "user_list": []int64{x}})

		users := []int64{g.owner.id, g.admin.id, g.member.id, g.member2.id, g.outsider.id, x}
		mark := gcMarkOf(t, a, users...)
		gcResults(t, a, "POST", "/group/invite", a.as(g.member.tok), g.body(x, g.admin.id, gcNobody),
			map[int64]string{x: "success", g.admin.id: "fail", gcNobody: "fail"})
		mark.want(t, a, g.id, gcAll([]int64{g.owner.id, g.admin.id, g.member.id, g.member2.id, x},
			gcWant{imgate.GroupJoined, g.member.id, []int64{x}}))

		gcSetGroup(t, a, g.id, func(gr *imgate.Group) { gr.MemberInvite = false })
		a.fails(imgate.CodeNeedAdmin, "POST", "/group/invite", a.as(g.member.tok), g.body(y))
		gcResults(t, a, "POST", "/group/invite", a.as(g.admin.tok), g.body(y), map[int64]string{y: "success"})
		gcResults(t, a, "POST", "/group/invite", h{"app_id": a.app, "access-token": a.admin, "group_id": jsonString(g.id)},
			map[string]any{"user_list": []int64{z}}, map[int64]string{z: "success"})
		gcWantMembers(t, a, g.id, g.owner.id, g.admin.id, g.member.id, g.member2.id, x, y, z)
	})
}

// gcInvitation is GroupInvitation.
type gcInvitation struct {
	GroupID     int64  `json:"group_id"`
	InviterID   int64  `json:"inviter_id"`
	InviteeID   int64  `json:"invitee_id"`
	Reason      string `json:"reason"`
	Status      int    `json:"status"`
	ExpiredTime int64  `json:"expired_time"`
	UpdatedAt   string `json:"updated_at"`
}

func TestGroupInviteConfirm(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		g := gcNew(t, a, "conf")
		gcConfirm(a, g.outsider)
		members := []int64{g.owner.id, g.admin.id, g.member.id, g.member2.id}
		mark := gcMarkOf(t, a, g.everyone()...)
		body := g.body(g.outsider.id)
		body["reason"] = "join us"
		gcResults(t, a, "POST", "/group/invite", a.as(g.member.tok), body, map[int64]string{g.outsider.id: "success"})
		gcWantMembers(t, a, g.id, members...)
		invited := gcWant{imgate.GroupInvited, g.member.id, []int64{g.outsider.id}}
		mark.want(t, a, g.id, map[int64][]gcWant{g.member.id: {invited}, g.outsider.id: {invited}})

		var invs []gcInvitation
		a.ok("GET", "/group/invitation_list", a.as(g.outsider.tok), nil, &invs)
		week := time.Now().Add(7 * 24 * time.Hour).UnixMilli()
		if len(invs) != 1 || invs[0].GroupID != g.id || invs[0].InviterID != g.member.id || invs[0].InviteeID != g.outsider.id ||
			invs[0].Reason != "join us" || invs[0].Status != 0 || invs[0].ExpiredTime < week-60_000 || invs[0].ExpiredTime > week {
			t.Fatalf("invitation_list: got %+v", invs)
		}
		if _, err := time.Parse(time.RFC3339, invs[0].UpdatedAt); err != nil {
			t.Errorf("updated_at %q: %v", invs[0].UpdatedAt, err)
		}

		answer := func(inviter int64, yes bool) map[string]any {
			return map[string]any{"group_id": g.id, "user_id": inviter, "approval": yes}
		}
		a.fails(imgate.CodeInviteHandled, "POST", "/group/invite/handle", a.as(g.outsider.tok), answer(g.owner.id, true))
		a.fails(imgate.CodeInviteHandled, "POST", "/group/invite/handle", a.as(g.member2.tok), answer(g.member.id, true))
		a.fails(imgate.CodeInvalidParameter, "POST", "/group/invite/handle", a.as(g.outsider.tok),
			map[string]any{"group_id": g.id, "user_id": g.member.id})
		mark = gcMarkOf(t, a, g.everyone()...)
		r := a.ok("PUT", "/group/invite/handle", a.as(g.outsider.tok), answer(g.member.id, true), nil)
		if string(r.Data) != "true" {
			t.Errorf("invite/handle: got %s", r.Data)
		}
		joined := gcWant{imgate.GroupJoined, g.outsider.id, []int64{g.outsider.id}}
		accepted := gcWant{imgate.GroupInviteAccepted, g.outsider.id, []int64{g.outsider.id}}
		want := gcAll(append(members, g.outsider.id), joined)
		want[g.member.id] = append(want[g.member.id], accepted)
		want[g.outsider.id] = append(want[g.outsider.id], accepted)
		mark.want(t, a, g.id, want)
		gcWantMembers(t, a, g.id, append(members, g.outsider.id)...)
		a.fails(imgate.CodeInviteHandled, "POST", "/group/invite/handle", a.as(g.outsider.tok), answer(g.member.id, true))
		a.ok("GET", "/group/invitation_list", a.as(g.outsider.tok), nil, &invs)
		if len(invs) != 1 || invs[0].Status != 1 {
			t.Errorf("invitation after accepting: got %+v", invs)
		}

		d, dtok := a.user("conf_declines")
		gcConfirm(a, gcUser{d, dtok})
		a.ok("POST", "/group/invite", a.as(g.admin.tok), g.body(d), nil)
		mark = gcMarkOf(t, a, append(g.everyone(), d)...)
		a.ok("POST", "/group/invite/handle", a.as(a.admin, d), answer(g.admin.id, false), nil)
		declined := gcWant{imgate.GroupInviteDeclined, d, []int64{d}}
		mark.want(t, a, g.id, map[int64][]gcWant{d: {declined}, g.admin.id: {declined}})
		a.fails(imgate.CodeInviteHandled, "POST", "/group/invite/handle", a.as(dtok), answer(g.admin.id, true))

		// An expired invitation cannot be accepted.
		e, etok := a.user("conf_late")
		err := a.store.UpdateGroup(context.Background(), a.app, g.id, func(tx imgate.GroupTx) error {
			past := time.UnixMilli(time.Now().Add(-time.Hour).UnixMilli())
			return tx.PutInvitation(imgate.GroupInvitation{GroupID: g.id, InviterID: g.owner.id, InviteeID: e,
				Status: imgate.ApplicationPending, ExpiresAt: past, CreatedAt: past, UpdatedAt: past})
		})
		if err != nil {
			t.Fatal(err)
		}
		a.fails(imgate.CodeInviteHandled, "POST", "/group/invite/handle", a.as(etok), answer(g.owner.id, true))
	})
}

// gcApplication is GroupApplication.
type gcApplication struct {
	GroupID     int64  `json:"group_id"`
	ApplicantID int64  `json:"applicant_id"`
	Reason      string `json:"reason"`
	Status      int    `json:"status"`
	ExpiredTime int64  `json:"expired_time"`
}

func TestGroupApply(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		g := gcNew(t, a, "app")
		members := []int64{g.owner.id, g.admin.id, g.member.id, g.member2.id}
		apply := map[string]any{"group_id": g.id, "reason": "let me in"}
		a.fails(imgate.CodeAlreadyMember, "POST", "/group/apply", a.as(g.member.tok), apply)

		mark := gcMarkOf(t, a, g.everyone()...)
		var res gcResult
		a.ok("POST", "/group/apply", a.as(g.outsider.tok), apply, &res)
		if res != (gcResult{UserID: g.outsider.id, Result: "success"}) {
			t.Errorf("apply: got %+v", res)
		}
		applied := gcWant{imgate.GroupApplied, g.outsider.id, []int64{g.outsider.id}}
		mark.want(t, a, g.id, map[int64][]gcWant{g.owner.id: {applied}, g.admin.id: {applied}})
		gcWantMembers(t, a, g.id, members...)

		var aps []gcApplication
		list := map[string]any{"group_list": []int64{g.id}}
		a.fails(imgate.CodeNeedAdmin, "POST", "/group/application_list", a.as(g.member.tok), list)
		a.ok("POST", "/group/application_list", a.as(g.admin.tok), list, &aps)
		if len(aps) != 1 || aps[0] != (gcApplication{g.id, g.outsider.id, "let me in", 0, aps[0].ExpiredTime}) ||
			aps[0].ExpiredTime < time.Now().Add(6*24*time.Hour).UnixMilli() {
			t.Fatalf("application_list: got %+v", aps)
		}

		handle := func(applicant int64, yes bool) map[string]any {
			return map[string]any{"group_id": g.id, "user_id": applicant, "approval": yes}
		}
		a.fails(imgate.CodeNeedAdmin, "POST", "/group/apply/handle", a.as(g.member.tok), handle(g.outsider.id, true))
		a.fails(imgate.CodeApplyHandled, "POST", "/group/apply/handle", a.as(g.admin.tok), handle(g.member2.id, true))
		mark = gcMarkOf(t, a, g.everyone()...)
		a.ok("PUT", "/group/apply/handle", a.as(g.admin.tok), handle(g.outsider.id, true), &res)
		if res != (gcResult{UserID: g.outsider.id, Result: "success"}) {
			t.Errorf("apply/handle: got %+v", res)
		}
		joined := gcWant{imgate.GroupJoined, g.admin.id, []int64{g.outsider.id}}
		accepted := gcWant{imgate.GroupApplyAccepted, g.admin.id, []int64{g.outsider.id}}
		want := gcAll(g.everyone(), joined)
		for _, u := range []int64{g.owner.id, g.admin.id, g.outsider.id} {
			want[u] = append(want[u], accepted)
		}
		mark.want(t, a, g.id, want)
		gcWantMembers(t, a, g.id, append(members, g.outsider.id)...)
		a.fails(imgate.CodeApplyHandled, "POST", "/group/apply/handle", a.as(g.owner.tok), handle(g.outsider.id, true))

		d, dtok := a.user("app_declined")
		a.ok("POST", "/group/apply", a.as(dtok), map[string]any{"group_id": g.id}, nil)
		mark = gcMarkOf(t, a, append(g.everyone(), d)...)
		a.ok("POST", "/group/apply/handle", h{"app_id": a.app, "access-token": a.admin, "group_id": jsonString(g.id)},
			map[string]any{"user_id": d, "approval": false}, nil)
		declined := gcWant{imgate.GroupApplyDeclined, 0, []int64{d}}
		mark.want(t, a, g.id, map[int64][]gcWant{g.owner.id: {declined}, g.admin.id: {declined}, d: {declined}})
		a.ok("POST", "/group/application_list", a.as(g.owner.tok), list, &aps)
		if len(aps) != 2 || aps[0].Status+aps[1].Status != 3 {
			t.Errorf("application_list after handling: got %+v", aps)
		}

		gcSetGroup(t, a, g.id, func(gr *imgate.Group) { gr.ApplyApproval = imgate.ApplyRejectAll })
		a.fails(imgate.CodeForbidden, "POST", "/group/apply", a.as(dtok), apply)
		gcSetGroup(t, a, g.id, func(gr *imgate.Group) { gr.ApplyApproval = imgate.ApplyAcceptAll })
		mark = gcMarkOf(t, a, append(g.everyone(), d)...)
		a.ok("POST", "/group/apply", a.as(a.admin, d), apply, nil)
		mark.want(t, a, g.id, gcAll(append(g.everyone(), d), gcWant{imgate.GroupJoined, d, []int64{d}}))

		// An expired application cannot be handled.
		e, etok := a.user("app_late")
		gcSetGroup(t, a, g.id, func(gr *imgate.Group) { gr.ApplyApproval = imgate.ApplyByAdmin })
		a.ok("POST", "/group/apply", a.as(etok), apply, nil)
		err := a.store.UpdateGroup(context.Background(), a.app, g.id, func(tx imgate.GroupTx) error {
			ap, _, err := tx.Application(e)
			ap.ExpiresAt = time.UnixMilli(time.Now().Add(-time.Minute).UnixMilli())
			if err != nil {
				return err
			}
			return tx.PutApplication(ap)
		})
		if err != nil {
			t.Fatal(err)
		}
		a.fails(imgate.CodeApplyHandled, "POST", "/group/apply/handle", a.as(g.owner.tok), handle(e, true))
	})
}

func TestGroupJoinLimits(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		b := gcApp(t, a, "joinlimits", imgate.AppLimits{GroupCapacity: 5, GroupsJoinedPerUser: 2, KicksBeforeBar: 2})
		g := gcNew(t, b, "jl")
		x, xtok := b.user("jl_x")
		gcSetGroup(t, b, g.id, func(gr *imgate.Group) { gr.ApplyApproval = imgate.ApplyAcceptAll })
		t.Run("capacity", func(t *testing.T) {
			b := reportTo(b, t)
			gcResults(t, b, "POST", "/group/invite", b.as(g.owner.tok), g.body(g.outsider.id, x),
				map[int64]string{g.outsider.id: "success", x: "fail"})
			b.fails(imgate.CodeGroupFull, "POST", "/group/apply", b.as(xtok), map[string]any{"group_id": g.id})
			b.ok("POST", g.q("/group/leave"), b.as(g.outsider.tok), nil, nil)
		})
		t.Run("kicks", func(t *testing.T) {
			b := reportTo(b, t)
			for range 2 {
				b.ok("POST", "/group/apply", b.as(xtok), map[string]any{"group_id": g.id}, nil)
				gcResults(t, b, "POST", "/group/kick", b.as(g.owner.tok), g.body(x), map[int64]string{x: "success"})
			}
			b.fails(imgate.CodeKickLimit, "POST", "/group/apply", b.as(xtok), map[string]any{"group_id": g.id})
			gcResults(t, b, "POST", "/group/invite", b.as(g.owner.tok), g.body(x), map[int64]string{x: "fail"})
			var qr struct {
				QRInfo string `json:"qr_info"`
			}
			b.ok("GET", g.q("/group/qrcode/sign"), b.as(g.owner.tok), nil, &qr)
			b.fails(imgate.CodeKickLimit, "POST", "/group/qrcode/invite", b.as(xtok), map[string]any{"qr_info": qr.QRInfo})
		})
		t.Run("groups joined", func(t *testing.T) {
			b := reportTo(b, t)
			y, ytok := b.user("jl_y")
			for _, name := range []string{"one", "two"} {
				b.ok("POST", "/group/create", b.as(ytok), map[string]any{"name": name}, nil)
			}
			b.fails(imgate.CodeJoinedGroupLimit, "POST", "/group/apply", b.as(ytok), map[string]any{"group_id": g.id})
			gcResults(t, b, "POST", "/group/invite", b.as(g.owner.tok), g.body(y), map[int64]string{y: "fail"})
		})
	})
}

// gcQRCode is QrCodeDto.
type gcQRCode struct {
	QRInfo   string `json:"qr_info"`
	CreateAt int64  `json:"create_at"`
	ExpireAt int64  `json:"expire_at"`
}

func TestGroupQRCode(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		g := gcNew(t, a, "qr")
		x, xtok := a.user("qr_x")
		var qr gcQRCode
		a.fails(imgate.CodeNeedMember, "GET", g.q("/group/qrcode/sign"), a.as(g.outsider.tok), nil)
		r := a.ok("GET", g.q("/group/qrcode/sign"), a.as(g.member.tok), nil, &qr)
		if got := keys(t, r.Data); !slices.Equal(got, []string{"create_at", "expire_at", "qr_info"}) {
			t.Errorf("qrcode/sign keys: got %v", got)
		}
		if qr.QRInfo == "" || qr.ExpireAt-qr.CreateAt != (7*24*time.Hour).Milliseconds() || time.Since(time.UnixMilli(qr.CreateAt)) > time.Minute {
			t.Fatalf("qrcode/sign: got %+v", qr)
		}
		join := func(info string) map[string]any { return map[string]any{"qr_info": info} }
		a.fails(imgate.CodeQRCodeInvalid, "POST", "/group/qrcode/invite", a.as(xtok), join("garbage"))
		a.fails(imgate.CodeQRCodeInvalid, "POST", "/group/qrcode/invite", a.as(xtok), join(""))
		a.fails(imgate.CodeQRCodeInvalid, "POST", "/group/qrcode/invite", a.as(xtok), join(qr.QRInfo+"x"))
		_, sig, _ := strings.Cut(qr.QRInfo, ".")
		forged := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d.%d.1.%d", g.id, g.member.id, time.Now().Add(time.Hour).UnixMilli())))
		a.fails(imgate.CodeQRCodeInvalid, "POST", "/group/qrcode/invite", a.as(xtok), join(forged+"."+sig))

		mark := gcMarkOf(t, a, append(g.everyone(), x)...)
		r = a.ok("POST", "/group/qrcode/invite", a.as(xtok), join(qr.QRInfo), nil)
		if string(r.Data) != "null" {
			t.Errorf("qrcode/invite: got %s, want null", r.Data)
		}
		members := []int64{g.owner.id, g.admin.id, g.member.id, g.member2.id, x}
		mark.want(t, a, g.id, gcAll(members, gcWant{imgate.GroupJoined, x, []int64{x}}))
		a.fails(imgate.CodeAlreadyMember, "POST", "/group/qrcode/invite", a.as(xtok), join(qr.QRInfo))

		other := gcApp(t, a, "otherapp", imgate.AppLimits{})
		_, otok := other.user("qr_o")
		other.fails(imgate.CodeQRCodeInvalid, "POST", "/group/qrcode/invite", other.as(otok), join(qr.QRInfo))

		// A code whose signer left the group is void.
		a.ok("POST", g.q("/group/leave"), a.as(g.member.tok), nil, nil)
		a.fails(imgate.CodeQRCodeInvalid, "POST", "/group/qrcode/invite", a.as(g.outsider.tok), join(qr.QRInfo))

		// An expired code, signed as the server signs codes.
		past := time.Now().Add(-time.Minute).UnixMilli()
		p := fmt.Sprintf("%d.%d.%d.%d", g.id, g.owner.id, past-1000, past)
		s := a.tokens.Sign("imgate group qrcode v1 "+a.app, []byte(p))
		late := base64.RawURLEncoding.EncodeToString([]byte(p)) + "." + base64.RawURLEncoding.EncodeToString(s)
		a.fails(imgate.CodeQRCodeExpired, "POST", "/group/qrcode/invite", a.as(g.outsider.tok), join(late))

		gcSetGroup(t, a, g.id, func(gr *imgate.Group) { gr.MemberInvite = false })
		a.fails(imgate.CodeNeedAdmin, "GET", g.q("/group/qrcode/sign"), a.as(g.member2.tok), nil)
		a.ok("GET", g.q("/group/qrcode/sign"), a.as(a.admin), nil, &qr)
		a.ok("POST", "/group/qrcode/invite", a.as(g.outsider.tok), join(qr.QRInfo), nil)
	})
}

// TestGroupConcurrentApply races 30 applications for the 9 seats left in
// a group of capacity 10.
func TestGroupConcurrentApply(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		b := gcApp(t, a, "crowded", imgate.AppLimits{GroupCapacity: 10})
		owner, otok := b.user("crowd_owner")
		var info struct {
			GroupID int64 `json:"group_id"`
		}
		b.ok("POST", "/group/create", b.as(otok), map[string]any{"name": "crowd"}, &info)
		gid := info.GroupID
		gcSetGroup(t, b, gid, func(gr *imgate.Group) { gr.ApplyApproval = imgate.ApplyAcceptAll })
		users := gcRegister(t, b, "crowd", 30)
		since := gcMarkOf(t, b, owner)[owner] // past the owner's CREATED notice
		codes := make([]int, len(users))
		var wg sync.WaitGroup
		for i, uid := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = b.do("POST", "/group/apply", b.as(b.admin, uid), map[string]any{"group_id": gid}).Code
			}()
		}
		wg.Wait()
		var joined []int64
		for i, code := range codes {
			switch code {
			case 200:
				joined = append(joined, users[i])
			case imgate.CodeGroupFull:
			default:
				t.Errorf("apply of user %d: code %d", users[i], code)
			}
		}
		if len(joined) != 9 {
			t.Fatalf("%d applications succeeded, want 9", len(joined))
		}
		members := append([]int64{owner}, joined...)
		gcWantMembers(t, b, gid, members...)
		var got struct {
			Count int `json:"count"`
		}
		b.ok("GET", fmt.Sprintf("/group/info?group_id=%d", gid), b.as(otok), nil, &got)
		if got.Count != 10 {
			t.Errorf("count: got %d, want 10", got.Count)
		}
		// Each member was told of each join from its own on, in order.
		for i, uid := range members {
			ns := gcNotices(t, b, uid, 0)
			if i == 0 {
				ns = gcNotices(t, b, uid, since)
			}
			var seen []int64
			for _, n := range ns {
				if n.Type != imgate.GroupJoined || n.GroupID != gid || len(n.To) != 1 || n.From != n.To[0] {
					t.Errorf("user %d: unexpected notice %+v", uid, n)
					continue
				}
				seen = append(seen, n.To[0])
			}
			if i > 0 && (len(seen) == 0 || seen[0] != uid) {
				t.Errorf("user %d: first JOINED notice is not its own: %v", uid, seen)
			}
			if i == 0 && len(seen) != 9 {
				t.Errorf("owner got %d JOINED notices, want 9", len(seen))
			}
		}
		for i, uid := range users {
			if codes[i] != 200 {
				if ns := gcNotices(t, b, uid, 0); len(ns) != 0 {
					t.Errorf("refused user %d got notices %+v", uid, ns)
				}
			}
		}
	})
}

// TestGroupLimitsConcurrent: a user's limits on groups owned (20008) and
// joined (20009) hold when its creations and joins run at once: each
// checks the count in its transaction, holding the user's row.
func TestGroupLimitsConcurrent(t *testing.T) {
	const tries = 8
	stores(t, func(t *testing.T, a *api) {
		// answers runs the call tries times at once and counts the
		// answers by code.
		answers := func(b *api, call func(i int) reply) map[int]int {
			var mu sync.Mutex
			codes := map[int]int{}
			var wg sync.WaitGroup
			for i := range tries {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := call(i)
					mu.Lock()
					codes[r.Code]++
					mu.Unlock()
				}()
			}
			wg.Wait()
			return codes
		}
		t.Run("owned", func(t *testing.T) {
			b := reportTo(gcApp(t, a, "ownedconc", imgate.AppLimits{GroupsOwnedPerUser: 3, GroupsJoinedPerUser: 50}), t)
			y, ytok := b.user("oc_y")
			codes := answers(b, func(i int) reply {
				return b.do("POST", "/group/create", b.as(ytok), map[string]any{"name": fmt.Sprint("g", i)})
			})
			if codes[200] != 3 || codes[imgate.CodeOwnedGroupLimit] != tries-3 {
				t.Errorf("answers by code: %v, want 3 created and the rest 20008", codes)
			}
			if _, owned, _, _ := b.store.GroupCounts(context.Background(), b.app, y); owned != 3 {
				t.Errorf("user owns %d groups, limit 3", owned)
			}
		})
		t.Run("joined", func(t *testing.T) {
			b := reportTo(gcApp(t, a, "joinedconc", imgate.AppLimits{GroupsJoinedPerUser: 3}), t)
			x, xtok := b.user("jc_x")
			var groups []int64
			for i := range tries {
				_, otok := b.user(fmt.Sprint("jc_owner", i))
				var info struct {
					GroupID int64 `json:"group_id"`
				}
				b.ok("POST", "/group/create", b.as(otok), map[string]any{"name": "g"}, &info)
				gcSetGroup(t, b, info.GroupID, func(g *imgate.Group) { g.ApplyApproval = imgate.ApplyAcceptAll })
				groups = append(groups, info.GroupID)
			}
			codes := answers(b, func(i int) reply {
				return b.do("POST", "/group/apply", b.as(xtok), map[string]any{"group_id": groups[i]})
			})
			if codes[200] != 3 || codes[imgate.CodeJoinedGroupLimit] != tries-3 {
				t.Errorf("answers by code: %v, want 3 joined and the rest 20009", codes)
			}
			if _, _, joined, _ := b.store.GroupCounts(context.Background(), b.app, x); joined != 3 {
				t.Errorf("user belongs to %d groups, limit 3", joined)
			}
		})
	})
}
