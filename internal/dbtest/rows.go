package dbtest

import (
	"database/sql"
	"sync"
	"testing"

	"github.com/cleanup-stale/cleanup-stale/store"
	"github.com/cleanup-stale/cleanup-stale/store/storetest"
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
		t.Fatalf("dbtest: %s is not a memory database of this test", dsn)
	}
	return db.(*sql.DB)
}

// Insert adds rows to db, a database in the web app's SQLite schema, as
// storetest.Memory's Insert does.
func Insert(t testing.TB, db *sql.DB, rows ...Row) {
	t.Helper()
	if err := (&storetest.Memory{SQL: db}).Insert(rows...); err != nil {
		t.Fatal(err)
	}
}

// Slugs returns every slug in db, in id order.
func Slugs(t testing.TB, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT slug FROM ` + store.Table + ` ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
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
