package admin

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/imgate/imgate"
)

// The friend (roster) API. Every change runs in one store transaction
// that holds both users' locks: the rules are checked on the items and
// applications as they stand in it, and the notices of the change are
// written in it.

// rosterApplicationTTL is how long a friend application waits for an
// answer. A declined one keeps the applicant from applying again to the
// same user until it expires.
const rosterApplicationTTL = 7 * 24 * time.Hour

// Page sizes of the roster lists. MaxIM's SDK asks GET /roster/list once,
// without limit, and never follows the cursor: the default page is large.
const (
	rosterPageDefault      = 1000
	rosterPageMax          = 1000
	rosterApplyPageDefault = 100 // MaxIM's default for application lists
	rosterScanBatch        = 1000
)

func (s *Server) rosterRoutes() {
	s.handle("/roster/list", asUser, s.rosterList, get)
	s.handle("/roster/list", asUser, s.rosterDetails, post)
	s.handle("/roster/id", asUser, s.rosterLookup("user_id", s.userByID), get)
	s.handle("/roster/name", asUser, s.rosterLookup("username", s.store.UserByName), get)
	s.handle("/roster/mobile", asUser, s.rosterLookup("mobile", s.userByMobile), get)
	s.handle("/roster/may_message", anyToken, s.mayMessage, get)
	s.handle("/roster/apply", asUser, s.rosterApply, post)
	s.handle("/roster/apply/batch", asUser, s.rosterApplyBatch, post)
	s.handle("/roster/apply/list", asUser, s.rosterApplications, get)
	s.handle("/roster/accept", asUser, s.pairAction((*rosterPair).accept), post, put)
	s.handle("/roster/decline", asUser, s.rosterDecline, post, put)
	s.handle("/roster/delete", asUser, s.pairAction((*rosterPair).remove), post, del)
	s.handle("/roster/block", asUser, s.pairAction(func(p *rosterPair) error { return p.block(true) }), post, put)
	s.handle("/roster/unblock", asUser, s.pairAction(func(p *rosterPair) error { return p.block(false) }), post, del)
	s.handle("/roster/blocked_list", asUser, s.rosterBlockedList, get)
	s.handle("/roster/ext", asUser, s.rosterExt, post, put)
	s.handle("/user/add_roster", adminOnly, s.addRoster, post)
	s.handle("/user/rosters", adminOnly, s.userRosters, get)
}

// rosterPair is a roster change between the acting user (me) and another
// user, inside the store's transaction.
type rosterPair struct {
	tx     imgate.RosterTx
	appID  string
	now    time.Time
	mine   imgate.RosterItem // my item for the other user
	theirs imgate.RosterItem // the other user's item for me
}

func (p *rosterPair) me() int64    { return p.mine.OwnerID }
func (p *rosterPair) other() int64 { return p.mine.UserID }

// friends is true when both sides keep the friendship; a half-kept one
// (never written by imgate) may be made whole again.
func (p *rosterPair) friends() bool { return p.mine.Friend && p.theirs.Friend }
func (p *rosterPair) blocked() bool { return p.mine.Blocked || p.theirs.Blocked }

// inPair runs fn on the pair of the acting user and other in one roster
// transaction: CodeUserNotFound if other is not a user of the app.
func (s *Server) inPair(ctx context.Context, c *call, other int64, fn func(*rosterPair) error) error {
	now := time.UnixMilli(time.Now().UnixMilli())
	return s.store.Roster(ctx, c.app.ID, c.userID, other, func(tx imgate.RosterTx) error {
		mine, err := tx.Item(c.userID, other)
		if err != nil {
			return err
		}
		theirs, err := tx.Item(other, c.userID)
		if err != nil {
			return err
		}
		return fn(&rosterPair{tx: tx, appID: c.app.ID, now: now, mine: mine, theirs: theirs})
	})
}

// put writes items of the pair, stamping them.
func (p *rosterPair) put(items ...*imgate.RosterItem) error {
	for _, it := range items {
		if it.CreatedAt.IsZero() {
			it.CreatedAt = p.now
		}
		it.UpdatedAt = p.now
		if err := p.tx.PutItem(*it); err != nil {
			return err
		}
	}
	return nil
}

// notify writes a roster notice of the change, from me about the other
// user, to each recipient.
func (p *rosterPair) notify(typ int, content string, recipients ...int64) error {
	n := imgate.Notice{
		AppID: p.appID, Kind: imgate.NoticeRoster, Type: typ, From: p.me(), To: []int64{p.other()},
		Content: content, At: p.now,
	}
	return p.tx.Notify(imgate.Notify(recipients, n)...)
}

// befriend makes the two friends on both sides, with my alias for them
// and theirs for me when not empty, and settles the applications between
// them.
func (p *rosterPair) befriend(myAlias, theirAlias string) error {
	p.mine.Friend, p.theirs.Friend = true, true
	if myAlias != "" {
		p.mine.Alias = myAlias
	}
	if theirAlias != "" {
		p.theirs.Alias = theirAlias
	}
	for _, dir := range [][2]int64{{p.me(), p.other()}, {p.other(), p.me()}} {
		a, ok, err := p.tx.Application(dir[0], dir[1])
		if err != nil {
			return err
		}
		if ok && a.Status == imgate.ApplicationPending && a.ExpiresAt.After(p.now) {
			a.Status, a.UpdatedAt = imgate.ApplicationAccepted, p.now
			if err := p.tx.PutApplication(a); err != nil {
				return err
			}
		}
	}
	return p.put(&p.mine, &p.theirs)
}

// mayBefriend refuses a friendship that a blacklisting forbids (10006)
// or that exists (10005).
func (p *rosterPair) mayBefriend() error {
	switch {
	case p.blocked():
		return imgate.Errorf(imgate.CodeInBlacklist, "you and user %d are not on speaking terms: one blacklisted the other", p.other())
	case p.friends():
		return imgate.Errorf(imgate.CodeAlreadyFriend, "user %d is already your friend", p.other())
	}
	return nil
}

// add makes friends at once and tells both.
func (p *rosterPair) add(alias string) error {
	if err := p.befriend(alias, ""); err != nil {
		return err
	}
	return p.notify(imgate.RosterAdded, "", p.me(), p.other())
}

// apply is my friend request to the other user, who has the settings st.
func (p *rosterPair) apply(st imgate.UserSettings, req rosterApplyRequest) error {
	if err := p.mayBefriend(); err != nil {
		return err
	}
	switch st.AuthMode {
	case imgate.AuthAny:
		return p.add(req.Alias)
	case imgate.AuthRefuse:
		return imgate.Errorf(imgate.CodeForbidden, "user %d accepts no friend applications", p.other())
	case imgate.AuthQuestion:
		// Without an answer set, nothing can be checked: the user decides.
		if st.AuthAnswer == "" {
			break
		}
		if !rightAuthAnswer(req.AuthAnswer, st.AuthAnswer) {
			return badParam("wrong auth_answer to user %d's question", p.other())
		}
		return p.add(req.Alias)
	}
	return p.request(req)
}

// request stores my application to the other user, replacing any earlier
// one, and tells them.
func (p *rosterPair) request(req rosterApplyRequest) error {
	old, ok, err := p.tx.Application(p.me(), p.other())
	if err != nil {
		return err
	}
	if ok && old.Status == imgate.ApplicationDeclined && old.ExpiresAt.After(p.now) {
		return imgate.Errorf(imgate.CodeApplicationDeclined, "user %d declined your application; apply again after %s",
			p.other(), old.ExpiresAt.UTC().Format(time.RFC3339))
	}
	a := imgate.RosterApplication{
		AppID: p.appID, ApplicantID: p.me(), TargetID: p.other(), Alias: req.Alias, Reason: req.Reason,
		Status: imgate.ApplicationPending, ExpiresAt: p.now.Add(rosterApplicationTTL), CreatedAt: p.now, UpdatedAt: p.now,
	}
	if err := p.tx.PutApplication(a); err != nil {
		return err
	}
	return p.notify(imgate.RosterApplied, req.Reason, p.other())
}

// pending returns the other user's pending application to me: 10007 if
// there is none, it was handled or it expired, 10012 if I declined it.
func (p *rosterPair) pending(declined int) (imgate.RosterApplication, error) {
	a, ok, err := p.tx.Application(p.other(), p.me())
	switch {
	case err != nil:
		return a, err
	case !ok:
		return a, imgate.Errorf(imgate.CodeApplicationNotFound, "user %d has no friend application to you", p.other())
	case a.Status == imgate.ApplicationDeclined:
		return a, imgate.Errorf(declined, "you declined user %d's friend application", p.other())
	case a.Status != imgate.ApplicationPending:
		return a, imgate.Errorf(imgate.CodeApplicationNotFound, "user %d's friend application was handled already", p.other())
	case !a.ExpiresAt.After(p.now):
		return a, imgate.Errorf(imgate.CodeApplicationNotFound, "user %d's friend application expired", p.other())
	}
	return a, nil
}

// accept makes friends with the other user, who applied to me.
func (p *rosterPair) accept() error {
	a, err := p.pending(imgate.CodeApplicationDeclined)
	if err != nil {
		return err
	}
	if err := p.mayBefriend(); err != nil {
		return err
	}
	if err := p.befriend("", a.Alias); err != nil {
		return err
	}
	return p.notify(imgate.RosterAccepted, "", p.me(), p.other())
}

// decline refuses the other user's application to me.
func (p *rosterPair) decline(reason string) error {
	a, err := p.pending(imgate.CodeApplicationNotFound)
	if err != nil {
		return err
	}
	a.Status, a.UpdatedAt = imgate.ApplicationDeclined, p.now
	if err := p.tx.PutApplication(a); err != nil {
		return err
	}
	return p.notify(imgate.RosterDeclined, reason, p.other(), p.me())
}

// remove ends the friendship on both sides; both items stay, as deleted
// friends, with their aliases and ext.
func (p *rosterPair) remove() error {
	if !p.mine.Friend && !p.theirs.Friend {
		return badParam("user %d is not your friend", p.other())
	}
	p.mine.Friend, p.mine.WasFriend = false, true
	p.theirs.Friend, p.theirs.WasFriend = false, true
	if err := p.put(&p.mine, &p.theirs); err != nil {
		return err
	}
	return p.notify(imgate.RosterRemoved, "", p.me(), p.other())
}

// block puts the other user on my blacklist, or takes them off. Only my
// own devices are told: a blacklisting is not announced to the user it
// shuts out. Doing what is done already changes nothing and tells nobody.
func (p *rosterPair) block(on bool) error {
	if p.mine.Blocked == on {
		return nil
	}
	p.mine.Blocked = on
	if err := p.put(&p.mine); err != nil {
		return err
	}
	typ := imgate.RosterUnblocked
	if on {
		typ = imgate.RosterBlocked
	}
	return p.notify(typ, "", p.me())
}

// ext changes my notes on a friend; only my other devices are told.
func (p *rosterPair) ext(req rosterExtRequest) error {
	if !p.mine.Friend {
		return badParam("user %d is not your friend", p.other())
	}
	before := p.mine
	set(&p.mine.Alias, req.Alias)
	set(&p.mine.Ext, req.Ext)
	set(&p.mine.Muted, req.MuteNotification)
	if p.mine == before {
		return nil
	}
	if err := p.put(&p.mine); err != nil {
		return err
	}
	if p.mine.Alias != before.Alias || p.mine.Ext != before.Ext {
		if err := p.notify(imgate.RosterInfoUpdated, "", p.me()); err != nil {
			return err
		}
	}
	if p.mine.Muted == before.Muted {
		return nil
	}
	typ := imgate.RosterUnmuted
	if p.mine.Muted {
		typ = imgate.RosterMuted
	}
	return p.notify(typ, "", p.me())
}

// pairAction serves the paths that name the other user in ?user_id= and
// answer true.
func (s *Server) pairAction(fn func(*rosterPair) error) handlerFunc {
	return func(r *http.Request, c *call) (any, error) {
		other, err := query{r}.int64("user_id", true, 0)
		if err != nil {
			return nil, err
		}
		if err := checkRosterTarget(other, c.userID); err != nil {
			return nil, err
		}
		if err := s.inPair(r.Context(), c, other, fn); err != nil {
			return nil, err
		}
		return true, nil
	}
}

// POST /roster/apply {user_id, alias, auth_answer, reason}
func (s *Server) rosterApply(r *http.Request, c *call) (any, error) {
	var req rosterApplyRequest
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if err := s.applyTo(r.Context(), c, req); err != nil {
		return nil, err
	}
	return true, nil
}

// applyTo checks and makes one friend application of the acting user.
func (s *Server) applyTo(ctx context.Context, c *call, req rosterApplyRequest) error {
	if err := req.check(c.userID); err != nil {
		return err
	}
	// The target's settings are read before the transaction, which may
	// not call the store; a change of them in between is a benign race.
	target, err := s.store.User(ctx, c.app.ID, int64(req.UserID))
	if err != nil {
		return err
	}
	return s.inPair(ctx, c, target.ID, func(p *rosterPair) error { return p.apply(target.Settings, req) })
}

// POST /roster/apply/batch [{user_id, alias, reason}]: each application
// succeeds or fails on its own.
func (s *Server) rosterApplyBatch(r *http.Request, c *call) (any, error) {
	var reqs []rosterApplyRequest
	if err := s.decode(r, &reqs); err != nil {
		return nil, err
	}
	if err := s.checkList("applications", len(reqs)); err != nil {
		return nil, err
	}
	out := batchApply{Success: []int64{}, Fails: []rosterFail{}}
	for _, req := range reqs {
		err := s.applyTo(r.Context(), c, req)
		switch {
		case imgate.ErrorCode(err) == imgate.CodeStore:
			return nil, err
		case err != nil:
			out.Fails = append(out.Fails, rosterFail{UserID: int64(req.UserID), Reason: imgate.ErrorMessage(err)})
		default:
			out.Success = append(out.Success, int64(req.UserID))
		}
	}
	return out, nil
}

// POST|PUT /roster/decline {user_id, reason}
func (s *Server) rosterDecline(r *http.Request, c *call) (any, error) {
	var req struct {
		UserID id     `json:"user_id"`
		Reason string `json:"reason"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if err := firstErr(checkRosterTarget(int64(req.UserID), c.userID), checkLen("reason", req.Reason, maxTextLen)); err != nil {
		return nil, err
	}
	err := s.inPair(r.Context(), c, int64(req.UserID), func(p *rosterPair) error { return p.decline(req.Reason) })
	if err != nil {
		return nil, err
	}
	return true, nil
}

// POST|PUT /roster/ext {user_id, alias, ext, mute_notification}
func (s *Server) rosterExt(r *http.Request, c *call) (any, error) {
	var req rosterExtRequest
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if err := req.check(c.userID); err != nil {
		return nil, err
	}
	if err := s.inPair(r.Context(), c, int64(req.UserID), func(p *rosterPair) error { return p.ext(req) }); err != nil {
		return nil, err
	}
	return true, nil
}

// GET /roster/list?cursor&limit: the ids of the acting user's friends, by
// id. A user without friends gets an empty list.
func (s *Server) rosterList(r *http.Request, c *call) (any, error) {
	pos, limit, err := pageQuery(query{r}, 1, rosterPageDefault, rosterPageMax)
	if err != nil {
		return nil, err
	}
	items, err := s.store.RosterItems(r.Context(), c.app.ID, c.userID, imgate.FriendsOnly, pos[0], limit+1)
	if err != nil {
		return nil, err
	}
	ids, last := []int64{}, int64(0)
	for _, it := range items[:min(len(items), limit)] {
		ids, last = append(ids, it.UserID), it.UserID
	}
	return list{Data: ids, Cursor: nextCursor(len(items), limit, last)}, nil
}

// GET /roster/apply/list?cursor&limit: the applications addressed to the
// acting user, newest first, whatever their status.
func (s *Server) rosterApplications(r *http.Request, c *call) (any, error) {
	pos, limit, err := pageQuery(query{r}, 2, rosterApplyPageDefault, rosterPageMax)
	if err != nil {
		return nil, err
	}
	// The cursor is the last application's position: its creation (ms)
	// and applicant.
	var after imgate.RosterApplicationPos
	if pos[0] != 0 || pos[1] != 0 {
		after = imgate.RosterApplicationPos{CreatedAt: time.UnixMilli(pos[0]), ApplicantID: pos[1]}
	}
	apps, err := s.store.RosterApplications(r.Context(), c.app.ID, c.userID, after, limit+1)
	if err != nil {
		return nil, err
	}
	out, last := []rosterApplication{}, imgate.RosterApplicationPos{}
	for _, a := range apps[:min(len(apps), limit)] {
		out, last = append(out, rosterApplicationOf(a)), a.Pos()
	}
	return list{Data: out, Cursor: nextCursor(len(apps), limit, last.CreatedAt.UnixMilli(), last.ApplicantID)}, nil
}

// rosterIDs lists all of owner's items that match the filter, by id.
func (s *Server) rosterIDs(ctx context.Context, appID string, owner int64, filter imgate.RosterFilter) ([]int64, error) {
	out := []int64{}
	for after := int64(0); ; {
		items, err := s.store.RosterItems(ctx, appID, owner, filter, after, rosterScanBatch)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			out = append(out, it.UserID)
		}
		if len(items) < rosterScanBatch {
			return out, nil
		}
		after = items[len(items)-1].UserID
	}
}

// GET /roster/blocked_list: every user on the acting user's blacklist.
func (s *Server) rosterBlockedList(r *http.Request, c *call) (any, error) {
	return s.rosterIDs(r.Context(), c.app.ID, c.userID, imgate.BlockedOnly)
}

// POST /roster/list {list:[ids]}: RosterItemDto of each user in the list
// (ids of no user are left out), friend or not, in the list's order.
func (s *Server) rosterDetails(r *http.Request, c *call) (any, error) {
	var req struct {
		List []id `json:"list"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if len(req.List) > s.cfg.MaxListLen {
		return nil, badParam("list has %d entries; the limit is %d", len(req.List), s.cfg.MaxListLen)
	}
	out := []rosterItem{}
	seen := map[int64]bool{}
	for _, uid := range ids(req.List) {
		if seen[uid] {
			continue
		}
		seen[uid] = true
		u, err := s.store.User(r.Context(), c.app.ID, uid)
		if imgate.ErrorCode(err) == imgate.CodeUserNotFound {
			continue
		} else if err != nil {
			return nil, err
		}
		item, err := s.rosterItem(r.Context(), c, u)
		if err != nil {
			return nil, err
		}
		out = append(out, item)
	}
	return out, nil
}

// rosterItem returns u as the acting user sees it.
func (s *Server) rosterItem(ctx context.Context, c *call, u imgate.User) (rosterItem, error) {
	item, err := s.store.RosterItem(ctx, c.app.ID, c.userID, u.ID)
	if err != nil {
		return rosterItem{}, err
	}
	return rosterItemOf(u, item), nil
}

// rosterLookup serves the GET paths that find one user of the app by a
// query parameter: its RosterItemDto as the acting user sees it.
func (s *Server) rosterLookup(param string, find func(ctx context.Context, appID, v string) (imgate.User, error)) handlerFunc {
	return func(r *http.Request, c *call) (any, error) {
		v, err := query{r}.str(param, true)
		if err != nil {
			return nil, err
		}
		if v == "" {
			return nil, badParam("query parameter %s is empty", param)
		}
		u, err := find(r.Context(), c.app.ID, v)
		if err != nil {
			return nil, err
		}
		return s.rosterItem(r.Context(), c, u)
	}
}

// userByID finds the user of GET /roster/id?user_id.
func (s *Server) userByID(ctx context.Context, appID, v string) (imgate.User, error) {
	uid, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64)
	if err != nil || uid <= 0 {
		return imgate.User{}, badParam("query parameter user_id must be a positive integer")
	}
	return s.store.User(ctx, appID, uid)
}

// userByMobile finds the user of GET /roster/mobile?mobile. A valid
// mobile is never a valid username nor an email, so the login lookup
// finds it by mobile only; the comparison makes sure.
func (s *Server) userByMobile(ctx context.Context, appID, mobile string) (imgate.User, error) {
	if err := checkMobile(mobile); err != nil {
		return imgate.User{}, err
	}
	u, err := s.store.UserByLogin(ctx, appID, mobile)
	if err == nil && u.Mobile != mobile {
		return u, imgate.Errorf(imgate.CodeUserNotFound, "no user has mobile %s", mobile)
	}
	return u, err
}

// GET /roster/may_message?user_id&roster_id: whether user_id may send to
// roster_id, which is so unless either blacklisted the other. A user token
// may ask only about pairs it belongs to; an admin token about any.
func (s *Server) mayMessage(r *http.Request, c *call) (any, error) {
	var pair [2]int64
	for i, name := range []string{"user_id", "roster_id"} {
		v, err := query{r}.int64(name, true, 0)
		if err == nil && v <= 0 {
			err = badParam("query parameter %s must be a positive integer", name)
		}
		if err != nil {
			return nil, err
		}
		pair[i] = v
	}
	if !c.admin() && c.userID != pair[0] && c.userID != pair[1] {
		return nil, imgate.Errorf(imgate.CodeForbidden, "a user token may ask only about its own user")
	}
	for i, uid := range pair {
		if _, err := s.store.User(r.Context(), c.app.ID, uid); err != nil {
			return nil, err
		}
		item, err := s.store.RosterItem(r.Context(), c.app.ID, uid, pair[1-i])
		if err != nil {
			return nil, err
		}
		if item.Blocked {
			return false, nil
		}
	}
	return true, nil
}

// POST /user/add_roster {list:[ids]} (the seed's admin path): makes the
// user_id header's user friends with each listed user at once, whatever
// their auth_mode; friends already stay as they are. All ids are checked
// before anything changes.
func (s *Server) addRoster(r *http.Request, c *call) (any, error) {
	if c.userID == 0 {
		return nil, badParam("missing user_id header: the user to add friends to")
	}
	list, err := s.decodeIDs(r, "list")
	if err != nil {
		return nil, err
	}
	for _, uid := range list {
		if err := checkRosterTarget(uid, c.userID); err != nil {
			return nil, err
		}
		if _, err := s.store.User(r.Context(), c.app.ID, uid); err != nil {
			return nil, err
		}
	}
	for _, uid := range list {
		err := s.inPair(r.Context(), c, uid, func(p *rosterPair) error {
			if p.friends() {
				return nil
			}
			return p.add("")
		})
		if err != nil {
			return nil, err
		}
	}
	return true, nil
}

// GET /user/rosters (the seed's admin path): the user_id header's friends
// as [{user_id, name}], name being the username.
func (s *Server) userRosters(r *http.Request, c *call) (any, error) {
	if c.userID == 0 {
		return nil, badParam("missing user_id header: the user whose friends to list")
	}
	friends, err := s.rosterIDs(r.Context(), c.app.ID, c.userID, imgate.FriendsOnly)
	if err != nil {
		return nil, err
	}
	out := make([]rosterEntry, 0, len(friends))
	for _, uid := range friends {
		u, err := s.store.User(r.Context(), c.app.ID, uid)
		if imgate.ErrorCode(err) == imgate.CodeUserNotFound {
			continue // deleted since
		} else if err != nil {
			return nil, err
		}
		out = append(out, rosterEntry{UserID: u.ID, Name: u.Username})
	}
	return out, nil
}
