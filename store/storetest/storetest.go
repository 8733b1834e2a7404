// Package storetest builds web app databases for tests: in memory, in the
// web app's exact schema and timestamp format.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"modernc.org/sqlite"

	"github.com/cleanup-stale/cleanup-stale/store"
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
			t.Fatal("storetest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Schema returns the web app's schema, as its migrations create it
// (testdata/reference/schema.sql), ready to execute.
func Schema(t testing.TB) string {
	t.Helper()
	s, err := ReadSchema(Testdata(t, "reference", "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ReadSchema reads a schema dump (sqlite3's .schema) and makes it
// executable on an empty database.
func ReadSchema(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var keep []string
	for _, line := range strings.Split(string(b), "\n") {
		// The dump names SQLite's own sqlite_sequence, which AUTOINCREMENT
		// creates and nobody may create by hand.
		if !strings.Contains(line, "sqlite_sequence") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n"), nil
}

var memCount atomic.Int64

// NewMemory creates an empty in-memory database with the web app's schema
// and returns its DSN. Every connection to the DSN in this process sees the
// same database (SQLite's memdb VFS, with real locking between
// connections); it lives until the test ends.
func NewMemory(t testing.TB) string {
	t.Helper()
	dsn, db := newMemory(t)
	if _, err := db.Exec(Schema(t)); err != nil {
		t.Fatal(err)
	}
	return dsn
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

func newMemory(t testing.TB) (string, *sql.DB) {
	dsn := fmt.Sprintf("file:/storetest-%d-%d?vfs=memdb", os.Getpid(), memCount.Add(1))
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	// This connection keeps the memory database alive while store.DBs
	// come and go.
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	keepers.Store(dsn, db)
	t.Cleanup(func() { keepers.Delete(dsn); db.Close() })
	return dsn, db
}

// Open opens dsn as the tool does, and closes it when the test ends.
func Open(t testing.TB, dsn string, readOnly bool) store.DB {
	t.Helper()
	if readOnly {
		dsn += "&mode=ro"
	}
	db, err := store.OpenDSN(context.Background(), dsn, store.Options{ReadOnly: readOnly, BusyTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
