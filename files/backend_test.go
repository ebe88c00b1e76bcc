package files_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/imgate/imgate/files"
	"github.com/imgate/imgate/internal/s3test"
)

// backends runs the test on a fresh backend of each kind: a directory,
// and a bucket on a real S3-protocol server.
func backends(t *testing.T, test func(t *testing.T, b files.Backend)) {
	t.Run("local", func(t *testing.T) {
		t.Parallel()
		b, err := files.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		test(t, b)
	})
	t.Run("s3", func(t *testing.T) {
		t.Parallel()
		b, err := files.NewS3(s3test.Config(t))
		if err != nil {
			t.Fatal(err)
		}
		test(t, b)
	})
}

func TestBackend(t *testing.T) {
	backends(t, func(t *testing.T, b files.Backend) {
		ctx := context.Background()
		data := bytes.Repeat([]byte("imgate "), 1000)
		if err := b.Put(ctx, "app/chat/x", bytes.NewReader(data), int64(len(data)), "text/plain"); err != nil {
			t.Fatal(err)
		}
		if err := b.Put(ctx, "app/chat/x", strings.NewReader("other"), 5, "text/plain"); !errors.Is(err, files.ErrExists) {
			t.Errorf("second put of a key: %v, want ErrExists", err)
		}
		got := read(t, b, "app/chat/x")
		if !bytes.Equal(got, data) {
			t.Errorf("read %d bytes, want the %d put", len(got), len(data))
		}
		// A reader that fails stores nothing.
		bad := iotest.ErrReader(errors.New("client went away"))
		if err := b.Put(ctx, "app/chat/y", io.MultiReader(strings.NewReader("half"), bad), 100, ""); err == nil {
			t.Error("put from a failing reader succeeded")
		}
		if _, err := b.Open(ctx, "app/chat/y"); !errors.Is(err, files.ErrNotFound) {
			t.Errorf("open after a failed put: %v, want ErrNotFound", err)
		}
		for _, k := range []string{"../x", "app/../x", "/abs", "app//x", "app/.hidden", ""} {
			if err := b.Put(ctx, k, strings.NewReader("x"), 1, ""); err == nil {
				t.Errorf("put %q succeeded", k)
			}
		}
		if err := b.Delete(ctx, "app/chat/x"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Open(ctx, "app/chat/x"); !errors.Is(err, files.ErrNotFound) {
			t.Errorf("open after delete: %v, want ErrNotFound", err)
		}
		if err := b.Delete(ctx, "app/chat/x"); err != nil {
			t.Errorf("deleting a missing key: %v", err)
		}
	})
}

func read(t *testing.T, b files.Backend, key string) []byte {
	t.Helper()
	blob, err := b.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer blob.Close()
	got, err := io.ReadAll(blob)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(got)) != blob.Size {
		t.Errorf("blob says %d bytes, read %d", blob.Size, len(got))
	}
	return got
}
