package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/admin"
	"github.com/imgate/imgate/delivery"
	"github.com/imgate/imgate/files"
	"github.com/imgate/imgate/storage/embedded"
)

// startFiles serves the REST API on the store with a file service on
// local disk: images up to 256 KiB, files up to 64 KiB.
func startFiles(t *testing.T, s imgate.Store) (*api, string) {
	t.Helper()
	dir := t.TempDir()
	local, err := files.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	fs := files.New(files.Config{Limits: files.Limits{Image: 256 << 10, Avatar: 256 << 10, File: 64 << 10}, MaxResize: 512, TempDir: t.TempDir()},
		local, []byte("test secret"), quiet())
	return startWithCore(t, s, admin.Config{PasswordCost: 4, MaxListLen: 50, Files: fs}, delivery.Config{Attachments: fs}), dir
}

// fileDto is FileUploadDto.
type fileDto struct {
	UploadURL    string            `json:"upload_url"`
	UploadMethod string            `json:"upload_method"`
	OSSBodyParam map[string]string `json:"oss_body_param"`
	DownloadURL  string            `json:"download_url"`
}

func imagePNG(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, h/2, color.RGBA{B: 255, A: 255})
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// raw sends a request with the body and content type and returns the
// HTTP status, the body, and the envelope's code when it is one (0 if
// not).
func raw(t *testing.T, method, u, ctype string, body io.Reader, hs h) (int, []byte, int) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range hs {
		req.Header[k] = []string{v}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var env struct {
		Code int `json:"code"`
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		json.Unmarshal(b, &env)
	}
	return resp.StatusCode, b, env.Code
}

// multipartBody is a body as MaxIM's web SDK sends it: fields, then the
// file part.
func multipartBody(fields map[string]string, file []byte) (string, *bytes.Buffer) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("file", "blob")
		fw.Write(file)
	}
	mw.Close()
	return mw.FormDataContentType(), &body
}

// upload posts the file to the DTO's upload URL and wants it stored.
func upload(t *testing.T, dto fileDto, data []byte) {
	t.Helper()
	ct, body := multipartBody(nil, data)
	if status, b, code := raw(t, "POST", dto.UploadURL, ct, body, nil); status != 200 || code != 200 {
		t.Fatalf("upload: HTTP %d %s", status, b)
	}
}

// TestAvatars uploads, sets and downloads the avatars of a user and a
// group, on each store.
func TestAvatars(t *testing.T) {
	eachStore(t, func(t *testing.T, s imgate.Store) {
		a, _ := startFiles(t, s)
		alice, atok := a.user("alice")
		bob, btok := a.user("bob")
		_, ctok := a.user("carol")
		var dto fileDto
		a.ok("GET", "/file/upload/avatar/user", a.as(atok), nil, &dto)
		pic := imagePNG(300, 300)
		// PUT of the bytes, as upload_method PUT would have it.
		if status, b, code := raw(t, "PUT", dto.UploadURL, "image/png", bytes.NewReader(pic), nil); status != 200 || code != 200 {
			t.Fatalf("PUT upload: HTTP %d %s", status, b)
		}
		a.ok("POST", "/user/avatar", a.as(atok), map[string]string{"avatar": dto.DownloadURL}, nil)
		var profile struct {
			Avatar string `json:"avatar"`
		}
		a.ok("GET", "/user/profile", a.as(atok), nil, &profile)
		if profile.Avatar != dto.DownloadURL {
			t.Errorf("profile avatar %q, want %q", profile.Avatar, dto.DownloadURL)
		}
		// Shown as the SDKs show it: the token and app in the query.
		thumbURL := profile.Avatar + "&image_type=2&access-token=" + url.QueryEscape(btok) + "&app_id=" + a.app
		status, body, _ := raw(t, "GET", thumbURL, "", nil, nil)
		if cfg, err := jpeg.DecodeConfig(bytes.NewReader(body)); status != 200 || err != nil || cfg.Width != 240 {
			t.Errorf("avatar thumbnail: HTTP %d %v %+v", status, err, cfg)
		}
		if status, body, _ := raw(t, "GET", profile.Avatar, "", nil, a.as(ctok)); status != 200 || !bytes.Equal(body, pic) {
			t.Errorf("avatar original: HTTP %d, %d bytes", status, len(body))
		}
		// bob may not take alice's avatar, nor one never uploaded.
		a.fails(imgate.CodeInvalidParameter, "POST", "/user/avatar", a.as(btok), map[string]string{"avatar": dto.DownloadURL})
		var bdto fileDto
		a.ok("GET", "/file/upload/avatar/user", a.as(btok), nil, &bdto)
		a.fails(imgate.CodeFileNotFound, "POST", "/user/avatar", a.as(btok), map[string]string{"avatar": bdto.DownloadURL})
		a.ok("POST", "/user/avatar", a.as(btok), map[string]string{"avatar": "https://cdn.example.com/bob.png"}, nil)

		// A group's avatar, by a member; not by carol, who is none.
		var g struct {
			GroupID int64 `json:"group_id"`
		}
		a.ok("POST", "/group/create", a.as(atok), map[string]any{"name": "g", "user_list": []int64{bob}}, &g)
		gid := strconv.FormatInt(g.GroupID, 10)
		a.fails(imgate.CodeNotGroupMember, "GET", "/file/upload/avatar/group?group_id="+gid, a.as(ctok), nil)
		a.ok("GET", "/file/upload/avatar/group?group_id="+gid, a.as(atok), nil, &dto)
		upload(t, dto, pic)
		a.ok("POST", "/group/info/avatar", a.as(atok), map[string]any{"group_id": g.GroupID, "value": dto.DownloadURL}, nil)
		var info struct {
			Avatar string `json:"avatar"`
		}
		a.ok("GET", "/group/info?group_id="+gid, a.as(btok), nil, &info)
		if info.Avatar != dto.DownloadURL {
			t.Errorf("group avatar %q, want %q", info.Avatar, dto.DownloadURL)
		}
		if status, body, _ := raw(t, "GET", info.Avatar, "", nil, a.as(btok)); status != 200 || !bytes.Equal(body, pic) {
			t.Errorf("group avatar download: HTTP %d, %d bytes", status, len(body))
		}
		_ = alice
	})
}

// TestFileRefusals sends what the file API must refuse, each with its
// MaxIM code, and checks that nothing was stored for it.
func TestFileRefusals(t *testing.T) {
	a, dir := startFiles(t, embeddedStore(t))
	alice, atok := a.user("alice")
	bob, btok := a.user("bob")
	_, ctok := a.user("carol")
	chatURL := func(tok string, to int64, fileType int) fileDto {
		var dto fileDto
		a.ok("GET", "/file/upload/chat?file_type="+strconv.Itoa(fileType)+"&to_id="+strconv.FormatInt(to, 10), a.as(tok), nil, &dto)
		return dto
	}
	pic := imagePNG(64, 64)
	refusals := []struct {
		name string
		send func() int
		code int
	}{
		{"unknown file_type", func() int {
			return a.do("GET", "/file/upload/chat?file_type=7&to_id="+strconv.FormatInt(bob, 10), a.as(atok), nil).Code
		}, imgate.CodeInvalidParameter},
		{"upload to no such user", func() int {
			return a.do("GET", "/file/upload/chat?file_type=100&to_id=999999", a.as(atok), nil).Code
		}, imgate.CodeUserNotFound},
		{"truncated multipart body", func() int {
			ct, body := multipartBody(nil, pic)
			_, _, code := raw(t, "POST", chatURL(atok, bob, 102).UploadURL, ct, bytes.NewReader(body.Bytes()[:body.Len()/2]), nil)
			return code
		}, imgate.CodeInvalidParameter},
		{"no file part", func() int {
			ct, body := multipartBody(map[string]string{"key": "x", "policy": "y"}, nil)
			_, _, code := raw(t, "POST", chatURL(atok, bob, 102).UploadURL, ct, body, nil)
			return code
		}, imgate.CodeInvalidParameter},
		{"not multipart", func() int {
			_, _, code := raw(t, "POST", chatURL(atok, bob, 102).UploadURL, "application/json", strings.NewReader("{}"), nil)
			return code
		}, imgate.CodeInvalidParameter},
		{"text as an image", func() int {
			ct, body := multipartBody(nil, []byte("<html><script>alert(1)</script></html>"))
			_, _, code := raw(t, "POST", chatURL(atok, bob, 102).UploadURL, ct, body, nil)
			return code
		}, imgate.CodeInvalidParameter},
		{"over the limit", func() int {
			ct, body := multipartBody(nil, bytes.Repeat([]byte("x"), 65<<10))
			_, _, code := raw(t, "POST", chatURL(atok, bob, 100).UploadURL, ct, body, nil)
			return code
		}, imgate.CodeInvalidParameter},
		{"forged upload URL", func() int {
			u := chatURL(atok, bob, 102).UploadURL
			ct, body := multipartBody(nil, pic)
			_, _, code := raw(t, "POST", u[:len(u)-3]+"abc", ct, body, nil)
			return code
		}, imgate.CodeForbidden},
		{"upload URL used twice", func() int {
			dto := chatURL(atok, bob, 102)
			upload(t, dto, pic)
			ct, body := multipartBody(nil, pic)
			_, _, code := raw(t, "POST", dto.UploadURL, ct, body, nil)
			return code
		}, imgate.CodeForbidden},
		{"forged file_sign", func() int {
			return fileCode(t, a.url+"/file/download/chat?file_sign=eyJhIjoidGVzdGFwcCJ9.AAAA", a.as(btok))
		}, imgate.CodeInvalidParameter},
		{"huge w", func() int {
			dto := chatURL(atok, bob, 102)
			upload(t, dto, pic)
			return fileCode(t, dto.DownloadURL+"&w=100000&h=10", a.as(btok))
		}, imgate.CodeInvalidParameter},
		{"non-member download", func() int {
			dto := chatURL(atok, bob, 102)
			upload(t, dto, pic)
			return fileCode(t, dto.DownloadURL, a.as(ctok))
		}, imgate.CodeFileForbidden},
		{"path-like object name", func() int {
			return fileCode(t, a.url+"/file/download/avatar?object_name=../../etc/passwd", a.as(btok))
		}, imgate.CodeInvalidParameter},
		{"no token", func() int {
			dto := chatURL(atok, bob, 102)
			return fileCode(t, dto.DownloadURL, h{})
		}, imgate.CodeMissingToken},
	}
	for _, r := range refusals {
		if got := r.send(); got != r.code {
			t.Errorf("%s: code %d, want %d", r.name, got, r.code)
		}
	}

	// A file_sign of another app is refused even with a token of that
	// other app's name in the wrong place.
	otherAdmin := a.newApp("otherapp")
	other := *a
	other.app = "otherapp"
	_, otok := other.user("olga")
	var odto fileDto
	other.ok("GET", "/file/upload/avatar/user", other.as(otok), nil, &odto)
	upload(t, odto, pic)
	dto := chatURL(atok, bob, 102)
	upload(t, dto, pic)
	if code := fileCode(t, dto.DownloadURL, h{"app_id": "otherapp", "access-token": otherAdmin}); code != imgate.CodeFileForbidden {
		t.Errorf("another app's admin reading a file: code %d, want %d", code, imgate.CodeFileForbidden)
	}
	// Avatars of another app do not resolve in this one.
	if code := fileCode(t, odto.DownloadURL, a.as(btok)); code != imgate.CodeFileNotFound {
		t.Errorf("another app's avatar: code %d, want %d", code, imgate.CodeFileNotFound)
	}
	// The admin token of the app reads any of its files.
	if status, body, _ := raw(t, "GET", dto.DownloadURL, "", nil, a.as(a.admin)); status != 200 || !bytes.Equal(body, pic) {
		t.Errorf("admin download: HTTP %d", status)
	}
	// w/h within bounds resize.
	status, body, _ := raw(t, "GET", dto.DownloadURL+"&w=32", "", nil, a.as(btok))
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(body)); status != 200 || err != nil || cfg.Width != 32 {
		t.Errorf("resized: HTTP %d %v %+v", status, err, cfg)
	}

	// Nothing but whole files and their thumbnails was stored: no
	// temporary files, nothing outside the apps' directories.
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		rel, _ := filepath.Rel(dir, p)
		if strings.Contains(rel, ".put-") || !(rel == "." || strings.HasPrefix(rel, a.app) || strings.HasPrefix(rel, "otherapp")) {
			t.Errorf("stray file %s", rel)
		}
		return nil
	})
	_ = alice
}

// TestGroupFiles: a group's file is read by its members, also after the
// sender left; not by others.
func TestGroupFiles(t *testing.T) {
	a, _ := startFiles(t, embeddedStore(t))
	_, atok := a.user("alice")
	bob, btok := a.user("bob")
	carol, ctok := a.user("carol")
	var g struct {
		GroupID int64 `json:"group_id"`
	}
	a.ok("POST", "/group/create", a.as(atok), map[string]any{"name": "g", "user_list": []int64{bob}}, &g)
	gid := strconv.FormatInt(g.GroupID, 10)
	a.fails(imgate.CodeNotGroupMember, "GET", "/file/upload/chat?file_type=100&to_type=2&to_id="+gid, a.as(ctok), nil)
	var dto fileDto
	a.ok("GET", "/file/upload/chat?file_type=100&to_type=2&to_id="+gid, a.as(btok), nil, &dto)
	doc := []byte("%PDF-1.4 a group document")
	upload(t, dto, doc)
	a.ok("POST", "/group/leave?group_id="+gid, a.as(btok), nil, nil)
	if status, body, _ := raw(t, "GET", dto.DownloadURL, "", nil, a.as(atok)); status != 200 || !bytes.Equal(body, doc) {
		t.Errorf("member's download after the sender left: HTTP %d %s", status, body)
	}
	if code := fileCode(t, dto.DownloadURL, a.as(ctok)); code != imgate.CodeFileForbidden {
		t.Errorf("outsider's download: code %d", code)
	}
	// Forwarded to carol, she reads it through the new URL only.
	sign := strings.Split(dto.DownloadURL, "sign=")[1]
	var fwd string
	a.ok("GET", "/file/upload/forward?file_sign="+sign+"&to_id="+strconv.FormatInt(carol, 10), a.as(atok), nil, &fwd)
	if status, body, _ := raw(t, "GET", fwd, "", nil, a.as(ctok)); status != 200 || !bytes.Equal(body, doc) {
		t.Errorf("forward recipient's download: HTTP %d %s", status, body)
	}
}

func fileCode(t *testing.T, u string, hs h) int {
	t.Helper()
	_, _, code := raw(t, "GET", u, "", nil, hs)
	return code
}

func embeddedStore(t *testing.T) imgate.Store {
	t.Helper()
	s, err := embedded.Open(context.Background(), embedded.Config{Dir: t.TempDir()}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRecalledFile: once its message is recalled, a file is the sender's
// only; a forward made before stays readable by its recipient.
func TestRecalledFile(t *testing.T) {
	a, _ := startFiles(t, embeddedStore(t))
	_, atok := a.user("alice")
	bob, btok := a.user("bob")
	carol, ctok := a.user("carol")
	var dto fileDto
	a.ok("GET", "/file/upload/chat?file_type=102&to_id="+strconv.FormatInt(bob, 10), a.as(atok), nil, &dto)
	pic := imagePNG(32, 32)
	upload(t, dto, pic)
	att, _ := json.Marshal(map[string]any{"url": dto.DownloadURL, "dName": "p.png", "fLen": len(pic)})
	r := a.ok("POST", "/message/send", a.as(atok), map[string]any{"type": 1, "targets": []int64{bob}, "content_type": 1, "content": "", "attachment": string(att)}, nil)
	var sent struct {
		MsgIDs []int64 `json:"msg_ids"`
	}
	json.Unmarshal([]byte(r.raw), &sent)
	var fwd string
	sign := strings.Split(dto.DownloadURL, "sign=")[1]
	a.ok("GET", "/file/upload/forward?file_sign="+sign+"&to_id="+strconv.FormatInt(carol, 10), a.as(btok), nil, &fwd)
	a.ok("POST", "/message/recall", a.as(atok), map[string]any{"msg_id": sent.MsgIDs[0], "conversation_id": bob}, nil)
	if code := fileCode(t, dto.DownloadURL, a.as(btok)); code != imgate.CodeFileNotFound {
		t.Errorf("bob's download after the recall: code %d, want %d", code, imgate.CodeFileNotFound)
	}
	if status, body, _ := raw(t, "GET", dto.DownloadURL, "", nil, a.as(atok)); status != 200 || !bytes.Equal(body, pic) {
		t.Errorf("the sender's download after the recall: HTTP %d", status)
	}
	if status, body, _ := raw(t, "GET", fwd, "", nil, a.as(ctok)); status != 200 || !bytes.Equal(body, pic) {
		t.Errorf("the earlier forward after the recall: HTTP %d", status)
	}
}
