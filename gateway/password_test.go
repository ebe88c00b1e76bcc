package gateway_test

import (
	"testing"

	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/gateway"
	"github.com/imgate/imgate/gateway/xsync"
)

// TestPasswordLoginGuessing: PROVISION with a password goes through the
// same limits as the REST token routes: an unknown user is refused as a
// wrong password is, and after 5 failures (the default) the user's
// logins are refused unchecked with RATE_LIMIT_EXCEEDED, even with the
// right password (issue 17, item 2).
func TestPasswordLoginGuessing(t *testing.T) {
	s := embeddedServer(t, gateway.Config{})
	uid, _ := s.user("carol")
	login := func(uid uint64, password string) *xsync.Status {
		t.Helper()
		c, err := client.Dial(ctx(t), s.ws+"?app_id=app", client.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		p, err := c.LoginPassword(ctx(t), uid, password)
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		return p.Status
	}
	wrong := login(uid, "wrong")
	unknown := login(uid+1000, "pw")
	if wrong.GetCode() != xsync.Status_UNAUTHORIZED || unknown.GetCode() != wrong.GetCode() || unknown.GetReason() != wrong.GetReason() {
		t.Errorf("unknown user got %v, wrong password %v; want one UNAUTHORIZED", unknown, wrong)
	}
	for range 4 {
		login(uid, "wrong")
	}
	if st := login(uid, "pw"); st.GetCode() != xsync.Status_RATE_LIMIT_EXCEEDED {
		t.Errorf("right password after 5 failures: %v, want RATE_LIMIT_EXCEEDED", st)
	}
}
