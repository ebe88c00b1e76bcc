package admin

import (
	"context"
	"errors"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/files"
)

// The paths of the file API. MaxIM's SDKs ask for an upload URL, send the
// file there, and put the download URL in the message.
const (
	pathUpload         = "/file/upload/blob" // the upload URL imgate hands out
	pathDownloadChat   = "/file/download/chat"
	pathDownloadAvatar = "/file/download/avatar"
)

// Conversation types of to_type.
const (
	toUser  = 1
	toGroup = 2
)

func (s *Server) fileRoutes() {
	s.handle("/file/upload/chat", asUser, s.uploadChatURL, get)
	s.handle("/file/upload/avatar/user", asUser, s.uploadUserAvatarURL, get)
	s.handle("/file/upload/avatar/group", anyToken, s.uploadGroupAvatarURL, get)
	s.handle("/file/upload/forward", asUser, s.forwardURL, get)
	s.handleRaw(pathUpload, s.upload, post, put)
	s.handleRaw(pathDownloadChat, s.downloadChat, get, http.MethodHead)
	s.handleRaw(pathDownloadAvatar, s.downloadAvatar, get, http.MethodHead)
}

// rawFunc serves a route that answers with something else than a JSON
// envelope (a file); an error it returns before writing is answered as
// an envelope.
type rawFunc func(w http.ResponseWriter, r *http.Request) error

// handleRaw registers fn for the path and methods.
func (s *Server) handleRaw(path string, fn rawFunc, methods ...string) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		code := imgate.CodeOK
		if err := fn(w, r); err != nil {
			code = s.writeError(w, r, path, err)
		}
		s.cfg.Metrics.Request(path, r.Method, code, time.Since(began))
	})
	s.router.Handle(path, h).Methods(methods...)
	for _, m := range methods {
		s.exact[routeKey{path, m}] = h
	}
}

// fileUploadDto is MaxIM's FileUploadDto. oss_body_param is empty: the web
// SDK then sends only the file part, which is all imgate's upload URL
// takes.
type fileUploadDto struct {
	UploadURL    string            `json:"upload_url"`
	UploadMethod string            `json:"upload_method"`
	OSSBodyParam map[string]string `json:"oss_body_param"`
	DownloadURL  string            `json:"download_url"`
}

func (s *Server) filesOn() error {
	if s.cfg.Files == nil {
		return imgate.Errorf(imgate.CodeOSS, "file storage is not configured on this server")
	}
	return nil
}

// base is the scheme and host of the URLs handed to clients.
func (s *Server) base(r *http.Request) string {
	scheme, host := s.publicAddress(r)
	return scheme + "://" + host
}

// ticketDto signs the ticket and answers with its upload and download URLs.
func (s *Server) ticketDto(r *http.Request, t files.Ticket) fileUploadDto {
	t.Expires = time.Now().Add(s.cfg.Files.Config().UploadTTL).Unix()
	return fileUploadDto{
		UploadURL:    s.base(r) + pathUpload + "?ticket=" + s.cfg.Files.Signer().Ticket(t),
		UploadMethod: post,
		OSSBodyParam: map[string]string{},
		DownloadURL:  s.downloadURL(r, t),
	}
}

// downloadURL is where the ticket's file is read. A chat file's URL ends
// with its file_sign, so that the web SDK's forward, which keeps what
// follows "sign=", finds it; an avatar's ends with its object_name, to
// which the SDKs append &image_type=2 and the token.
func (s *Server) downloadURL(r *http.Request, t files.Ticket) string {
	if t.Purpose != files.PurposeChat {
		return s.base(r) + pathDownloadAvatar + "?object_name=" + url.QueryEscape(t.Object)
	}
	return s.chatURL(r, files.FileSign{App: t.App, Object: t.Object, FileType: t.FileType, ToType: t.ToType, ToID: t.ToID, From: t.Uploader})
}

func (s *Server) chatURL(r *http.Request, f files.FileSign) string {
	return s.base(r) + pathDownloadChat + "?file_sign=" + s.cfg.Files.Signer().FileSign(f)
}

// conversation reads to_id and to_type (default 1) and checks that the
// caller may send to that conversation: a user of the app, or a group the
// caller belongs to.
func (s *Server) conversation(r *http.Request, c *call) (toType int, toID int64, err error) {
	q := query{r}
	if toID, err = q.int64("to_id", true, 0); err != nil {
		return 0, 0, err
	}
	t, err := q.int64("to_type", false, toUser)
	if err != nil {
		return 0, 0, err
	}
	if toID <= 0 || (t != toUser && t != toGroup) {
		return 0, 0, badParam("to_id must be positive and to_type 1 (user) or 2 (group)")
	}
	return int(t), toID, s.maySend(r.Context(), c, int(t), toID)
}

func (s *Server) maySend(ctx context.Context, c *call, toType int, toID int64) error {
	if toType == toUser {
		_, err := s.userStatus(ctx, c.app.ID, toID)
		return err
	}
	if _, err := s.store.Group(ctx, c.app.ID, toID); err != nil {
		return err
	}
	if c.userID == 0 {
		return nil
	}
	_, ok, err := s.store.Member(ctx, c.app.ID, toID, c.userID)
	if err == nil && !ok {
		err = imgate.Errorf(imgate.CodeNotGroupMember, "user %d is not a member of group %d", c.userID, toID)
	}
	return err
}

// GET /file/upload/chat?file_type=&to_id=&to_type=
func (s *Server) uploadChatURL(r *http.Request, c *call) (any, error) {
	if err := s.filesOn(); err != nil {
		return nil, err
	}
	ft, err := query{r}.int64("file_type", true, 0)
	if err != nil {
		return nil, err
	}
	if _, ok := files.ClassOf(int(ft)); !ok {
		return nil, badParam("file_type must be 100 to 104 or 200 to 203")
	}
	toType, toID, err := s.conversation(r, c)
	if err != nil {
		return nil, err
	}
	return s.ticketDto(r, files.Ticket{Purpose: files.PurposeChat, App: c.app.ID, Uploader: c.userID,
		ToType: toType, ToID: toID, FileType: int(ft), Object: files.ChatObject()}), nil
}

// GET /file/upload/avatar/user
func (s *Server) uploadUserAvatarURL(r *http.Request, c *call) (any, error) {
	if err := s.filesOn(); err != nil {
		return nil, err
	}
	return s.ticketDto(r, files.Ticket{Purpose: files.PurposeUserAvatar, App: c.app.ID, Uploader: c.userID,
		Object: files.AvatarObject('u', c.userID)}), nil
}

// GET /file/upload/avatar/group?group_id=: for the group's members (who
// may set its avatar is /group/info/avatar's to decide).
func (s *Server) uploadGroupAvatarURL(r *http.Request, c *call) (any, error) {
	if err := s.filesOn(); err != nil {
		return nil, err
	}
	gid, err := query{r}.int64("group_id", true, 0)
	if err != nil {
		return nil, err
	}
	if gid <= 0 {
		return nil, badParam("group_id must be positive")
	}
	if err := s.maySend(r.Context(), c, toGroup, gid); err != nil {
		return nil, err
	}
	return s.ticketDto(r, files.Ticket{Purpose: files.PurposeGroupAvatar, App: c.app.ID, Uploader: c.userID,
		ToID: gid, Object: files.AvatarObject('g', gid)}), nil
}

// GET /file/upload/forward?file_sign=&to_id=&to_type=: a new download URL
// of the same file for another conversation, for a caller who may read
// the file and send to the conversation. The bytes are not copied.
func (s *Server) forwardURL(r *http.Request, c *call) (any, error) {
	if err := s.filesOn(); err != nil {
		return nil, err
	}
	raw, err := query{r}.str("file_sign", true)
	if err != nil {
		return nil, err
	}
	f, err := s.fileSign(raw)
	if err != nil {
		return nil, err
	}
	if err := s.mayRead(r.Context(), c, f); err != nil {
		return nil, err
	}
	if f.ToType, f.ToID, err = s.conversation(r, c); err != nil {
		return nil, err
	}
	f.From = c.userID
	return s.chatURL(r, f), nil
}

// fileSign verifies a file_sign.
func (s *Server) fileSign(raw string) (files.FileSign, error) {
	f, err := s.cfg.Files.Signer().VerifyFileSign(raw)
	if err != nil || !files.ValidChatObject(f.Object) {
		return f, s.cfg.Files.Refused("bad_sign", imgate.CodeInvalidParameter, "file_sign is not valid")
	}
	return f, nil
}

// mayRead lets the members of the file's conversation read it, and the
// app's admin tokens; never another app. Once a message carrying it was
// recalled, only its sender and admin tokens read it through this
// conversation.
func (s *Server) mayRead(ctx context.Context, c *call, f files.FileSign) error {
	if f.App != c.app.ID {
		return s.cfg.Files.Refused("forbidden", imgate.CodeFileForbidden, "the file is not of app %s", c.app.ID)
	}
	if (c.userID == 0 && c.admin()) || c.userID == f.From {
		return nil
	}
	if err := s.member(ctx, c, f); err != nil {
		return err
	}
	gone, err := s.cfg.Files.Withdrawn(ctx, f)
	if err != nil {
		return err
	}
	if gone {
		return s.cfg.Files.Refused("recalled", imgate.CodeFileNotFound, "the message with this file was recalled")
	}
	return nil
}

// member checks that the caller belongs to the file's conversation.
func (s *Server) member(ctx context.Context, c *call, f files.FileSign) error {
	switch f.ToType {
	case toUser:
		if c.userID == f.ToID {
			return nil
		}
	case toGroup:
		_, ok, err := s.store.Member(ctx, c.app.ID, f.ToID, c.userID)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	return s.cfg.Files.Refused("forbidden", imgate.CodeFileForbidden, "only the members of the file's conversation may read it")
}

// POST (multipart/form-data with a file part, as MaxIM's web SDK sends
// it; other parts, such as OSS's policy fields, are ignored) or PUT (the
// bytes as the body) to the upload URL of a ticket.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) error {
	if err := s.filesOn(); err != nil {
		return err
	}
	fs := s.cfg.Files
	t, err := fs.Signer().VerifyTicket(r.URL.Query().Get("ticket"), time.Now())
	switch {
	case errors.Is(err, files.ErrExpired):
		return fs.Refused("expired", imgate.CodeForbidden, "the upload URL has expired; ask for a new one")
	case err != nil:
		return fs.Refused("bad_sign", imgate.CodeForbidden, "the upload URL is not valid")
	}
	class := files.ClassAvatar
	if t.Purpose == files.PurposeChat {
		class, _ = files.ClassOf(t.FileType)
	}
	// The multipart envelope around the file is small; the file itself is
	// cut off at its limit by Store.
	r.Body = http.MaxBytesReader(w, r.Body, fs.Config().Limits.Of(class)+1<<20)
	src := io.Reader(r.Body)
	if r.Method == post {
		if src, err = filePart(r); err != nil {
			return fs.Refused("bad_body", imgate.CodeInvalidParameter, "%v", err)
		}
	}
	st, err := fs.Store(r.Context(), t, class, src)
	if err != nil {
		// Do not read the rest of a refused body.
		w.Header().Set("Connection", "close")
		return err
	}
	writeJSON(w, http.StatusOK, envelope{Code: imgate.CodeOK, Data: uploaded{
		DownloadURL: s.downloadURL(r, t), Size: st.Size, ContentType: st.ContentType, Thumbnail: st.Thumbnail,
	}})
	return nil
}

// uploaded is the answer to an upload.
type uploaded struct {
	DownloadURL string `json:"download_url"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	Thumbnail   bool   `json:"thumbnail"`
}

// filePart returns the part named "file" of a multipart body, skipping
// (and bounding) the parts before it.
func filePart(r *http.Request) (io.Reader, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, errors.New("the body must be multipart/form-data with a file part")
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the body has no file part")
		} else if err != nil {
			return nil, errors.New("the multipart body is malformed or truncated")
		}
		if p.FormName() == "file" {
			return p, nil
		}
		if err := skipPart(p); err != nil {
			return nil, err
		}
	}
}

// skipPart reads a field before the file; fields are short.
func skipPart(p *multipart.Part) error {
	n, err := io.Copy(io.Discard, io.LimitReader(p, 64<<10+1))
	if err != nil {
		return errors.New("the multipart body is malformed or truncated")
	}
	if n > 64<<10 {
		return errors.New("a form field before the file part is longer than 64 KiB")
	}
	return nil
}

// downloadCall resolves who downloads: the app_id and access-token come
// from the headers or, for <img src> and the mini-program SDK, from the
// query. app is the app to assume when neither names one.
func (s *Server) downloadCall(r *http.Request, app string) (*call, error) {
	q := r.URL.Query()
	for _, name := range []string{"app_id", "access-token"} {
		if r.Header.Get(name) == "" && q.Get(name) != "" {
			r.Header.Set(name, q.Get(name))
		}
	}
	if app != "" && r.Header.Get("app_id") == "" {
		r.Header.Set("app_id", app)
	}
	return s.authorize(r, anyToken)
}

// variant reads image_type (1 original, 2 thumbnail, 3 cover: the
// thumbnail too, as imgate makes no video covers), w and h.
func variant(r *http.Request, maxSide int) (files.Variant, error) {
	q := query{r}
	it, err := q.int64("image_type", false, 1)
	if err != nil {
		return files.Variant{}, err
	}
	if it < 1 || it > 3 {
		return files.Variant{}, badParam("image_type must be 1, 2 or 3")
	}
	v := files.Variant{Thumb: it != 1}
	for _, side := range []struct {
		name string
		p    *int
	}{{"w", &v.W}, {"h", &v.H}} {
		raw, _ := q.str(side.name, false)
		if raw == "" {
			continue
		}
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(f) || f < 1 || f > float64(maxSide) {
			return v, badParam("%s must be from 1 to %d", side.name, maxSide)
		}
		*side.p = int(f)
	}
	if v.W > 0 || v.H > 0 {
		v.Thumb = false // resized from the original
	}
	return v, nil
}

// GET /file/download/chat?file_sign=&image_type=&w=&h=
func (s *Server) downloadChat(w http.ResponseWriter, r *http.Request) error {
	if err := s.filesOn(); err != nil {
		return err
	}
	raw, err := query{r}.str("file_sign", true)
	if err != nil {
		return err
	}
	f, err := s.fileSign(raw)
	if err != nil {
		return err
	}
	c, err := s.downloadCall(r, f.App)
	if err != nil {
		return err
	}
	if err := s.mayRead(r.Context(), c, f); err != nil {
		return err
	}
	return s.serveFile(w, r, f.App, f.Object)
}

// GET /file/download/avatar?object_name=&image_type=: any user of the app.
func (s *Server) downloadAvatar(w http.ResponseWriter, r *http.Request) error {
	if err := s.filesOn(); err != nil {
		return err
	}
	object, err := query{r}.str("object_name", true)
	if err != nil {
		return err
	}
	if _, _, ok := files.ParseAvatar(object); !ok {
		return s.cfg.Files.Refused("bad_param", imgate.CodeInvalidParameter, "object_name is not an avatar's")
	}
	c, err := s.downloadCall(r, "")
	if err != nil {
		return err
	}
	return s.serveFile(w, r, c.app.ID, object)
}

// serveFile writes the asked form of the object, with ranges and
// conditional requests; what a browser must not run in imgate's origin is
// sent as an attachment.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, app, object string) error {
	v, err := variant(r, s.cfg.Files.Config().MaxResize)
	if err != nil {
		return err
	}
	d, err := s.cfg.Files.Open(r.Context(), app, object, v)
	if err != nil {
		return err
	}
	if d.Redirect != "" {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, d.Redirect, http.StatusFound)
		return nil
	}
	defer d.Close()
	h := w.Header()
	if files.Inline(d.ContentType) {
		h.Set("Content-Type", d.ContentType)
	} else {
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", "attachment")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, max-age=86400")
	// The blob itself, so that a local file goes out by sendfile.
	http.ServeContent(w, r, "", d.ModTime, d.ReadSeekCloser)
	if r.Method == get && r.Header.Get("Range") == "" {
		s.cfg.Metrics.FileServed(d.Size)
	}
	return nil
}

// checkAvatar accepts an app-hosted avatar URL as it is; a URL of
// imgate's avatar download must name an avatar of the owner (kind 'u' or
// 'g', and the id when known, else 0) that was uploaded.
func (s *Server) checkAvatar(ctx context.Context, app string, kind byte, id int64, v string) error {
	u, err := url.Parse(v)
	if err != nil || !strings.HasSuffix(u.Path, pathDownloadAvatar) || s.cfg.Files == nil {
		return nil
	}
	object := u.Query().Get("object_name")
	k, owner, ok := files.ParseAvatar(object)
	if !ok || k != kind || (id != 0 && owner != id) {
		return badParam("the avatar URL names no avatar of this %s", map[byte]string{'u': "user", 'g': "group"}[kind])
	}
	found, err := s.cfg.Files.Exists(ctx, app, object)
	if err != nil {
		return err
	}
	if !found {
		return imgate.Errorf(imgate.CodeFileNotFound, "the avatar has not been uploaded")
	}
	return nil
}
