package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/imgate/imgate/files"
	"github.com/imgate/imgate/metrics"
)

// filesConfig selects where files are kept and bounds them.
type filesConfig struct {
	backend  string // local or s3
	dir      string // local: empty means <data-dir>/files
	s3       files.S3Config
	limits   [5]int // bytes by files.Class
	pixels   int
	ttl      time.Duration
	orphans  time.Duration // uploads never sent are removed after it; 0: never
	redirect time.Duration // s3: presigned download redirects valid so long; 0: none
}

func (e env) filesFlags(fs *flagSet, c *filesConfig) {
	fs.StringVar(&c.backend, "files-backend", e.str("IMGATE_FILES_BACKEND", "local"), "where chat files and avatars are kept: local (a directory) or s3 (env IMGATE_FILES_BACKEND)")
	fs.StringVar(&c.dir, "files-dir", e.getenv("IMGATE_FILES_DIR"), "directory of the local file backend; empty: files under --data-dir (env IMGATE_FILES_DIR)")
	s := &c.s3
	fs.StringVar(&s.Endpoint, "s3-endpoint", e.getenv("IMGATE_S3_ENDPOINT"), "URL of the S3-compatible server, e.g. https://s3.eu-west-1.amazonaws.com (env IMGATE_S3_ENDPOINT)")
	fs.StringVar(&s.Bucket, "s3-bucket", e.getenv("IMGATE_S3_BUCKET"), "bucket of the s3 file backend; it must exist (env IMGATE_S3_BUCKET)")
	fs.StringVar(&s.Region, "s3-region", e.getenv("IMGATE_S3_REGION"), "region of the bucket; empty: asked of the server (env IMGATE_S3_REGION)")
	fs.StringVar(&s.AccessKey, "s3-access-key", e.str("IMGATE_S3_ACCESS_KEY", e.getenv("AWS_ACCESS_KEY_ID")), "access key (env IMGATE_S3_ACCESS_KEY, else AWS_ACCESS_KEY_ID)")
	fs.StringVar(&s.SecretKey, "s3-secret-key", e.str("IMGATE_S3_SECRET_KEY", e.getenv("AWS_SECRET_ACCESS_KEY")), "secret key; prefer the environment (env IMGATE_S3_SECRET_KEY, else AWS_SECRET_ACCESS_KEY)")
	fs.StringVar(&s.Prefix, "s3-prefix", e.getenv("IMGATE_S3_PREFIX"), "prefix of imgate's object keys in the bucket (env IMGATE_S3_PREFIX)")
	fs.boolVar(&s.PathStyle, "s3-path-style", "IMGATE_S3_PATH_STYLE", "address the bucket in the URL's path, as most self-hosted S3 servers need")
	fs.durationVar(&c.redirect, "s3-redirect", "IMGATE_S3_REDIRECT", 0, "answer downloads with a redirect to a presigned URL of the bucket, valid so long, so that the bytes bypass imgate (clients must reach the S3 endpoint); 0: imgate serves them")
	def := files.Limits{}.WithDefaults()
	for _, l := range []struct {
		class files.Class
		def   int64
	}{{files.ClassFile, def.File}, {files.ClassAudio, def.Audio}, {files.ClassImage, def.Image}, {files.ClassVideo, def.Video}, {files.ClassAvatar, def.Avatar}} {
		name := l.class.String()
		fs.intVar(&c.limits[l.class], "files-max-"+name, "IMGATE_FILES_MAX_"+upper(name), int(l.def), "largest "+name+" upload in bytes")
	}
	fs.intVar(&c.pixels, "files-max-pixels", "IMGATE_FILES_MAX_PIXELS", 40_000_000, "largest image (width × height) decoded for a thumbnail or resize; larger ones are refused")
	fs.durationVar(&c.ttl, "files-upload-ttl", "IMGATE_FILES_UPLOAD_TTL", 15*time.Minute, "how long an upload URL may be used")
	fs.durationVar(&c.orphans, "files-orphan-ttl", "IMGATE_FILES_ORPHAN_TTL", 24*time.Hour, "remove chat files no message was sent with after so long; 0: never")
}

// sweepFiles removes orphaned chat files every tenth of the orphan TTL
// (at most hourly) until ctx ends. Every node sweeps; removing twice is
// harmless.
func sweepFiles(ctx context.Context, fs *files.Files, ttl time.Duration, logger *slog.Logger) error {
	if ttl <= 0 {
		return nil
	}
	t := time.NewTicker(min(ttl/10, time.Hour))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if n, err := fs.Sweep(ctx, ttl); err != nil {
				logger.Warn("removing orphaned files failed", "removed", n, "err", err)
			} else if n > 0 {
				logger.Info("removed orphaned files", "count", n)
			}
		}
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// open returns the file service on the configured backend, after checking
// that the backend answers.
func (c filesConfig) open(ctx context.Context, dataDir string, secret []byte, m *metrics.Metrics, logger *slog.Logger) (*files.Files, error) {
	for i, l := range c.limits {
		if l <= 0 {
			return nil, fmt.Errorf("--files-max-%s must be positive", files.Class(i))
		}
	}
	var backend files.Backend
	switch c.backend {
	case "local":
		dir := c.dir
		if dir == "" {
			dir = filepath.Join(dataDir, "files")
		}
		l, err := files.NewLocal(dir)
		if err != nil {
			return nil, err
		}
		backend = l
	case "s3":
		if c.s3.Endpoint == "" || c.s3.Bucket == "" {
			return nil, fmt.Errorf("--files-backend s3 needs --s3-endpoint and --s3-bucket")
		}
		s, err := files.NewS3(c.s3)
		if err != nil {
			return nil, err
		}
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := s.Ping(pctx); err != nil {
			return nil, err
		}
		backend = s
	default:
		return nil, fmt.Errorf("--files-backend must be local or s3, not %q", c.backend)
	}
	lim := files.Limits{File: int64(c.limits[files.ClassFile]), Audio: int64(c.limits[files.ClassAudio]),
		Image: int64(c.limits[files.ClassImage]), Video: int64(c.limits[files.ClassVideo]), Avatar: int64(c.limits[files.ClassAvatar])}
	return files.New(files.Config{Limits: lim, MaxPixels: c.pixels, UploadTTL: c.ttl, Redirect: c.redirect, Metrics: m}, backend, secret, logger), nil
}
