package admin_test

import (
	"testing"

	"github.com/imgate/imgate"
)

// TestReviewQRCodeAfterInviteRevoked: /group/qrcode/sign lets a plain
// member sign a code only while the group allows member invitations. Once
// the owner turns allow_member_invitation off, that member could no longer
// invite anyone, yet the code signed earlier still admits anybody for a
// week: inviting becomes an admin's action, and a member's old code must
// stop working (20024, as for a signer who left).
func TestReviewQRCodeAfterInviteRevoked(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		g := gcNew(t, a, "rqr")
		var qr struct {
			QRInfo string `json:"qr_info"`
		}
		a.ok("GET", g.q("/group/qrcode/sign"), a.as(g.member.tok), nil, &qr)
		a.ok("POST", "/group/settings/allow_member_invitation", a.as(g.owner.tok), map[string]any{"group_id": g.id, "value": false}, nil)
		// The member himself may no longer invite...
		a.fails(imgate.CodeNeedAdmin, "POST", "/group/invite", a.as(g.member.tok), g.body(g.outsider.id))
		a.fails(imgate.CodeNeedAdmin, "GET", g.q("/group/qrcode/sign"), a.as(g.member.tok), nil)
		// ...so his code may not let the outsider in either.
		r := a.do("POST", "/group/qrcode/invite", a.as(g.outsider.tok), map[string]any{"qr_info": qr.QRInfo})
		if r.Code == 200 {
			t.Fatalf("qrcode/invite with a code of a member who may no longer invite: got %s, want an error (20024)", r.raw)
		}
	})
}
