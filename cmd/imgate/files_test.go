package main

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
	"net/textproto"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/gateway/xsync"
	"github.com/imgate/imgate/internal/pgtest"
	"github.com/imgate/imgate/internal/s3test"
)

// TestFilesWebSDK drives MaxIM's web SDK's image message over HTTP and
// the WebSocket gateway, on each file backend.
func TestFilesWebSDK(t *testing.T) {
	t.Run("local/embedded", func(t *testing.T) {
		t.Parallel()
		testFilesWebSDK(t, cli{t: t, env: map[string]string{"IMGATE_DATA_DIR": dataDir(t)}})
	})
	t.Run("local/postgres", func(t *testing.T) {
		t.Parallel()
		testFilesWebSDK(t, cli{t: t, env: map[string]string{"IMGATE_POSTGRES": pgtest.DSN(t), "IMGATE_FILES_DIR": t.TempDir()}})
	})
	for _, redirect := range []string{"", "1m"} {
		t.Run("s3/embedded/redirect="+redirect, func(t *testing.T) {
			t.Parallel()
			s3 := s3test.Config(t)
			testFilesWebSDK(t, cli{t: t, env: map[string]string{
				"IMGATE_DATA_DIR": dataDir(t), "IMGATE_FILES_BACKEND": "s3", "IMGATE_S3_ENDPOINT": s3.Endpoint,
				"IMGATE_S3_BUCKET": s3.Bucket, "IMGATE_S3_REGION": s3.Region, "IMGATE_S3_PATH_STYLE": "true",
				"IMGATE_S3_ACCESS_KEY": s3.AccessKey, "IMGATE_S3_SECRET_KEY": s3.SecretKey, "IMGATE_S3_REDIRECT": redirect,
			}})
		})
	}
}

// sdkUser is a registered user of the flow and its token.
type sdkUser struct {
	id    int64
	token string
}

func testFilesWebSDK(t *testing.T, c cli) {
	c.must("app", "create", "--id", "filesapp", "--name", "files")
	url, _, stop := c.serve()
	defer stop()
	app := map[string]string{"app_id": "filesapp"}
	users := map[string]sdkUser{}
	for _, name := range []string{"alice", "bob", "carol"} {
		code, data := post(t, "POST", url+"/user/register/v2", app, `{"username":"`+name+`","password":"pw"}`)
		var u sdkUser
		var reg struct {
			UserID int64 `json:"user_id"`
		}
		if json.Unmarshal(data, &reg); code != 200 {
			t.Fatalf("register %s: %d %s", name, code, data)
		}
		var tok struct {
			Token string `json:"token"`
		}
		_, data = post(t, "POST", url+"/token/user", app, `{"name":"`+name+`","password":"pw"}`)
		json.Unmarshal(data, &tok)
		u.id, u.token = reg.UserID, tok.Token
		users[name] = u
	}
	alice, bob, carol := users["alice"], users["bob"], users["carol"]
	as := func(u sdkUser) map[string]string {
		return map[string]string{"app_id": "filesapp", "access-token": u.token}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sender, receiver := device(ctx, t, url, alice), device(ctx, t, url, bob)

	// 1. The upload URL of an image for bob.
	code, data := post(t, "GET", url+"/file/upload/chat?file_type=102&to_id="+jsonInt(bob.id)+"&to_type=1", as(alice), "")
	var dto struct {
		UploadURL    string            `json:"upload_url"`
		UploadMethod string            `json:"upload_method"`
		OSSBodyParam map[string]string `json:"oss_body_param"`
		DownloadURL  string            `json:"download_url"`
	}
	if err := json.Unmarshal(data, &dto); code != 200 || err != nil || dto.UploadMethod != "POST" || dto.OSSBodyParam["key"] != "" {
		t.Fatalf("upload URL: %d %s", code, data)
	}
	// 2. The SDK's upload: a multipart POST with the file part only, as
	// oss_body_param has no key.
	img := testPNG(640, 480)
	if code, body := sdkUpload(t, dto.UploadURL, "photo.png", "image/png", img); code != 200 {
		t.Fatalf("upload: HTTP %d %s", code, body)
	}
	// 3. An image message whose attachment carries the download URL.
	attach, _ := json.Marshal(map[string]any{"url": dto.DownloadURL, "dName": "photo.png", "fLen": len(img), "width": 640, "height": 480})
	dl, err := sender.Send(ctx, &xsync.XID{Uid: uint64(alice.id)}, uint64(bob.id), &xsync.MessageBody{
		Type: xsync.MessageBody_CHAT, Ctype: xsync.MessageBody_IMAGE, Attachment: string(attach),
	})
	if err != nil || dl.GetServerMid() == 0 {
		t.Fatalf("send image: %v %v", dl, err)
	}
	// 4. The receiving device gets it.
	var got *xsync.MessageBody
	err = receiver.Wait(ctx, func(v client.View) bool {
		for _, m := range v.Conv(uint64(alice.id)) {
			var b xsync.MessageBody
			if proto.Unmarshal(m.GetPayload(), &b) == nil && b.GetCtype() == xsync.MessageBody_IMAGE {
				got = &b
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("bob never got the image: %v", err)
	}
	var att struct {
		URL string `json:"url"`
	}
	json.Unmarshal([]byte(got.GetAttachment()), &att)
	// 5. It downloads the original and the thumbnail with its token.
	if status, body := fetch(t, att.URL, as(bob)); status != 200 || !bytes.Equal(body, img) {
		t.Errorf("original: HTTP %d, %d bytes, want the %d uploaded", status, len(body), len(img))
	}
	if c.env["IMGATE_S3_REDIRECT"] != "" {
		checkRedirect(t, att.URL, as(bob))
	}
	status, body := fetch(t, att.URL+"&image_type=2", as(bob))
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(body)); status != 200 || err != nil || cfg.Width != 240 || cfg.Height != 180 {
		t.Errorf("thumbnail: HTTP %d, %+v %v, want a 240x180 JPEG", status, cfg, err)
	}
	// 6. Not carol's: she is no member of the conversation.
	if code := fetchCode(t, att.URL, as(carol)); code != 20023 {
		t.Errorf("carol's download: code %d, want 20023", code)
	}
	// 7. bob forwards it to carol as the web SDK does: the file_sign is
	// what follows "sign=" in the URL.
	sign := strings.Split(att.URL, "sign=")[1]
	code, data = post(t, "GET", url+"/file/upload/forward?file_sign="+sign+"&to_id="+jsonInt(carol.id)+"&to_type=1", as(bob), "")
	var forwarded string
	if err := json.Unmarshal(data, &forwarded); code != 200 || err != nil {
		t.Fatalf("forward: %d %s", code, data)
	}
	if status, body := fetch(t, forwarded, as(carol)); status != 200 || !bytes.Equal(body, img) {
		t.Errorf("carol's download of the forward: HTTP %d, %d bytes", status, len(body))
	}
	// carol cannot forward bob's original: she may not read it.
	code, _ = post(t, "GET", url+"/file/upload/forward?file_sign="+sign+"&to_id="+jsonInt(carol.id), as(carol), "")
	if code != 20023 {
		t.Errorf("carol forwarding a file not hers to read: code %d, want 20023", code)
	}
}

// device logs the user in over the WebSocket gateway.
func device(ctx context.Context, t *testing.T, url string, u sdkUser) *client.Session {
	t.Helper()
	conn, err := client.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/ws", client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if p, err := conn.Login(ctx, uint64(u.id), 0, u.token, ""); err != nil || p.GetStatus().GetCode() != xsync.Status_OK {
		t.Fatalf("login: %v %v", p, err)
	}
	return client.Start(conn, false)
}

func testPNG(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{R: uint8(x), G: uint8(y), B: 90, A: 255})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// sdkUpload posts the file as MaxIM's web SDK does: FormData with one
// "file" part, the browser's filename and type.
func sdkUpload(t *testing.T, url, name, ctype string, data []byte) (int, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", `form-data; name="file"; filename="`+name+`"`)
	hdr.Set("Content-Type", ctype)
	pw, _ := mw.CreatePart(hdr)
	pw.Write(data)
	mw.Close()
	resp, err := http.Post(url, mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), `"code":200`) {
		return -1, string(b)
	}
	return resp.StatusCode, string(b)
}

// fetch GETs the URL with the headers, as the SDK downloads a file.
func fetch(t *testing.T, url string, headers map[string]string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range headers {
		req.Header[k] = []string{v}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return -1, b // an error envelope
	}
	return resp.StatusCode, b
}

// fetchCode GETs the URL and returns the envelope's code of a refusal.
func fetchCode(t *testing.T, url string, headers map[string]string) int {
	t.Helper()
	_, b := fetch(t, url, headers)
	var env struct {
		Code int `json:"code"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return 0
	}
	return env.Code
}

// checkRedirect wants the download answered with a redirect to a
// presigned URL of the bucket.
func checkRedirect(t *testing.T, url string, headers map[string]string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range headers {
		req.Header[k] = []string{v}
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.Contains(loc, "X-Amz-Signature=") {
		t.Errorf("download with --s3-redirect: HTTP %d to %q, want a redirect to a presigned URL", resp.StatusCode, loc)
	}
}
