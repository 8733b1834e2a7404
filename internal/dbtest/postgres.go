package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/cleanup-stale/cleanup-stale/store"
)

// PostgresEnv names the variable that holds the URL of a PostgreSQL server
// for the tests, a database on it that the test user may connect to and
// create databases from. .ci/pg starts one and prints it.
const PostgresEnv = "CLEANUP_STALE_TEST_PG"

var pgCount atomic.Int64

// NewPostgres creates a fresh database with the web app's PostgreSQL
// schema (testdata/reference/schema-postgres.sql) on the server of
// CLEANUP_STALE_TEST_PG, drops it when the test ends, and returns its URL
// and a connection for the test's own SQL. Without a server the test is
// skipped, but under CI=true it fails: CI must run these tests.
func NewPostgres(t testing.TB) (string, *sql.DB) {
	t.Helper()
	admin := os.Getenv(PostgresEnv)
	if admin == "" {
		Unavailable(t, PostgresEnv+" is not set: no PostgreSQL server to test against (start one with: eval \"$(.ci/pg start /tmp/pg)\")")
	}
	ctx := context.Background()
	adm, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("dbtest: %s: %v", PostgresEnv, err)
	}
	defer adm.Close()
	name := fmt.Sprintf("cleanup_stale_test_%d_%d_%d", os.Getpid(), pgCount.Add(1), time.Now().UnixNano()%1e6)
	if _, err := adm.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("dbtest: create database on %s: %v", PostgresEnv, err)
	}
	t.Cleanup(func() {
		adm, err := sql.Open("pgx", admin)
		if err == nil {
			_, err = adm.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
			adm.Close()
		}
		if err != nil {
			t.Errorf("dbtest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("dbtest: %s is not a URL: %v", PostgresEnv, err)
	}
	u.Path = "/" + name
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	schema, err := os.ReadFile(Testdata(t, "reference", "schema-postgres.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, string(schema)); err != nil {
		t.Fatalf("dbtest: load the PostgreSQL schema: %v", err)
	}
	return u.String(), db
}

// LoadPostgres is NewPostgres filled with the rows of the SQLite database
// file at path, such as testdata/reference/webapp.sqlite3, ids kept. The
// file is only read.
func LoadPostgres(t testing.TB, path string) (string, *sql.DB) {
	t.Helper()
	src, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	u, db := NewPostgres(t)
	CopyToPostgres(t, db, src)
	return u, db
}

// CopyToPostgres copies every row of the web app's SQLite database src
// into db, ids and timestamps kept: SQLite's text timestamps, UTC, become
// instants. Then the id sequence continues after the highest id, as it
// does in the web app's own database.
func CopyToPostgres(t testing.TB, db, src *sql.DB) {
	t.Helper()
	rows, err := src.Query(`SELECT id, slug, status, email, stl_file, created_at || '', closed_at || '' FROM ` + store.Table + ` ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var page pgRows
	for rows.Next() {
		var id int64
		var slug, status, email, file, created string
		var closed sql.NullString
		if err := rows.Scan(&id, &slug, &status, &email, &file, &created, &closed); err != nil {
			t.Fatal(err)
		}
		r := Row{ID: id, Slug: slug, Status: status, File: file, Created: parseTime(t, created)}
		if closed.Valid {
			r.Closed = parseTime(t, closed.String)
		}
		page.add(r, email)
		if len(page.id) == 10000 {
			page.insert(t, db)
			page = pgRows{}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	page.insert(t, db)
	resetSequence(t, db)
}

// InsertPostgres adds rows to db, as Insert does to SQLite. A row with ID
// 0 takes the next id of the sequence.
func InsertPostgres(t testing.TB, db *sql.DB, rows ...Row) {
	t.Helper()
	var withID, withoutID pgRows
	for _, r := range rows {
		if r.ID != 0 {
			withID.add(r, r.Slug+"@example.org")
		} else {
			withoutID.add(r, r.Slug+"@example.org")
		}
	}
	withID.insert(t, db)
	resetSequence(t, db)
	withoutID.insert(t, db)
}

// pgRows are rows to insert, a column each, for one INSERT of unnest():
// any number of rows in one statement.
type pgRows struct {
	id                        []int64
	slug, status, email, file []string
	created                   []time.Time
	closed                    []*time.Time
}

func (p *pgRows) add(r Row, email string) {
	var closed *time.Time
	if !r.Closed.IsZero() {
		c := r.Closed
		closed = &c
	}
	p.id = append(p.id, r.ID)
	p.slug, p.status, p.email, p.file = append(p.slug, r.Slug), append(p.status, r.Status), append(p.email, email), append(p.file, r.File)
	p.created, p.closed = append(p.created, r.Created), append(p.closed, closed)
}

// insert adds the rows; an id of 0 takes the sequence's next.
func (p *pgRows) insert(t testing.TB, db *sql.DB) {
	t.Helper()
	if len(p.id) == 0 {
		return
	}
	_, err := db.Exec(`INSERT INTO `+store.Table+` (id, slug, status, email, stl_file, created_at, closed_at)
SELECT CASE WHEN r.id = 0 THEN nextval(pg_get_serial_sequence('`+store.Table+`', 'id')) ELSE r.id END,
  r.slug, r.status, r.email, r.file, r.created, r.closed
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[])
  AS r(id, slug, status, email, file, created, closed)`, p.id, p.slug, p.status, p.email, p.file, p.created, p.closed)
	if err != nil {
		t.Fatalf("dbtest: insert %d rows (%s...): %v", len(p.id), p.slug[0], err)
	}
}

// resetSequence makes the id sequence continue after the highest id.
func resetSequence(t testing.TB, db *sql.DB) {
	t.Helper()
	_, err := db.Exec(`SELECT setval(pg_get_serial_sequence('` + store.Table + `', 'id'), coalesce(max(id), 0) + 1, false) FROM ` + store.Table)
	if err != nil {
		t.Fatal(err)
	}
}

func parseTime(t testing.TB, s string) time.Time {
	t.Helper()
	ts, err := store.ParseTime(s)
	if err != nil {
		t.Fatalf("dbtest: timestamp %q: %v", s, err)
	}
	return ts
}

// OpenPostgres opens the database at url as the tool does, and closes it
// when the test ends.
func OpenPostgres(t testing.TB, url string, readOnly bool) store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), url, store.Options{ReadOnly: readOnly, BusyTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresAllColumns is AllColumns for PostgreSQL, for Rows: two
// renderings are equal when nothing in the row changed.
const PostgresAllColumns = `id || '|' || status || '|' || email || '|' || stl_file || '|' || created_at || '|' || coalesce(closed_at::text, 'NULL')`
