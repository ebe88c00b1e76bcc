package loadtest

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"
)

// user is a registered user and its token.
type user struct {
	id    uint64
	name  string
	token string
}

// users registers n new users, MaxList per call, and logs each in for a
// token.
func (r *Runner) users(ctx context.Context, n int) ([]user, error) {
	first := r.made.Add(int64(n)) - int64(n)
	us := make([]user, n)
	for i := range us {
		us[i].name = fmt.Sprintf("%s%d", r.cfg.Prefix, first+int64(i))
	}
	if err := r.register(ctx, us); err != nil {
		return nil, err
	}
	if err := r.tokens(ctx, us); err != nil {
		return nil, err
	}
	return us, nil
}

func (r *Runner) register(ctx context.Context, us []user) error {
	bar := r.bars.bar(int64(len(us)), "register", "users")
	defer end(bar)
	g, ctx := errgroup.WithContext(ctx)
	// The server hashes a batch's passwords on every core already.
	g.SetLimit(2)
	for lo := 0; lo < len(us); lo += r.cfg.MaxList {
		batch := us[lo:min(lo+r.cfg.MaxList, len(us))]
		g.Go(func() error {
			names := make([]string, len(batch))
			for i, u := range batch {
				names[i] = u.name
			}
			ids, err := r.api.register(ctx, names, r.cfg.Password)
			if err != nil {
				return err
			}
			for i, id := range ids {
				batch[i].id = id
			}
			bar.Add(len(batch))
			return nil
		})
	}
	return g.Wait()
}

func (r *Runner) tokens(ctx context.Context, us []user) error {
	bar := r.bars.bar(int64(len(us)), "tokens", "users")
	defer end(bar)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(r.cfg.Concurrency)
	for i := range us {
		g.Go(func() error {
			tok, err := r.api.userToken(ctx, us[i].name, r.cfg.Password)
			if err != nil {
				return err
			}
			us[i].token = tok
			bar.Add(1)
			return nil
		})
	}
	return g.Wait()
}

// group makes a group of owner and members, inviting MaxList per call.
func (r *Runner) group(ctx context.Context, owner user, members []user) (uint64, error) {
	gid, err := r.api.createGroup(ctx, owner.id, owner.name+"_group")
	if err != nil {
		return 0, err
	}
	bar := r.bars.bar(int64(len(members)), "invite", "users")
	defer end(bar)
	for lo := 0; lo < len(members); lo += r.cfg.MaxList {
		batch := members[lo:min(lo+r.cfg.MaxList, len(members))]
		ids := make([]uint64, len(batch))
		for i, u := range batch {
			ids[i] = u.id
		}
		if err := r.api.invite(ctx, owner.id, gid, ids); err != nil {
			return 0, err
		}
		bar.Add(len(batch))
	}
	return gid, nil
}
