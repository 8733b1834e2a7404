package store_test

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// These tests run against a real PostgreSQL server (see dbtest.NewPostgres
// and .ci/pg); without one they are skipped.

// TestPostgresOpenRefusesWhatIsNotTheWebAppsTable: a database without the
// table, or with a column missing or of another type, is ErrSchema naming
// it; a database that does not exist is ErrNoDatabase.
func TestPostgresOpenRefusesWhatIsNotTheWebAppsTable(t *testing.T) {
	for _, tc := range []struct {
		name, alter string
		want        error
		mention     string
	}{
		{"no table", `DROP TABLE ` + store.Table, store.ErrSchema, "no table submissions_submission"},
		{"no column", `ALTER TABLE ` + store.Table + ` DROP COLUMN closed_at, DROP COLUMN stl_file`, store.ErrSchema, "no column stl_file, closed_at"},
		{"naive timestamps", `ALTER TABLE ` + store.Table + ` ALTER COLUMN created_at TYPE timestamp`, store.ErrSchema, `created_at is "timestamp without time zone"`},
		{"numeric file", `ALTER TABLE ` + store.Table + ` ALTER COLUMN stl_file TYPE integer USING 0`, store.ErrSchema, `stl_file is "integer"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, raw := dbtest.NewPostgres(t)
			exec(t, raw, tc.alter)
			for _, ro := range []bool{false, true} {
				d, err := store.Open(ctx, u, opts(ro))
				if err == nil {
					d.Close()
				}
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.mention) {
					t.Errorf("Open(ro=%v) = %v; want %v mentioning %q", ro, err, tc.want, tc.mention)
				}
			}
		})
	}
	t.Run("no database", func(t *testing.T) {
		u, _ := dbtest.NewPostgres(t)
		missing := withPath(t, u, "/cleanup_stale_no_such_db")
		_, err := store.Open(ctx, missing, opts(true))
		if !errors.Is(err, store.ErrNoDatabase) || !strings.Contains(err.Error(), "cleanup_stale_no_such_db") {
			t.Errorf("Open(missing database) = %v; want ErrNoDatabase naming it", err)
		}
	})
}

var roleCount atomic.Int64

// TestPostgresOpenChecksPrivileges: a user who may not read the table, or
// may not delete from it when the run deletes, is ErrAccess before
// anything happens, not a confusing "no table" or a failure mid-run.
func TestPostgresOpenChecksPrivileges(t *testing.T) {
	u, raw := dbtest.NewPostgres(t)
	role := fmt.Sprintf("cleanup_stale_test_role_%d_%d", time.Now().UnixNano()%1e9, roleCount.Add(1))
	exec(t, raw, `CREATE ROLE `+role+` LOGIN`)
	t.Cleanup(func() {
		raw.Exec(`REVOKE ALL ON ` + store.Table + ` FROM ` + role)
		raw.Exec(`DROP ROLE ` + role)
	})
	as := withUser(t, u, role)
	check := func(ro bool, want error) {
		t.Helper()
		d, err := store.Open(ctx, as, opts(ro))
		if err == nil {
			d.Close()
		}
		if !errors.Is(err, want) && !(want == nil && err == nil) {
			t.Errorf("Open(ro=%v) = %v; want %v", ro, err, want)
		}
	}
	check(true, store.ErrAccess)
	check(false, store.ErrAccess)
	exec(t, raw, `GRANT SELECT ON `+store.Table+` TO `+role)
	check(true, nil)
	check(false, store.ErrAccess)
	exec(t, raw, `GRANT DELETE ON `+store.Table+` TO `+role)
	check(false, store.ErrAccess) // FOR UPDATE needs UPDATE: see TestPostgresChecksWhatTheRunNeeds
	exec(t, raw, `GRANT UPDATE ON `+store.Table+` TO `+role)
	check(false, nil)
}

// TestPostgresNeverShowsThePassword: neither Name nor any error shows the
// password of the URL, whatever goes wrong, and every error is one line.
func TestPostgresNeverShowsThePassword(t *testing.T) {
	for _, bad := range []string{
		"postgres://user:secret@127.0.0.1:1/x",
		"postgresql://user:secret@127.0.0.1:1/x?sslmode=disable&connect_timeout=5",
		"postgres://user@127.0.0.1:1/x?password=secret",
		"postgres://user:secret@127.0.0.1:port/x",
		"postgres://user:sec%72et@127.0.0.1:1/x",
		"postgres://user:secret@[::1/x",
		"postgres://us er:secret@127.0.0.1:1/x",
		"postgres://user:secret@127.0.0.1:1/x?sslmode=bogus",
	} {
		d, err := store.Open(ctx, bad, opts(true))
		if err == nil {
			d.Close()
			t.Errorf("Open(%s) succeeded", bad)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "secret") || strings.ContainsAny(msg, "\r\n") {
			t.Errorf("Open(%s): %q shows the password or spans lines", bad, msg)
		}
	}

	u, _ := dbtest.NewPostgres(t)
	with := withPassword(t, u, "secret") // trust auth: any password will do
	for _, name := range []string{with, withQuery(t, u, "password", "secret")} {
		d, err := store.Open(ctx, name, opts(true))
		if err != nil {
			t.Fatal(err)
		}
		if n := d.Name(); strings.Contains(n, "secret") || !strings.Contains(n, "127.0.0.1") {
			t.Errorf("Name() = %q", n)
		}
		if d.Local() {
			t.Error("a PostgreSQL database is Local")
		}
		d.Close()
	}
	_, err := store.Open(ctx, withPath(t, with, "/cleanup_stale_no_such_db"), opts(true))
	if !errors.Is(err, store.ErrNoDatabase) || strings.Contains(err.Error(), "secret") {
		t.Errorf("Open(missing database) = %v", err)
	}
}

// TestPostgresReadOnlyCannotWrite: a read-only session is refused every
// write by the server itself, not only by the tool.
func TestPostgresReadOnlyCannotWrite(t *testing.T) {
	u, raw := dbtest.NewPostgres(t)
	dbtest.InsertPostgres(t, raw, dbtest.Row{Slug: "s-old", Status: "identifying", Created: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
	d := dbtest.OpenPostgres(t, u, true)
	if _, err := proto(d).DeleteBatch(ctx, protocol.Request{Cutoff: time.Now(), Size: 1, MaxFiles: 1}); err == nil {
		t.Error("DeleteBatch on a read-only database succeeded")
	}
	var e *pgconn.PgError
	_, err := store.PostgresRaw(d).Exec(`DELETE FROM ` + store.Table)
	if !errors.As(err, &e) || e.Code != "25006" { // read_only_sql_transaction
		t.Errorf("DELETE on a read-only session: %v", err)
	}
	if n, err := d.CountStale(ctx, time.Now()); err != nil || n != 1 {
		t.Errorf("CountStale on a read-only session = %d, %v; want 1", n, err)
	}
}

// TestPostgresChangesNothingButRows: a run creates no table, temporary or
// not, no index, and no persistent setting; its settings are its
// session's.
func TestPostgresChangesNothingButRows(t *testing.T) {
	u, raw := dbtest.NewPostgres(t)
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	dbtest.InsertPostgres(t, raw,
		dbtest.Row{Slug: "s-1", Status: "identifying", File: "stl/a.stl", Created: old},
		dbtest.Row{Slug: "s-2", Status: "done", File: "stl/b.stl", Created: old})
	const catalog = `SELECT (SELECT string_agg(n.nspname || '.' || c.relname || ':' || c.relkind::text || c.relpersistence::text, ',' ORDER BY 1)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast'))
|| (SELECT count(*) FROM pg_db_role_setting)::text`
	before := queryString(t, raw, catalog)
	d := dbtest.OpenPostgres(t, u, false)
	deleted := drain(t, d, time.Now(), 10)
	if fmt.Sprint(deleted) != "[s-1]" {
		t.Errorf("deleted %v, want [s-1]", deleted)
	}
	if after := queryString(t, raw, catalog); after != before {
		t.Errorf("the catalog changed:\n%s\n%s", before, after)
	}
	session := queryString(t, store.PostgresRaw(d), `SELECT current_setting('lock_timeout') || ' ' || current_setting('plan_cache_mode')`)
	if session != "5s force_custom_plan" {
		t.Errorf("session settings %q", session)
	}
}

func exec(t testing.TB, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func queryString(t testing.TB, db *sql.DB, q string, args ...any) string {
	t.Helper()
	var s string
	if err := db.QueryRow(q, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s
}

func parseURL(t testing.TB, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func withPath(t testing.TB, raw, path string) string {
	u := parseURL(t, raw)
	u.Path = path
	return u.String()
}

func withUser(t testing.TB, raw, user string) string {
	u := parseURL(t, raw)
	u.User = url.User(user)
	return u.String()
}

func withPassword(t testing.TB, raw, password string) string {
	u := parseURL(t, raw)
	u.User = url.UserPassword(u.User.Username(), password)
	return u.String()
}

func withQuery(t testing.TB, raw, key, value string) string {
	u := parseURL(t, raw)
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}
