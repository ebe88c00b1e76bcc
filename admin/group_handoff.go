package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/imgate/imgate"
)

// heirCandidates bounds how many possible new owners are looked up before
// the group's transaction; should all of them have left meanwhile, the
// hand-off looks again.
const heirCandidates = 8

var errNoHeir = errors.New("admin: every candidate heir left the group")

// handOffGroups passes each group the user owns to its longest-standing
// admin, or else its longest-standing other member, and destroys those
// where the owner is alone: deleting a user must never leave a group
// without an owner.
func (s *Server) handOffGroups(ctx context.Context, appID string, userID int64) error {
	gids, err := s.store.UserGroups(ctx, appID, userID)
	if err != nil {
		return err
	}
	for _, gid := range gids {
		for attempt := 0; ; attempt++ {
			err := s.handOff(ctx, appID, userID, gid)
			if !errors.Is(err, errNoHeir) || attempt == 3 {
				if err != nil {
					return fmt.Errorf("admin: hand off group %d of user %d: %w", gid, userID, err)
				}
				break
			}
		}
	}
	return nil
}

func (s *Server) handOff(ctx context.Context, appID string, userID, gid int64) error {
	heirs, err := s.heirs(ctx, appID, gid, userID)
	if err != nil {
		return err
	}
	err = s.store.UpdateGroup(ctx, appID, gid, func(tx imgate.GroupTx) error {
		g := tx.Group()
		if g.OwnerID != userID {
			return nil
		}
		at := groupTime()
		for _, h := range heirs {
			if _, ok, err := tx.Member(h); err != nil || !ok {
				if err != nil {
					return err
				}
				continue
			}
			return transferLocked(tx, actor{role: imgate.RoleOwner}, h)
		}
		if g.Count > 1 {
			return errNoHeir
		}
		if err := notifyMembers(tx, newGroupNotice(imgate.GroupDestroyed, 0, at)); err != nil {
			return err
		}
		return tx.Destroy()
	})
	if imgate.ErrorCode(err) == imgate.CodeGroupNotFound {
		return nil // destroyed meanwhile
	}
	return err
}

// heirs lists possible new owners of a group: admins first, then other
// members, each in joining order.
func (s *Server) heirs(ctx context.Context, appID string, gid, owner int64) ([]int64, error) {
	var out []int64
	for _, f := range []imgate.MemberFilter{imgate.AdminMembers, imgate.AllMembers} {
		ms, err := s.store.Members(ctx, appID, gid, f, 0, heirCandidates+1)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			out = append(out, m.UserID)
		}
	}
	return uniqueIDs(out, owner), nil
}
