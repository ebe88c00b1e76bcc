// Package files stores the files of chat messages and avatars behind one
// small Backend interface (local disk or S3-compatible object storage),
// signs the URLs MaxIM's SDKs upload to and download from, checks uploads
// against per-type limits and makes thumbnails of images.
package files

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"
)

// Backend keeps blobs by key. Keys are slash-separated paths of
// [A-Za-z0-9_.-] segments, none of them "." or ".."; ValidKey checks them.
type Backend interface {
	// Put stores size bytes read from r under key. It never overwrites:
	// a key that exists fails with ErrExists. A blob is either stored
	// whole or not at all: a reader that fails leaves nothing behind.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Open returns the blob under key, ErrNotFound if there is none.
	Open(ctx context.Context, key string) (*Blob, error)
	// Delete removes the blob under key; a missing key is no error.
	Delete(ctx context.Context, key string) error
	// List calls fn with every key under prefix (a key or a path ending
	// in '/') and its blob's modification time, in lexical order of the
	// keys, until fn returns an error, which List returns.
	List(ctx context.Context, prefix string, fn func(key string, mod time.Time) error) error
}

// Presigner is a Backend that can hand out a short-lived URL of its own
// for a blob, so that downloads need not pass through imgate.
type Presigner interface {
	PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error)
}

// Blob is a stored blob open for reading.
type Blob struct {
	io.ReadSeekCloser
	Size    int64
	ModTime time.Time
}

// Errors of Backend.
var (
	ErrNotFound = errors.New("files: no such blob")
	ErrExists   = errors.New("files: blob exists")
)

// ValidKey reports whether key is safe as a blob key on every backend:
// no empty, "." or ".." segment, no leading or trailing slash, and only
// letters, digits, '_', '-' and '.'.
func ValidKey(key string) bool {
	if key == "" || len(key) > 512 {
		return false
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.HasPrefix(seg, ".") {
			return false
		}
		for _, c := range seg {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
				return false
			}
		}
	}
	return true
}
