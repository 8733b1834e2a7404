package storetest

import (
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/store"
)

// keepers holds the connection of each memory database, by DSN; test code
// reads and writes through it.
var keepers sync.Map

// DB returns the raw connection behind a DSN from NewMemory or LoadMemory,
// for the test's own SQL.
func DB(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, ok := keepers.Load(dsn)
	if !ok {
		t.Fatalf("storetest: %s is not a memory database of this test", dsn)
	}
	return db.(*sql.DB)
}

// Row is a submission to insert. Times are written exactly as the web app
// writes them (store.FormatTime); a zero Closed is NULL.
type Row struct {
	ID      int64 // 0: the next id
	Slug    string
	Status  string
	File    string
	Created time.Time
	Closed  time.Time
}

// Insert adds rows to db (see InsertRows).
func Insert(t testing.TB, db *sql.DB, rows ...Row) {
	t.Helper()
	if err := InsertRows(db, rows...); err != nil {
		t.Fatal(err)
	}
}

// Slugs returns every slug in db, in id order.
func Slugs(t testing.TB, db *sql.DB) []string {
	t.Helper()
	out, err := slugs(db)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// AllColumns renders every column of a row as one string, for Rows: two
// renderings are equal when nothing in the row changed.
const AllColumns = `id || '|' || status || '|' || email || '|' || stl_file || '|' || created_at || '|' || coalesce(closed_at, 'NULL')`

// Rows returns slug -> the SQL expression expr for every row of db, or for
// the rows that match where, if given.
func Rows(t testing.TB, db *sql.DB, expr string, where ...string) map[string]string {
	t.Helper()
	q := `SELECT slug, ` + expr + ` FROM ` + store.Table
	if len(where) > 0 {
		q += ` WHERE ` + where[0]
	}
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var slug, v string
		if err := rows.Scan(&slug, &v); err != nil {
			t.Fatal(err)
		}
		out[slug] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Files returns slug -> stl_file for every row in db.
func Files(t testing.TB, db *sql.DB) map[string]string {
	t.Helper()
	return Rows(t, db, "stl_file")
}
