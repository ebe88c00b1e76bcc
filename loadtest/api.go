package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// api calls imgate's REST API with the app's admin token.
type api struct {
	// nodes are where calls go: each node in turn, skipping those down.
	nodes *nodes
	app   string
	token string
	hc    *http.Client
}

// envelope is MaxIM's answer: {code, data, message}.
type envelope struct {
	Code    int             `json:"code"`
	Data    json.RawMessage `json:"data"`
	Message string          `json:"message"`
	MsgIDs  []uint64        `json:"msg_ids"` // /message/send
}

// call makes one request acting as the user asUser (0: the app's
// administrator) and decodes data into out (when not nil). A MaxIM code
// other than 200 is an error.
func (a *api) call(ctx context.Context, method, path string, asUser uint64, body, out any) error {
	_, err := a.callEnv(ctx, method, path, asUser, body, out)
	return err
}

// callEnv is call, answering the envelope too. A node that refuses the
// connection is marked down and the call goes to the next one: it never
// reached the first, so it is not made twice. A call that failed once
// sent has an unknown fate, and answers its error.
func (a *api) callEnv(ctx context.Context, method, path string, asUser uint64, body, out any) (*envelope, error) {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("loadtest: encode %s: %w", path, err)
		}
	}
	for tries := 1; ; tries++ {
		node := a.nodes.pick()
		var rd io.Reader
		if b != nil {
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, method, a.nodes.rest[node]+path, rd)
		if err != nil {
			return nil, fmt.Errorf("loadtest: %s %s: %w", method, path, err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("app_id", a.app)
		if a.token != "" {
			req.Header.Set("access-token", a.token)
		}
		if asUser != 0 {
			req.Header.Set("user_id", strconv.FormatUint(asUser, 10))
		}
		env, err := a.do(req, out)
		if err == nil || !refusedConn(err) {
			return env, err
		}
		a.nodes.markDown(node)
		if tries >= a.nodes.len() {
			return nil, err
		}
	}
}

func (a *api) do(req *http.Request, out any) (*envelope, error) {
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("loadtest: %s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("loadtest: %s %s: read answer: %w", req.Method, req.URL.Path, err)
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("loadtest: %s %s: HTTP %d, not an envelope: %.200s", req.Method, req.URL.Path, resp.StatusCode, raw)
	}
	if env.Code != http.StatusOK {
		return nil, &codeError{path: req.URL.Path, code: env.Code, msg: env.Message}
	}
	if out == nil {
		return &env, nil
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return nil, fmt.Errorf("loadtest: %s %s: decode data: %w", req.Method, req.URL.Path, err)
	}
	return &env, nil
}

// codeError is an answer with a MaxIM code other than 200: the server
// refused the request, as opposed to a request that got no answer.
type codeError struct {
	path string
	code int
	msg  string
}

func (e *codeError) Error() string {
	return fmt.Sprintf("loadtest: %s: code %d: %s", e.path, e.code, e.msg)
}

func (e *codeError) refusal() string { return fmt.Sprintf("rest %d", e.code) }

// refusal is a send the server answered with a refusal: a MaxIM code
// other than 200 through REST, a status other than OK over XSYNC.
// refusal() names the code, as reports count refusals by it.
type refusal interface {
	error
	refusal() string
}

// register registers users in one batch and returns their ids in the
// order of names.
func (a *api) register(ctx context.Context, names []string, password string) ([]uint64, error) {
	type reg struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	list := make([]reg, len(names))
	for i, n := range names {
		list[i] = reg{n, password}
	}
	var out []struct {
		UserID   uint64 `json:"user_id"`
		Username string `json:"username"`
		Success  bool   `json:"success"`
		Reason   string `json:"reason"`
	}
	if err := a.call(ctx, http.MethodPost, "/user/register/batch", 0, map[string]any{"list": list}, &out); err != nil {
		return nil, err
	}
	if len(out) != len(names) {
		return nil, fmt.Errorf("loadtest: /user/register/batch answered %d entries for %d users", len(out), len(names))
	}
	ids := make([]uint64, len(out))
	for i, r := range out {
		if !r.Success {
			return nil, fmt.Errorf("loadtest: register %s: %s", names[i], r.Reason)
		}
		ids[i] = r.UserID
	}
	return ids, nil
}

// userToken logs a user in by name and password and returns its token.
// A login refused because the server's password pool is full (429) is
// tried again shortly, as an app would.
func (a *api) userToken(ctx context.Context, name, password string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	body := map[string]string{"name": name, "password": password}
	for {
		err := a.call(ctx, http.MethodPost, "/token/user", 0, body, &out)
		var ce *codeError
		if !errors.As(err, &ce) || ce.code != codeBusy {
			return out.Token, err
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("loadtest: log %s in: %w", name, ctx.Err())
		case <-time.After(busyRetry):
		}
	}
}

// codeBusy is imgate's answer to a password login while its password
// pool is full; busyRetry is how long the load tool waits to try again.
const (
	codeBusy  = 429
	busyRetry = 20 * time.Millisecond
)

// createGroup creates a group owned by owner, without other members.
func (a *api) createGroup(ctx context.Context, owner uint64, name string) (uint64, error) {
	var out struct {
		GroupID uint64 `json:"group_id"`
	}
	body := map[string]any{"name": name, "type": 0, "user_list": []uint64{}}
	if err := a.call(ctx, http.MethodPost, "/group/create", owner, body, &out); err != nil {
		return 0, err
	}
	return out.GroupID, nil
}

// invite adds users to a group, acting as its owner.
func (a *api) invite(ctx context.Context, owner, group uint64, users []uint64) error {
	var out []struct {
		UserID uint64 `json:"user_id"`
		Result string `json:"result"`
		Reason string `json:"reason"`
	}
	body := map[string]any{"group_id": group, "user_list": users}
	if err := a.call(ctx, http.MethodPost, "/group/invite", owner, body, &out); err != nil {
		return err
	}
	for _, r := range out {
		if r.Result != "success" {
			return fmt.Errorf("loadtest: invite user %d to group %d: %s", r.UserID, group, r.Reason)
		}
	}
	return nil
}

// REST /message/send target types.
const (
	toUsers  = 1
	toGroups = 2
)

// send sends a text message from a user through /message/send.
func (a *api) send(ctx context.Context, from uint64, targetType int, to uint64, content string) error {
	return a.sendMany(ctx, from, targetType, []uint64{to}, content)
}

// sendMany sends one text message from a user to each of several
// targets (one message per target) through /message/send.
func (a *api) sendMany(ctx context.Context, from uint64, targetType int, to []uint64, content string) error {
	body := map[string]any{
		"type": targetType, "targets": to, "content_type": 0, "content": content, "from_user_id": from,
	}
	env, err := a.callEnv(ctx, http.MethodPost, "/message/send", 0, body, nil)
	if err != nil {
		return err
	}
	if len(env.MsgIDs) != len(to) {
		return fmt.Errorf("loadtest: /message/send answered %d msg_ids for %d targets", len(env.MsgIDs), len(to))
	}
	return nil
}
