package storetest

import (
	"context"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"testing"
)

// WantLatestVersion fails t unless the store's schema version is the
// number of the last of the migration files in fsys (migrations/*.sql).
func WantLatestVersion(t *testing.T, fsys fs.FS, schemaVersion func(context.Context) (int64, error)) {
	t.Helper()
	files, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations: %v, %v", files, err)
	}
	want, err := strconv.ParseInt(strings.SplitN(path.Base(files[len(files)-1]), "_", 2)[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := schemaVersion(t.Context()); err != nil || v != want {
		t.Errorf("SchemaVersion = %d, %v; want %d, nil", v, err, want)
	}
}
