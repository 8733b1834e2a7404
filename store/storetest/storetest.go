// Package storetest builds web app databases for tests: in memory, in the
// web app's exact schema and timestamp format.
//
// For a test suite outside this repository, NewMemoryDB and Memory are the
// way in: an in-memory database with chosen rows, to open with
// store.OpenDSN and clean up with package cleanup. The helpers that take a
// testing.TB wrap them for this repository's own tests, as do those that
// read its testdata (Testdata, LoadMemory) or use its PostgreSQL test
// server (PostgresEnv); those may change freely.
package storetest

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// schemaDump is the web app's schema as its migrations create it on
// SQLite (sqlite3's .schema of the reference database), embedded so that
// the helpers work from any module.
//
//go:embed schema.sql
var schemaDump string

// Schema returns the web app's SQLite schema, ready to execute on an empty
// database.
func Schema() string { return executable(schemaDump) }

// ReadSchema reads a schema dump (sqlite3's .schema) and makes it
// executable on an empty database.
func ReadSchema(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return executable(string(b)), nil
}

// executable drops from a dump the line that names SQLite's own
// sqlite_sequence, which AUTOINCREMENT creates and nobody may create by
// hand.
func executable(dump string) string {
	var keep []string
	for _, line := range strings.Split(dump, "\n") {
		if !strings.Contains(line, "sqlite_sequence") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// NewMemory creates an empty in-memory database with the web app's schema
// (see NewMemoryDB) and returns its DSN; it lives until the test ends.
func NewMemory(t testing.TB) string {
	t.Helper()
	m, err := NewMemoryDB()
	if err != nil {
		t.Fatal(err)
	}
	keep(t, m)
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

func newMemory(t testing.TB) (string, *sql.DB) {
	m, err := openMemory()
	if err != nil {
		t.Fatal(err)
	}
	keep(t, m)
	return m.DSN, m.SQL
}

// keep makes m's connection the one DB returns for its DSN, until the test
// ends.
func keep(t testing.TB, m *Memory) {
	keepers.Store(m.DSN, m.SQL)
	t.Cleanup(func() { keepers.Delete(m.DSN); m.Close() })
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
