package store_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
	"github.com/cleanup-stale/cleanup-stale/store"
)

var ctx = context.Background()

func opts(readOnly bool) store.Options {
	return store.Options{ReadOnly: readOnly, BusyTimeout: time.Second}
}

// TestOpenRefusesWhatIsNotTheWebAppsDatabase: each bad input is the right
// configuration error, names the problem, and creates nothing.
func TestOpenRefusesWhatIsNotTheWebAppsDatabase(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sqliteWith := func(name, schema string) string {
		p := filepath.Join(dir, name)
		db, err := sql.Open("sqlite", p)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(schema); err != nil {
			t.Fatal(err)
		}
		return p
	}
	text := write("notes.txt", "this is not a database, but it is long enough to have a header of sorts\n")
	empty := write("empty.sqlite3", "")
	other := sqliteWith("other.sqlite3", `CREATE TABLE auth_user (id integer primary key)`)
	partial := sqliteWith("partial.sqlite3", `CREATE TABLE submissions_submission (id integer primary key, slug text, status text, created_at datetime)`)
	view := sqliteWith("view.sqlite3", `CREATE TABLE real_submissions (id integer primary key, slug varchar(64), status varchar(16), email varchar(254),
  stl_file varchar(100), created_at datetime, closed_at datetime);
CREATE VIEW submissions_submission AS SELECT * FROM real_submissions`)

	for _, tc := range []struct {
		path    string
		want    error
		mention string
	}{
		{filepath.Join(dir, "missing.sqlite3"), store.ErrNoDatabase, "missing.sqlite3"},
		{dir, store.ErrNoDatabase, "directory"},
		{text, store.ErrNotDatabase, "not a SQLite database"},
		{empty, store.ErrSchema, "no table submissions_submission"},
		{other, store.ErrSchema, "no table submissions_submission"},
		{partial, store.ErrSchema, "no column stl_file, closed_at"},
		{view, store.ErrSchema, "submissions_submission is a view, not a table"},
	} {
		for _, ro := range []bool{false, true} {
			before := listDir(t, dir)
			db, err := store.Open(ctx, tc.path, opts(ro))
			if err == nil {
				db.Close()
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("Open(%s, ro=%v) = %v; want %v mentioning %q", filepath.Base(tc.path), ro, err, tc.want, tc.mention)
			}
			if after := listDir(t, dir); after != before {
				t.Errorf("Open(%s, ro=%v) changed the directory:\n%s\n%s", filepath.Base(tc.path), ro, before, after)
			}
		}
	}
}

// listDir describes every file in dir, size and time included.
func listDir(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(e.Name() + " " + fi.ModTime().String() + " " + fi.Mode().String() + " " + strconv.FormatInt(fi.Size(), 10) + "\n")
	}
	return b.String()
}

// TestReadOnlyCannotWrite: a dry run's connection cannot write, whatever
// the code above it does.
func TestReadOnlyCannotWrite(t *testing.T) {
	dsn := dbtest.NewMemory(t)
	db := dbtest.Open(t, dsn, true)
	if _, err := proto(db).DeleteBatch(ctx, protocol.Request{Cutoff: time.Now(), Size: 1, MaxFiles: 1}); err == nil {
		t.Fatal("DeleteBatch on a read-only database succeeded")
	}
	path := filepath.Join(t.TempDir(), "copy.sqlite3")
	b, err := os.ReadFile(dbtest.Testdata(t, "reference", "webapp.sqlite3"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ro, err := store.Open(ctx, path, opts(true))
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.CountStale(ctx, time.Now()); err != nil {
		t.Fatalf("read on a read-only database: %v", err)
	}
}

// proto is d's side of cleanup's batch protocol, which every database
// that Open returns has.
func proto(d store.DB) protocol.DB { return d.(protocol.DB) }
