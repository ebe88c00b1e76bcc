package files

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/metrics"
)

// Config holds the file API's limits. Zero fields take the defaults.
type Config struct {
	// Limits bound each class of file.
	Limits Limits
	// MaxPixels bounds an image that is decoded (for its thumbnail, or a
	// w/h resize): its width times height. Default 40 million, about
	// 160 MB of memory while it is decoded.
	MaxPixels int
	// MaxDecodes bounds the images decoded at once (thumbnails and
	// resizes); more wait their turn. With MaxPixels it bounds the memory
	// images take: about MaxDecodes × MaxPixels × 4 bytes at worst.
	// Default GOMAXPROCS: decoding is CPU-bound anyway.
	MaxDecodes int
	// ThumbSize is the box a thumbnail fits in, in pixels. Default 240.
	ThumbSize int
	// MaxResize bounds the w and h of a download that asks for a resized
	// image. Default 2048.
	MaxResize int
	// UploadTTL is how long an upload URL may be used. Default 15 minutes.
	UploadTTL time.Duration
	// Redirect, when positive and the backend can presign (S3), answers
	// downloads of originals and thumbnails with a redirect to a URL of
	// the backend valid that long, so that the bytes bypass imgate.
	// Resized images are still served by imgate. Default 0: imgate
	// serves every download.
	Redirect time.Duration
	// TempDir holds uploads while they are checked, before they are
	// stored. Default os.TempDir().
	TempDir string
	// Metrics counts uploads, downloads and refusals; nil counts into
	// the void.
	Metrics *metrics.Metrics
}

func (c Config) withDefaults() Config {
	c.Limits = c.Limits.WithDefaults()
	if c.MaxPixels <= 0 {
		c.MaxPixels = 40_000_000
	}
	if c.MaxDecodes <= 0 {
		c.MaxDecodes = runtime.GOMAXPROCS(0)
	}
	if c.ThumbSize <= 0 {
		c.ThumbSize = 240
	}
	if c.MaxResize <= 0 {
		c.MaxResize = 2048
	}
	if c.UploadTTL <= 0 {
		c.UploadTTL = 15 * time.Minute
	}
	if c.Metrics == nil {
		c.Metrics = metrics.New(nil)
	}
	return c
}

// Files stores and serves the files of one imgate installation.
type Files struct {
	cfg     Config
	backend Backend
	signer  *Signer
	log     *slog.Logger
	decodes chan struct{} // a slot per image being decoded
}

// New returns the file service on the backend, signing with a key derived
// from secret.
func New(cfg Config, backend Backend, secret []byte, logger *slog.Logger) *Files {
	cfg = cfg.withDefaults()
	return &Files{cfg: cfg, backend: backend, signer: NewSigner(secret), log: logger, decodes: make(chan struct{}, cfg.MaxDecodes)}
}

// Config returns the configuration with its defaults filled in.
func (f *Files) Config() Config { return f.cfg }

// Signer returns the signer of upload tickets and file signs.
func (f *Files) Signer() *Signer { return f.signer }

// Backend returns the backend the files are kept in.
func (f *Files) Backend() Backend { return f.backend }

// NewObject returns a fresh, unguessable object name under prefix.
func NewObject(prefix string) string {
	var b [16]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// AvatarObject returns a fresh object name for an avatar of a user
// (kind 'u') or a group (kind 'g').
func AvatarObject(kind byte, id int64) string {
	return NewObject("avatar/" + string(kind) + "/" + strconv.FormatInt(id, 10) + "/")
}

var avatarName = regexp.MustCompile(`^avatar/([ug])/([1-9][0-9]{0,18})/[0-9a-f]{32}$`)

// ParseAvatar returns the owner of an avatar's object name: kind 'u' or
// 'g' and the user or group id. ok is false for anything that is not an
// avatar name made by AvatarObject (a path like "../x" among others).
func ParseAvatar(object string) (kind byte, id int64, ok bool) {
	m := avatarName.FindStringSubmatch(object)
	if m == nil {
		return 0, 0, false
	}
	id, err := strconv.ParseInt(m[2], 10, 64)
	return m[1][0], id, err == nil
}

// ChatObject returns a fresh object name for a chat file:
// chat/<the name's first two hex digits>/<name>, so that a local backend
// keeps at most a few thousand files per directory per million.
func ChatObject() string {
	name := NewObject("")
	return "chat/" + name[:2] + "/" + name
}

var chatName = regexp.MustCompile(`^chat/([0-9a-f]{2})/([0-9a-f]{32})$`)

// ValidChatObject reports whether object is a chat file's name.
func ValidChatObject(object string) bool {
	m := chatName.FindStringSubmatch(object)
	return m != nil && m[2][:2] == m[1]
}

// key is the blob key of an app's object: apps never share a key.
func key(app, object string) (string, error) {
	k := app + "/" + object
	if !ValidKey(app) || !ValidKey(k) {
		return "", imgate.Errorf(imgate.CodeInvalidParameter, "invalid object name")
	}
	return k, nil
}

func thumbKey(k string) string { return k + ".thumb" }

// Stored is what an upload stored.
type Stored struct {
	Size        int64
	ContentType string
	Thumbnail   bool
}

// Store reads one uploaded file from r for the ticket and stores it. It
// reads at most the class's limit plus one byte: a larger file is refused
// without reading the rest. The file is spooled to a temporary file (never
// held in memory), its content type sniffed and checked against the
// class, an image gets a thumbnail, and then the thumbnail and the file
// are stored, the file last: once the file is there, so is the thumbnail.
func (f *Files) Store(ctx context.Context, t Ticket, class Class, r io.Reader) (Stored, error) {
	began := time.Now()
	k, err := key(t.App, t.Object)
	if err != nil {
		return Stored{}, err
	}
	limit := f.cfg.Limits.Of(class)
	tmp, err := os.CreateTemp(f.cfg.TempDir, "imgate-upload-*")
	if err != nil {
		return Stored{}, fmt.Errorf("files: spool upload: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, err := io.Copy(tmp, io.LimitReader(r, limit+1))
	if err != nil {
		return Stored{}, f.refuse("bad_body", imgate.CodeInvalidParameter, "the upload body ended early or could not be read: %v", err)
	}
	if n > limit {
		return Stored{}, f.refuse("too_large", imgate.CodeInvalidParameter, "the file is larger than the limit of %d bytes for %s files", limit, class)
	}
	if n == 0 {
		return Stored{}, f.refuse("bad_body", imgate.CodeInvalidParameter, "the file is empty")
	}
	st := Stored{Size: n}
	if st.ContentType, err = sniffFile(tmp); err != nil {
		return Stored{}, err
	}
	if !Allowed(class, st.ContentType) {
		return Stored{}, f.refuse("bad_type", imgate.CodeInvalidParameter, "content type %s is not allowed for %s files", st.ContentType, class)
	}
	if class == ClassImage || class == ClassAvatar {
		if err := f.storeThumb(ctx, k, tmp, st.ContentType); err != nil {
			return Stored{}, err
		}
		st.Thumbnail = true
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return Stored{}, fmt.Errorf("files: rewind upload: %w", err)
	}
	if err := f.backend.Put(ctx, k, tmp, n, st.ContentType); errors.Is(err, ErrExists) {
		return Stored{}, f.refuse("used", imgate.CodeForbidden, "this upload URL has been used already")
	} else if err != nil {
		return Stored{}, imgate.Errorf(imgate.CodeOSS, "storing the file failed: %v", err)
	}
	f.cfg.Metrics.FileUploaded(n, time.Since(began))
	return st, nil
}

// storeThumb decodes the image (bounded) and stores its thumbnail.
func (f *Files) storeThumb(ctx context.Context, k string, r io.ReadSeeker, ct string) error {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("files: rewind upload: %w", err)
	}
	var buf bytes.Buffer // a thumbnail is small: ThumbSize² pixels at most
	err := f.decoding(ctx, func() error {
		img, err := shrink(r, ct, f.cfg.ThumbSize, f.cfg.ThumbSize, f.cfg.MaxPixels)
		if err != nil {
			return f.refuse("bad_type", imgate.CodeInvalidParameter, "the image cannot be used: %v", err)
		}
		if err := encodeJPEG(&buf, img); err != nil {
			return fmt.Errorf("files: encode thumbnail: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	n := int64(buf.Len())
	err = f.backend.Put(ctx, thumbKey(k), &buf, n, "image/jpeg")
	if errors.Is(err, ErrExists) {
		// A failed earlier upload on the same ticket stored it; the file
		// itself decides whether this one may go on.
		return nil
	} else if err != nil {
		return imgate.Errorf(imgate.CodeOSS, "storing the thumbnail failed: %v", err)
	}
	return nil
}

func sniffFile(f *os.File) (string, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("files: rewind upload: %w", err)
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return "", fmt.Errorf("files: read upload: %w", err)
	}
	return Sniff(head[:n]), nil
}

// Variant is which form of a file a download asks for.
type Variant struct {
	Thumb bool // the thumbnail (image_type 2, or 3 for the cover)
	W, H  int  // a resized image fitting in W×H; 0: not resized
}

// Download is an open file to serve.
type Download struct {
	*Blob
	ContentType string
	// Redirect, when set, is a presigned URL of the backend to send the
	// client to instead of the bytes; Blob is nil then.
	Redirect string
}

// Open opens a form of an app's object for download; it sniffs the
// content type of what it serves. A file with no thumbnail (not an image)
// answers a thumbnail request with CodeFileNotFound.
func (f *Files) Open(ctx context.Context, app, object string, v Variant) (*Download, error) {
	k, err := key(app, object)
	if err != nil {
		return nil, err
	}
	if v.W > f.cfg.MaxResize || v.H > f.cfg.MaxResize || v.W < 0 || v.H < 0 {
		return nil, f.refuse("bad_param", imgate.CodeInvalidParameter, "w and h must be from 1 to %d", f.cfg.MaxResize)
	}
	if v.Thumb {
		k = thumbKey(k)
	}
	blob, err := f.backend.Open(ctx, k)
	if errors.Is(err, ErrNotFound) {
		return nil, f.refuse("not_found", imgate.CodeFileNotFound, "no such file")
	} else if err != nil {
		return nil, imgate.Errorf(imgate.CodeOSS, "reading the file failed: %v", err)
	}
	if p, ok := f.backend.(Presigner); ok && f.cfg.Redirect > 0 && v.W == 0 && v.H == 0 {
		blob.Close()
		u, err := p.PresignGet(ctx, k, f.cfg.Redirect)
		if err != nil {
			return nil, imgate.Errorf(imgate.CodeOSS, "presigning the file failed: %v", err)
		}
		return &Download{Redirect: u}, nil
	}
	d := &Download{Blob: blob}
	head := make([]byte, 512)
	n, err := io.ReadFull(blob, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		blob.Close()
		return nil, imgate.Errorf(imgate.CodeOSS, "reading the file failed: %v", err)
	}
	d.ContentType = Sniff(head[:n])
	if _, err := blob.Seek(0, io.SeekStart); err != nil {
		blob.Close()
		return nil, imgate.Errorf(imgate.CodeOSS, "reading the file failed: %v", err)
	}
	if v.W > 0 || v.H > 0 {
		return f.resized(ctx, d, v)
	}
	return d, nil
}

// resized replaces the download by its image fitted in v.W×v.H (a missing
// side is unbounded up to MaxResize). The result, at most MaxResize²
// pixels as a JPEG, is held in memory.
func (f *Files) resized(ctx context.Context, d *Download, v Variant) (*Download, error) {
	defer d.Close()
	if codecs[d.ContentType].decode == nil {
		return nil, f.refuse("bad_param", imgate.CodeInvalidParameter, "w and h apply to images only")
	}
	w, h := v.W, v.H
	if w == 0 {
		w = f.cfg.MaxResize
	}
	if h == 0 {
		h = f.cfg.MaxResize
	}
	var buf bytes.Buffer
	err := f.decoding(ctx, func() error {
		img, err := shrink(d.Blob, d.ContentType, w, h, f.cfg.MaxPixels)
		if err != nil {
			return imgate.Errorf(imgate.CodeOSS, "the image cannot be resized: %v", err)
		}
		if err := encodeJPEG(&buf, img); err != nil {
			return fmt.Errorf("files: encode resized image: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	body := bytes.NewReader(buf.Bytes())
	return &Download{Blob: &Blob{ReadSeekCloser: nopCloser{body}, Size: body.Size(), ModTime: d.ModTime}, ContentType: "image/jpeg"}, nil
}

// decoding runs fn, which decodes an image, in one of MaxDecodes slots.
func (f *Files) decoding(ctx context.Context, fn func() error) error {
	select {
	case f.decodes <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("files: waiting to decode an image: %w", ctx.Err())
	}
	defer func() { <-f.decodes }()
	return fn()
}

type nopCloser struct{ io.ReadSeeker }

func (nopCloser) Close() error { return nil }

// Exists reports whether an app's object is stored.
func (f *Files) Exists(ctx context.Context, app, object string) (bool, error) {
	k, err := key(app, object)
	if err != nil {
		return false, err
	}
	b, err := f.backend.Open(ctx, k)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, imgate.Errorf(imgate.CodeOSS, "reading the file failed: %v", err)
	}
	b.Close()
	return true, nil
}

// Refused counts a refusal for the reason and returns its error.
func (f *Files) Refused(reason string, code int, format string, args ...any) error {
	return f.refuse(reason, code, format, args...)
}

func (f *Files) refuse(reason string, code int, format string, args ...any) error {
	f.cfg.Metrics.FileRefused(reason)
	return imgate.Errorf(code, format, args...)
}
