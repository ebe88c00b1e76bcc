package files

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/imgate/imgate"
)

// The markers kept beside a chat file: an empty blob whose key is the
// file's plus a suffix. ".sent" says a message was sent with the file
// (the sweep keeps it); ".recalled-<conversation>" says a message of that
// conversation carrying it was recalled.
const sentSuffix = ".sent"

// Sent marks the files the message's attachment names (by their
// file_sign) as sent, so that Sweep keeps them. A failure is logged: the
// message goes out, and its file may be swept later.
func (f *Files) Sent(ctx context.Context, m imgate.Message) {
	for _, fs := range f.signsIn(m) {
		f.mark(ctx, fs, sentSuffix)
	}
}

// Recalled withdraws the files the recalled message's attachment names
// from its conversation: only their sender and admin tokens read them
// through that conversation's file_sign any more. Forwards to other
// conversations keep working.
func (f *Files) Recalled(ctx context.Context, m imgate.Message) {
	for _, fs := range f.signsIn(m) {
		if sameConversation(fs, m) {
			f.mark(ctx, fs, recalledSuffix(fs))
		}
	}
}

// Withdrawn reports whether a message carrying the file sign was
// recalled in its conversation.
func (f *Files) Withdrawn(ctx context.Context, fs FileSign) (bool, error) {
	return f.Exists(ctx, fs.App, fs.Object+recalledSuffix(fs))
}

func (f *Files) mark(ctx context.Context, fs FileSign, suffix string) {
	k, err := key(fs.App, fs.Object+suffix)
	if err == nil {
		err = f.backend.Put(ctx, k, strings.NewReader(""), 0, "")
	}
	if err != nil && !errors.Is(err, ErrExists) && f.log != nil {
		f.log.WarnContext(ctx, "marking a chat file failed", "app", fs.App, "object", fs.Object, "marker", suffix, "err", err)
	}
}

// recalledSuffix names the file sign's conversation: a group, or the two
// users of a chat whichever sent.
func recalledSuffix(fs FileSign) string {
	if fs.ToType == 2 {
		return ".recalled-g" + strconv.FormatInt(fs.ToID, 10)
	}
	a, b := min(fs.From, fs.ToID), max(fs.From, fs.ToID)
	return ".recalled-c" + strconv.FormatInt(a, 10) + "-" + strconv.FormatInt(b, 10)
}

func sameConversation(fs FileSign, m imgate.Message) bool {
	if m.Kind == imgate.ConvGroup {
		return fs.ToType == 2 && fs.ToID == m.To
	}
	return fs.ToType == 1 && (fs.From == m.From && fs.ToID == m.To || fs.From == m.To && fs.ToID == m.From)
}

// signsIn returns the valid file signs of the message's app that the
// string values of its attachment (a JSON object: url, tUrl…) name.
func (f *Files) signsIn(m imgate.Message) []FileSign {
	var att map[string]any
	if json.Unmarshal([]byte(m.Attachment), &att) != nil {
		return nil
	}
	var out []FileSign
	for _, v := range att {
		s, ok := v.(string)
		if !ok || !strings.Contains(s, "file_sign=") {
			continue
		}
		u, err := url.Parse(s)
		if err != nil {
			continue
		}
		fs, err := f.signer.VerifyFileSign(u.Query().Get("file_sign"))
		if err == nil && fs.App == m.AppID && ValidChatObject(fs.Object) {
			out = append(out, fs)
		}
	}
	return out
}

// Sweep removes the chat files (with their thumbnails and markers)
// stored more than age ago that no message was sent with: uploads whose
// message never came. It returns how many it removed.
func (f *Files) Sweep(ctx context.Context, age time.Duration) (int, error) {
	cutoff := time.Now().Add(-age)
	var (
		pending  string // a chat file's key, waiting for its markers
		mod      time.Time
		sent     bool
		removed  int
		derived  []string
		firstErr error
	)
	flush := func() {
		if pending != "" && !sent && mod.Before(cutoff) {
			for _, k := range append(derived, pending) {
				if err := f.backend.Delete(ctx, k); err != nil && firstErr == nil {
					firstErr = err
				}
			}
			removed++
		}
		pending, sent, derived = "", false, nil
	}
	err := f.backend.List(ctx, "", func(k string, m time.Time) error {
		if pending != "" && strings.HasPrefix(k, pending+".") {
			sent = sent || strings.HasSuffix(k, sentSuffix)
			derived = append(derived, k)
			return nil
		}
		flush()
		if app, object, ok := strings.Cut(k, "/"); ok && app != "" && ValidChatObject(object) {
			pending, mod = k, m
		}
		return nil
	})
	flush()
	if err == nil {
		err = firstErr
	}
	if err != nil {
		return removed, fmt.Errorf("files: sweep: %w", err)
	}
	return removed, nil
}
