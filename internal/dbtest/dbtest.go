// Package dbtest is this repository's own test kit for the web app's
// database: helpers that take a testing.TB around the in-memory databases
// of store/storetest (the public part), the reference data under
// testdata/, PostgreSQL test databases on the server that .ci/pg starts,
// and generated tables for the benchmarks. It is internal: it may change
// with the tests.
package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"modernc.org/sqlite"

	"github.com/cleanup-stale/cleanup-stale/store"
	"github.com/cleanup-stale/cleanup-stale/store/storetest"
)

// Testdata returns the path of a file under the module's testdata/.
func Testdata(t testing.TB, elem ...string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(append([]string{dir, "testdata"}, elem...)...)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("dbtest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Row is a submission to insert, or one read back.
type Row = storetest.Row

// NewMemory creates an empty in-memory database with the web app's schema
// (see storetest.NewMemoryDB) and returns its DSN; it lives until the test
// ends.
func NewMemory(t testing.TB) string {
	t.Helper()
	m, err := storetest.NewMemoryDB()
	if err != nil {
		t.Fatal(err)
	}
	keep(t, m.DSN, m.SQL)
	return m.DSN
}

// LoadMemory copies the database file at path into a new in-memory
// database and returns its DSN. The file is only read.
func LoadMemory(t testing.TB, path string) string {
	t.Helper()
	dsn, db := newMemory(t)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		r, ok := dc.(interface {
			NewRestore(string) (*sqlite.Backup, error)
		})
		if !ok {
			return fmt.Errorf("driver connection %T cannot restore", dc)
		}
		b, err := r.NewRestore("file:" + path + "?mode=ro")
		if err != nil {
			return err
		}
		if _, err := b.Step(-1); err != nil {
			b.Finish()
			return err
		}
		return b.Finish()
	})
	if err != nil {
		t.Fatalf("load %s into memory: %v", path, err)
	}
	return dsn
}

var memCount atomic.Int64

// newMemory creates an empty in-memory database, without a schema.
func newMemory(t testing.TB) (string, *sql.DB) {
	t.Helper()
	dsn := fmt.Sprintf("file:/dbtest-%d-%d?vfs=memdb", os.Getpid(), memCount.Add(1))
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	// One connection, kept open, as storetest.NewMemoryDB's.
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	keep(t, dsn, db)
	return dsn, db
}

// keep makes db the connection that DB returns for dsn, until the test
// ends, and closes it then.
func keep(t testing.TB, dsn string, db *sql.DB) {
	keepers.Store(dsn, db)
	t.Cleanup(func() { keepers.Delete(dsn); db.Close() })
}

// Open opens dsn as the tool does, and closes it when the test ends.
func Open(t testing.TB, dsn string, readOnly bool) store.DB {
	t.Helper()
	db, err := store.OpenDSN(context.Background(), dsn, store.Options{ReadOnly: readOnly, BusyTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// CopyReference copies the web app's reference install (testdata/reference:
// its database and its uploads) to db and into the directory media, which
// may exist already, as an install would have them.
func CopyReference(t testing.TB, db, media string) {
	t.Helper()
	b, err := os.ReadFile(Testdata(t, "reference", "webapp.sqlite3"))
	if err == nil {
		err = os.WriteFile(db, b, 0o644)
	}
	if err == nil {
		err = os.CopyFS(media, os.DirFS(Testdata(t, "reference", "media")))
	}
	if err != nil {
		t.Fatalf("copy the reference install: %v", err)
	}
}

// Unavailable ends a test whose server or tool is not there: it skips the
// test, with msg, but under CI=true it fails it, since CI installs what
// the tests need and must run them all.
func Unavailable(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
