// Package s3test gives each test a bucket of its own on a real
// S3-protocol server.
//
// The server is the one named by IMGATE_TEST_S3 (an endpoint URL), by
// default the versitygw that scripts/services.sh starts on
// 127.0.0.1:7070, with the keys in IMGATE_TEST_S3_ACCESS_KEY and
// IMGATE_TEST_S3_SECRET_KEY (default imgate / imgate-secret, as
// services.sh starts it). When it does not answer, tests skip, or fail
// when IMGATE_REQUIRE_S3=1, as it is in CI.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/imgate/imgate/files"
)

// Defaults of the local test server, as scripts/services.sh starts it.
const (
	DefaultEndpoint  = "http://127.0.0.1:7070"
	DefaultAccessKey = "imgate"
	DefaultSecretKey = "imgate-secret"
)

// Config creates a fresh, empty bucket named imgate-test-<random hex> and
// returns the configuration of a backend on it. When t ends, it empties
// and removes the bucket.
func Config(t testing.TB) files.S3Config {
	t.Helper()
	cfg := files.S3Config{
		Endpoint:  env("IMGATE_TEST_S3", DefaultEndpoint),
		AccessKey: env("IMGATE_TEST_S3_ACCESS_KEY", DefaultAccessKey),
		SecretKey: env("IMGATE_TEST_S3_SECRET_KEY", DefaultSecretKey),
		Region:    "us-east-1",
		PathStyle: true,
		Bucket:    "imgate-test-" + randomHex(),
	}
	s, err := files.NewS3(cfg)
	if err != nil {
		t.Fatalf("s3test: %v", err)
	}
	c := s.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
		msg := fmt.Sprintf("s3test: no S3 server at IMGATE_TEST_S3 (%s): %v", cfg.Endpoint, err)
		if os.Getenv("IMGATE_REQUIRE_S3") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg + "; set IMGATE_REQUIRE_S3=1 to fail instead")
	}
	t.Cleanup(func() { remove(t, c, cfg.Bucket) })
	return cfg
}

// remove empties the bucket and removes it.
func remove(t testing.TB, c *minio.Client, bucket string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for obj := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			t.Errorf("s3test: list %s: %v", bucket, obj.Err)
			return
		}
		if err := c.RemoveObject(ctx, bucket, obj.Key, minio.RemoveObjectOptions{}); err != nil {
			t.Errorf("s3test: remove %s/%s: %v", bucket, obj.Key, err)
		}
	}
	if err := c.RemoveBucket(ctx, bucket); err != nil {
		t.Errorf("s3test: remove bucket %s: %v", bucket, err)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func randomHex() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
