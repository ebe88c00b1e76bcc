package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config names an S3-compatible bucket and how to reach it.
type S3Config struct {
	// Endpoint is the server's URL, such as https://s3.amazonaws.com or
	// http://127.0.0.1:7070; a bare host:port means https.
	Endpoint  string
	Bucket    string
	Region    string
	AccessKey string
	SecretKey string
	// PathStyle addresses the bucket in the path (endpoint/bucket/key)
	// rather than as a subdomain; most self-hosted servers need it.
	PathStyle bool
	// Prefix is put before every key, so that one bucket can serve
	// several imgate installations. Empty: none.
	Prefix string
	// PartSize is the size of one part of a multipart upload, the only
	// buffer an upload may take: a file larger than it is sent in parts.
	// Default 16 MiB (S3's minimum is 5 MiB).
	PartSize uint64
}

// S3 keeps blobs as objects in an S3-compatible bucket, through minio-go.
type S3 struct {
	cfg    S3Config
	client *minio.Client
}

var (
	_ Backend   = (*S3)(nil)
	_ Presigner = (*S3)(nil)
)

// NewS3 returns a backend on the bucket. It does not create the bucket;
// Ping says whether it is reachable.
func NewS3(cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("files: s3: no bucket")
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = 16 << 20
	}
	secure := true
	host := cfg.Endpoint
	if strings.Contains(host, "://") {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("files: s3: endpoint %q is not a URL", cfg.Endpoint)
		}
		secure, host = u.Scheme == "https", u.Host
	}
	lookup := minio.BucketLookupDNS
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       secure,
		Region:       cfg.Region,
		BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("files: s3 client for %s: %w", cfg.Endpoint, err)
	}
	return &S3{cfg: cfg, client: client}, nil
}

// Ping checks that the bucket exists and the credentials reach it.
func (s *S3) Ping(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return fmt.Errorf("files: s3 bucket %s: %w", s.cfg.Bucket, err)
	}
	if !ok {
		return fmt.Errorf("files: s3 bucket %s does not exist", s.cfg.Bucket)
	}
	return nil
}

func (s *S3) object(key string) (string, error) {
	if !ValidKey(key) {
		return "", fmt.Errorf("files: invalid key %q", key)
	}
	return s.cfg.Prefix + key, nil
}

// Put uploads r as the object. A blob of known size up to PartSize goes
// in one streamed PUT; a larger one in parts of PartSize.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	name, err := s.object(key)
	if err != nil {
		return err
	}
	if _, err := s.client.StatObject(ctx, s.cfg.Bucket, name, minio.StatObjectOptions{}); err == nil {
		return ErrExists
	} else if !notFound(err) {
		return fmt.Errorf("files: s3 put %s: %w", key, err)
	}
	opts := minio.PutObjectOptions{ContentType: contentType, PartSize: s.cfg.PartSize, NumThreads: 1}
	if !Inline(contentType) {
		// Served straight from the bucket (a presigned redirect), it must
		// not render in a browser either.
		opts.ContentType, opts.ContentDisposition = "application/octet-stream", "attachment"
	}
	_, err = s.client.PutObject(ctx, s.cfg.Bucket, name, r, size, opts)
	if err != nil {
		return fmt.Errorf("files: s3 put %s: %w", key, err)
	}
	return nil
}

// Open returns the object; reads fetch it from the server as they go.
func (s *S3) Open(ctx context.Context, key string) (*Blob, error) {
	name, err := s.object(key)
	if err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("files: s3 open %s: %w", key, err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		if notFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("files: s3 open %s: %w", key, err)
	}
	return &Blob{ReadSeekCloser: obj, Size: st.Size, ModTime: st.LastModified}, nil
}

// Delete removes the object.
func (s *S3) Delete(ctx context.Context, key string) error {
	name, err := s.object(key)
	if err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.cfg.Bucket, name, minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
		return fmt.Errorf("files: s3 delete %s: %w", key, err)
	}
	return nil
}

// List lists the bucket's objects under prefix.
func (s *S3) List(ctx context.Context, prefix string, fn func(key string, mod time.Time) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the listing when fn stops it early
	for obj := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.cfg.Prefix + prefix, Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("files: s3 list %s: %w", prefix, obj.Err)
		}
		if err := fn(strings.TrimPrefix(obj.Key, s.cfg.Prefix), obj.LastModified); err != nil {
			return err
		}
	}
	return nil
}

// PresignGet returns a URL that reads the object for ttl.
func (s *S3) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	name, err := s.object(key)
	if err != nil {
		return "", err
	}
	u, err := s.client.PresignedGetObject(ctx, s.cfg.Bucket, name, ttl, nil)
	if err != nil {
		return "", fmt.Errorf("files: s3 presign %s: %w", key, err)
	}
	return u.String(), nil
}

// Client is the underlying minio-go client, for tests that create and
// remove buckets.
func (s *S3) Client() *minio.Client { return s.client }

func notFound(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == minio.NoSuchKey || code == minio.NoSuchBucket || code == "NotFound"
}
