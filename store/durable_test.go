package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

// TestSQLiteCommitsAreDurable: the tool's connection commits with
// synchronous=FULL, whatever else asks for less (here a DSN that says
// OFF, as a build's or a caller's default might), so that a power cut
// cannot undo a deletion whose files are about to go. The setting lives on
// the connection: another connection keeps its own.
func TestSQLiteCommitsAreDurable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.sqlite3")
	raw, err := sql.Open("sqlite", path+"?_pragma=synchronous(OFF)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`CREATE TABLE ` + Table + ` (id integer PRIMARY KEY, slug text, status text,
		stl_file varchar(100), created_at datetime, closed_at datetime)`); err != nil {
		t.Fatal(err)
	}
	var level int
	if err := raw.QueryRow(`PRAGMA synchronous`).Scan(&level); err != nil || level != 0 {
		t.Fatalf("a connection that asks for OFF has %d, %v: the check proves nothing", level, err)
	}
	for _, dsn := range []string{"?_pragma=synchronous(OFF)", "?_sync=OFF", "?_synchronous=0&_pragma=synchronous(0)"} {
		db, err := OpenDSN(context.Background(), "file:"+path+dsn, Options{BusyTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.(*sqliteDB).db.QueryRow(`PRAGMA synchronous`).Scan(&level); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if level != 2 {
			t.Errorf("%s: synchronous = %d on the tool's connection, want 2 (FULL)", dsn, level)
		}
	}
}
