package files_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/files"
)

func TestSigner(t *testing.T) {
	s := files.NewSigner([]byte("secret"))
	f := files.FileSign{App: "app", Object: "chat/0123", FileType: 102, ToType: 1, ToID: 7, From: 6}
	raw := s.FileSign(f)
	if strings.ContainsAny(raw, "=&?/+ ") || strings.Contains(raw, "sign=") {
		t.Errorf("file sign %q is not safe at the end of a URL", raw)
	}
	if got, err := s.VerifyFileSign(raw); err != nil || got != f {
		t.Errorf("verify: %+v, %v", got, err)
	}
	// Widening (another conversation or app) needs a new signature.
	payload, sig, _ := strings.Cut(raw, ".")
	other := s.FileSign(files.FileSign{App: "app", Object: "chat/0123", FileType: 102, ToType: 1, ToID: 8, From: 6})
	otherPayload, _, _ := strings.Cut(other, ".")
	for name, forged := range map[string]string{
		"other payload, old signature": otherPayload + "." + sig,
		"no signature":                 payload,
		"other secret":                 files.NewSigner([]byte("other")).FileSign(f),
		"a ticket as a file sign":      s.Ticket(files.Ticket{App: "app", Object: "chat/0123", Expires: time.Now().Add(time.Hour).Unix()}),
	} {
		if _, err := s.VerifyFileSign(forged); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	tk := files.Ticket{Purpose: files.PurposeChat, App: "app", Uploader: 6, ToType: 1, ToID: 7, FileType: 102, Object: "chat/1", Expires: time.Now().Add(time.Minute).Unix()}
	if _, err := s.VerifyTicket(s.Ticket(tk), time.Now()); err != nil {
		t.Errorf("fresh ticket: %v", err)
	}
	if _, err := s.VerifyTicket(s.Ticket(tk), time.Now().Add(2*time.Minute)); err != files.ErrExpired {
		t.Errorf("old ticket: %v, want ErrExpired", err)
	}
	if _, err := s.VerifyTicket(raw, time.Now()); err == nil {
		t.Error("a file sign verified as a ticket")
	}
}

func pngOf(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, x*h/w, color.RGBA{R: 200, A: 255})
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// bomb is a PNG whose header claims side×side pixels, in a few bytes.
func bomb(side uint32) []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], side)
	binary.BigEndian.PutUint32(ihdr[4:], side)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	buf.Write(binary.BigEndian.AppendUint32(nil, 13))
	chunk := append([]byte("IHDR"), ihdr...)
	buf.Write(chunk)
	buf.Write(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(chunk)))
	return buf.Bytes()
}

func TestStore(t *testing.T) {
	backends(t, func(t *testing.T, b files.Backend) {
		f := files.New(files.Config{Limits: files.Limits{Image: 64 << 10, File: 1000}, ThumbSize: 50, MaxPixels: 1 << 20, TempDir: t.TempDir()}, b, []byte("s"), nil)
		ctx := context.Background()
		ticket := func() files.Ticket {
			return files.Ticket{Purpose: files.PurposeChat, App: "app", Object: files.ChatObject()}
		}
		img := pngOf(400, 200)
		tk := ticket()
		st, err := f.Store(ctx, tk, files.ClassImage, bytes.NewReader(img))
		if err != nil || st.ContentType != "image/png" || !st.Thumbnail || st.Size != int64(len(img)) {
			t.Fatalf("store image: %+v, %v", st, err)
		}
		if _, err := f.Store(ctx, tk, files.ClassImage, bytes.NewReader(img)); imgate.ErrorCode(err) != imgate.CodeForbidden {
			t.Errorf("second upload on a ticket: %v, want 10010", err)
		}
		d, err := f.Open(ctx, "app", tk.Object, files.Variant{})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(d)
		d.Close()
		if !bytes.Equal(got, img) || d.ContentType != "image/png" {
			t.Errorf("original: %d bytes %s", len(got), d.ContentType)
		}
		d, err = f.Open(ctx, "app", tk.Object, files.Variant{Thumb: true})
		if err != nil {
			t.Fatal(err)
		}
		thumb, err := jpeg.DecodeConfig(d)
		d.Close()
		if err != nil || thumb.Width != 50 || thumb.Height != 25 {
			t.Errorf("thumbnail: %+v, %v, want 50x25 JPEG", thumb, err)
		}
		if _, err := f.Open(ctx, "other", tk.Object, files.Variant{}); imgate.ErrorCode(err) != imgate.CodeFileNotFound {
			t.Errorf("the object as another app's: %v, want 20022", err)
		}
		for _, c := range []struct {
			name  string
			class files.Class
			body  io.Reader
		}{
			{"too large", files.ClassFile, endless{}},
			{"text as an image", files.ClassImage, strings.NewReader("<html>hello</html>")},
			{"decompression bomb", files.ClassImage, bytes.NewReader(bomb(100_000))},
			{"empty", files.ClassFile, strings.NewReader("")},
		} {
			_, err := f.Store(ctx, ticket(), c.class, c.body)
			if imgate.ErrorCode(err) != imgate.CodeInvalidParameter {
				t.Errorf("%s: %v, want 10002", c.name, err)
			}
		}
	})
}

// endless reads zeros forever: a too-large upload must be cut off.
type endless struct{}

func (endless) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// chatMessage is a message whose attachment carries the file sign's URL.
func chatMessage(s *files.Signer, fs files.FileSign) imgate.Message {
	att, _ := json.Marshal(map[string]any{"url": "http://h/file/download/chat?file_sign=" + s.FileSign(fs), "dName": "x", "fLen": 3})
	return imgate.Message{AppID: fs.App, Kind: imgate.ConvChat, From: fs.From, To: fs.ToID, CType: 4, Attachment: string(att)}
}

func TestSweepAndRecall(t *testing.T) {
	backends(t, func(t *testing.T, b files.Backend) {
		f := files.New(files.Config{TempDir: t.TempDir()}, b, []byte("s"), nil)
		ctx := context.Background()
		var signs []files.FileSign
		for range 3 {
			tk := files.Ticket{Purpose: files.PurposeChat, App: "app", Object: files.ChatObject()}
			if _, err := f.Store(ctx, tk, files.ClassImage, bytes.NewReader(pngOf(40, 40))); err != nil {
				t.Fatal(err)
			}
			signs = append(signs, files.FileSign{App: "app", Object: tk.Object, FileType: 102, ToType: 1, ToID: 2, From: 1})
		}
		f.Sent(ctx, chatMessage(f.Signer(), signs[0]))
		// A message of another app naming the file marks nothing.
		other := chatMessage(f.Signer(), signs[1])
		other.AppID = "other"
		f.Sent(ctx, other)
		if n, err := f.Sweep(ctx, time.Hour); err != nil || n != 0 {
			t.Errorf("sweep of fresh files: %d, %v; want none removed", n, err)
		}
		if n, err := f.Sweep(ctx, -time.Hour); err != nil || n != 2 {
			t.Errorf("sweep: %d removed, %v; want the 2 never sent", n, err)
		}
		for i, want := range []bool{true, false, false} {
			ok, err := f.Exists(ctx, "app", signs[i].Object)
			if err != nil || ok != want {
				t.Errorf("file %d exists %v (%v), want %v", i, ok, err, want)
			}
		}
		if _, err := f.Open(ctx, "app", signs[0].Object, files.Variant{Thumb: true}); err != nil {
			t.Errorf("the sent file's thumbnail: %v", err)
		}
		// A recall in the file's conversation withdraws it there; a
		// forward to another conversation stays.
		fwd := signs[0]
		fwd.ToID, fwd.From = 3, 2
		f.Recalled(ctx, chatMessage(f.Signer(), signs[0]))
		for _, c := range []struct {
			fs   files.FileSign
			want bool
		}{{signs[0], true}, {fwd, false}} {
			if got, err := f.Withdrawn(ctx, c.fs); err != nil || got != c.want {
				t.Errorf("withdrawn %+v: %v %v, want %v", c.fs, got, err, c.want)
			}
		}
	})
}

func TestSniff(t *testing.T) {
	for _, c := range []struct {
		name string
		head []byte
		want string
	}{
		{"amr", []byte("#!AMR\n\x3c"), "audio/amr"},
		{"mp3 with a tag", []byte("ID3\x03\x00\x00\x00"), "audio/mpeg"},
		{"mp3 frames", []byte{0xFF, 0xFB, 0x90, 0x64, 0, 0}, "audio/mpeg"},
		{"aac adts", []byte{0xFF, 0xF1, 0x50, 0x80, 0, 0}, "audio/aac"},
		{"quicktime", []byte("\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  "), "video/quicktime"},
		{"3gp", []byte("\x00\x00\x00\x18ftyp3gp4\x00\x00\x00\x00isom3gp4"), "video/3gpp"},
		{"m4a", []byte("\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00M4A isom"), "audio/mp4"},
		{"png", pngOf(2, 2), "image/png"},
		{"html", []byte("<html><body>"), "text/html"},
		{"zeros", make([]byte, 16), "application/octet-stream"},
	} {
		if got := files.Sniff(c.head); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	if !files.Allowed(files.ClassVideo, "video/quicktime") || !files.Allowed(files.ClassAudio, "audio/mpeg") || files.Allowed(files.ClassImage, "text/html") {
		t.Error("Allowed disagrees with the classes")
	}
}
