package admin

import (
	"github.com/imgate/imgate"
)

// noRole is the rank of a caller who is not a member of the group.
const noRole imgate.Role = -1

// actor is who acts in a group and with what rank.
type actor struct {
	userID int64 // 0 when an admin token acts without a user
	role   imgate.Role
}

// actorIn resolves the caller's rank in a group. A user token, or an admin
// token with a user_id header, acts as that user with the user's role
// (noRole if not a member). An admin token with the group's id in the
// group_id header acts as the group's admin; an admin token with neither
// header is the app's administrator and ranks as the owner.
func actorIn(c *call, g imgate.Group, member func(userID int64) (imgate.Member, bool, error)) (actor, error) {
	if c.userID == 0 && c.admin() {
		if c.groupID != 0 && c.groupID != g.ID {
			return actor{}, imgate.Errorf(imgate.CodeNeedAdmin, "group_id header names group %d, not %d", c.groupID, g.ID)
		}
		if c.groupID == g.ID {
			return actor{role: imgate.RoleAdmin}, nil
		}
		return actor{role: imgate.RoleOwner}, nil
	}
	m, ok, err := member(c.userID)
	if err != nil {
		return actor{}, err
	}
	if !ok {
		return actor{userID: c.userID, role: noRole}, nil
	}
	return actor{userID: c.userID, role: m.Role}, nil
}

// need fails with the MaxIM code for the missing rank.
func (a actor) need(role imgate.Role) error {
	if a.role >= role {
		return nil
	}
	switch role {
	case imgate.RoleOwner:
		return imgate.Errorf(imgate.CodeNeedOwner, "this needs the group's owner")
	case imgate.RoleAdmin:
		return imgate.Errorf(imgate.CodeNeedAdmin, "this needs a group admin")
	}
	return imgate.Errorf(imgate.CodeNeedMember, "this needs a group member")
}
