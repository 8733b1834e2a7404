package store_test

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// newRole creates a login role (the test server trusts any password),
// dropped with everything it owns or was granted in raw's database when
// the test ends, and returns its name and the URL u as that role.
func newRole(t *testing.T, u string, raw *sql.DB) (role, as string) {
	t.Helper()
	role = fmt.Sprintf("cleanup_stale_test_role_%d_%d", time.Now().UnixNano()%1e9, roleCount.Add(1))
	exec(t, raw, `CREATE ROLE `+role+` LOGIN`)
	t.Cleanup(func() {
		raw.Exec(`DROP OWNED BY ` + role)
		raw.Exec(`DROP ROLE ` + role)
	})
	return role, withUser(t, u, role)
}

// staleAndLive adds two stale rows and a live one, and returns the slugs
// of the stale ones and the time they are stale at.
func staleAndLive(t *testing.T, raw *sql.DB) ([]string, time.Time) {
	t.Helper()
	old, now := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	dbtest.InsertPostgres(t, raw,
		dbtest.Row{Slug: "s-old-1", Status: "identifying", File: "stl/a.stl", Created: old},
		dbtest.Row{Slug: "s-old-2", Status: "rejected", Created: old, Closed: old},
		dbtest.Row{Slug: "s-live", Status: "done", File: "stl/b.stl", Created: old})
	return []string{"s-old-1"}, now // drain reports the rows with a file
}

// TestPostgresChecksWhatTheRunNeeds: a real run locks its rows with
// SELECT … FOR UPDATE, which PostgreSQL allows only with the UPDATE
// privilege. A role that may read and delete but not update used to pass
// the start check and then fail every run (exit 1); now the check refuses
// it as a configuration error, naming what is missing, and a role with
// UPDATE on a single column, which is all that FOR UPDATE needs, passes
// and deletes.
func TestPostgresChecksWhatTheRunNeeds(t *testing.T) {
	u, raw := dbtest.NewPostgres(t)
	want, cutoff := staleAndLive(t, raw)
	_, as := newRole(t, u, raw)
	role := parseURL(t, as).User.Username()
	open := func(ro bool) (store.DB, error) {
		d, err := store.Open(ctx, as, opts(ro))
		if err == nil {
			t.Cleanup(func() { d.Close() })
		}
		return d, err
	}

	exec(t, raw, `GRANT SELECT, DELETE ON `+store.Table+` TO `+role)
	if _, err := open(false); !errors.Is(err, store.ErrAccess) || !strings.Contains(err.Error(), "UPDATE privilege") {
		t.Errorf("Open without UPDATE = %v; want ErrAccess naming the UPDATE privilege", err)
	}
	if _, err := open(true); err != nil {
		t.Errorf("Open read-only without UPDATE = %v; a dry run only reads", err)
	}

	exec(t, raw, `REVOKE DELETE ON `+store.Table+` FROM `+role)
	exec(t, raw, `GRANT UPDATE (status) ON `+store.Table+` TO `+role)
	if _, err := open(false); !errors.Is(err, store.ErrAccess) || !strings.Contains(err.Error(), "may not delete") {
		t.Errorf("Open without DELETE = %v; want ErrAccess naming DELETE", err)
	}

	exec(t, raw, `GRANT DELETE ON `+store.Table+` TO `+role)
	d, err := open(false)
	if err != nil {
		t.Fatalf("Open with UPDATE on one column = %v", err)
	}
	if got := drain(t, d, cutoff, 10); !slices.Equal(got, want) {
		t.Errorf("deleted %v, want %v", got, want)
	}
	if got := dbtest.Rows(t, raw, "status"); len(got) != 1 || got["s-live"] != "done" {
		t.Errorf("rows left: %v, want only s-live", got)
	}
}

// TestPostgresResolvesTheTableAsPostgresDoes: with an empty schema named
// after the user, first on the default search_path ("$user", public),
// psql and the run's statements find public.submissions_submission; so
// must the start check, which used to look in the empty schema only and
// say "no table". And a table of that name in the user's schema hides the
// public one: then its columns are the ones checked.
func TestPostgresResolvesTheTableAsPostgresDoes(t *testing.T) {
	u, raw := dbtest.NewPostgres(t)
	want, cutoff := staleAndLive(t, raw)
	role, as := newRole(t, u, raw)
	exec(t, raw, `GRANT SELECT, UPDATE, DELETE ON `+store.Table+` TO `+role)
	exec(t, raw, `CREATE SCHEMA `+role+` AUTHORIZATION `+role)
	if s := queryString(t, raw, `SELECT current_setting('search_path')`); s != `"$user", public` {
		t.Fatalf("search_path is %q; the test needs the default", s)
	}

	for _, ro := range []bool{true, false} {
		d, err := store.Open(ctx, as, opts(ro))
		if err != nil {
			t.Fatalf("Open(ro=%v) with an empty schema of the user's first on search_path = %v", ro, err)
		}
		if !ro {
			if got := drain(t, d, cutoff, 10); !slices.Equal(got, want) {
				t.Errorf("deleted %v, want %v", got, want)
			}
		}
		d.Close()
	}

	// The user's own table, without stl_file, comes first now.
	exec(t, raw, `CREATE TABLE `+role+`.`+store.Table+` (id bigint, slug text, status text, created_at timestamptz, closed_at timestamptz)`)
	exec(t, raw, `ALTER TABLE `+role+`.`+store.Table+` OWNER TO `+role)
	d, err := store.Open(ctx, as, opts(true))
	if err == nil {
		d.Close()
	}
	if !errors.Is(err, store.ErrSchema) || !strings.Contains(err.Error(), "no column stl_file") {
		t.Errorf("Open with the user's own table first = %v; want ErrSchema naming stl_file", err)
	}
}

// TestPostgresRefusesWhatHidesRows: row-level security that applies to
// the tool's role would hide rows from it, and a hidden row may name a
// file that a stale row names too: the file would go, with exit 0. The
// start refuses such a role (exit 2, a reason), for real and dry runs;
// the table's owner, to whom the policy does not apply, and a role with
// BYPASSRLS pass.
func TestPostgresRefusesWhatHidesRows(t *testing.T) {
	u, raw := dbtest.NewPostgres(t)
	staleAndLive(t, raw)
	role, as := newRole(t, u, raw)
	exec(t, raw, `GRANT SELECT, UPDATE, DELETE ON `+store.Table+` TO `+role)
	exec(t, raw, `ALTER TABLE `+store.Table+` ENABLE ROW LEVEL SECURITY`)
	exec(t, raw, `CREATE POLICY hide_live ON `+store.Table+` USING (status <> 'done')`)
	for _, ro := range []bool{false, true} {
		d, err := store.Open(ctx, as, opts(ro))
		if err == nil {
			d.Close()
		}
		if !errors.Is(err, store.ErrAccess) || !strings.Contains(err.Error(), "row-level security") || !strings.Contains(err.Error(), role) {
			t.Errorf("Open as a role that the policy restricts (ro=%v) = %v; want ErrAccess naming row-level security and the role", ro, err)
		}
	}
	// The owner (the test server's superuser) sees every row: it passes.
	if d, err := store.Open(ctx, u, opts(false)); err != nil {
		t.Errorf("Open as the owner = %v", err)
	} else {
		d.Close()
	}
	// A role with BYPASSRLS passes too.
	exec(t, raw, `ALTER ROLE `+role+` BYPASSRLS`)
	if d, err := store.Open(ctx, as, opts(false)); err != nil {
		t.Errorf("Open with BYPASSRLS = %v", err)
	} else {
		d.Close()
	}
}

// TestPostgresRefusesWhatIsNotTheTable: a view, or a partitioned table, in
// the web app's table's place is not the table whose rows the tool
// deletes by their addresses: exit 2, naming what it is.
func TestPostgresRefusesWhatIsNotTheTable(t *testing.T) {
	for kind, ddl := range map[string]string{
		"a view": `ALTER TABLE ` + store.Table + ` RENAME TO real_submissions;
CREATE VIEW ` + store.Table + ` AS SELECT * FROM real_submissions`,
		"a partitioned table": `ALTER TABLE ` + store.Table + ` RENAME TO old_submissions;
CREATE TABLE ` + store.Table + ` (LIKE old_submissions) PARTITION BY RANGE (id)`,
	} {
		t.Run(kind, func(t *testing.T) {
			u, raw := dbtest.NewPostgres(t)
			exec(t, raw, ddl)
			d, err := store.Open(ctx, u, opts(false))
			if err == nil {
				d.Close()
			}
			if !errors.Is(err, store.ErrSchema) || !strings.Contains(err.Error(), kind+", not a table") {
				t.Errorf("Open = %v; want ErrSchema saying it is %s", err, kind)
			}
		})
	}
}

// TestPostgresRefusesAStandby: a hot standby (in recovery) cannot delete
// anything: a real run is refused before it starts, exit 2, pointing at
// the primary, instead of failing at its first FOR UPDATE; a read-only
// session (a dry run, stats) may use it.
func TestPostgresRefusesAStandby(t *testing.T) {
	u, _ := dbtest.NewPostgres(t)
	standby := dbtest.Standby(t, u)
	d, err := store.Open(ctx, standby, opts(false))
	if err == nil {
		d.Close()
	}
	if !errors.Is(err, store.ErrAccess) || !strings.Contains(err.Error(), "standby") {
		t.Errorf("Open on a standby = %v; want ErrAccess saying it is a standby", err)
	}
	d, err = store.Open(ctx, standby, opts(true))
	if err != nil {
		t.Fatalf("a read-only Open on a standby: %v", err)
	}
	defer d.Close()
	if _, err := d.Stats(ctx, time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Errorf("stats on a standby: %v", err)
	}
}
