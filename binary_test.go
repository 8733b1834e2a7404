package main

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/store"
	"github.com/cleanup-stale/cleanup-stale/store/storetest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// TestMain removes the binary that the tests built, if any.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildErr == nil && binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// binary builds the real cleanup-stale once per test run, for the tests
// that kill it or run two at once.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cleanup-stale-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "cleanup-stale")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build: %v\n%s", buildErr, binPath)
	}
	return binPath
}

// generatedNow is the instant generated installs are stale at.
var generatedNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// generated makes an install on disk, in dir: db.sqlite3 with the web
// app's schema and spec's rows, and media/ with every upload.
func generated(t *testing.T, dir string, spec storetest.Spec) (db, media string) {
	t.Helper()
	spec.Now = generatedNow
	db, media = filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(storetest.Schema(t)); err != nil {
		t.Fatal(err)
	}
	if err := storetest.Generate(raw, spec); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(media, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := storetest.WriteFiles(raw, media); err != nil {
		t.Fatal(err)
	}
	return db, media
}

// countStale counts the rows stale at generatedNow with a 24 h TTL. It
// opens the database read-write, as the next run would, so that a hot
// journal left by a kill is rolled back first.
func countStale(t *testing.T, db string) int64 {
	t.Helper()
	d, err := store.Open(context.Background(), db, store.Options{BusyTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	n, err := d.CountStale(context.Background(), generatedNow.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// openSQL opens the database at path read-write, for the test's own SQL.
// Like the web app, it waits for a lock that the tool holds (a reader waits
// out a commit in rollback-journal mode).
func openSQL(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// rowsOf returns slug -> expr for the rows of the database at path (see
// storetest.Rows).
func rowsOf(t *testing.T, path, expr string, where ...string) map[string]string {
	t.Helper()
	raw := openSQL(t, path)
	defer raw.Close()
	return storetest.Rows(t, raw, expr, where...)
}

// holdWriteLock takes the write lock on the database at path, as a busy web
// app would, until the returned release is called (or the test ends).
// While it holds the lock, the test must not open the database file
// itself: closing any descriptor of the file drops this process's POSIX
// locks on it, and another process would no longer see the lock.
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	raw := openSQL(t, path)
	conn, err := raw.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if _, err := conn.ExecContext(context.Background(), "COMMIT"); err != nil {
				t.Error(err)
			}
			conn.Close()
			raw.Close()
		})
	}
	t.Cleanup(release)
	return release
}
