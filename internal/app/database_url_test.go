package app

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// TestDatabaseURL: Django installs that configure their database with
// DATABASE_URL (dj-database-url) need not repeat it: --db comes from the
// flag, else CLEANUP_STALE_DB, else DATABASE_URL, else db.sqlite3. SQLite
// is spelled as dj-database-url spells it: sqlite:////abs/path for an
// absolute path (four slashes), sqlite:///relative for a relative one.
// Another kind of database, or an in-memory one, is exit 2 in one line
// that never shows the URL's password.
func TestDatabaseURL(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	t.Setenv("MEDIA_ROOT", media)
	unsetenv(t, "CLEANUP_STALE_DB")
	unsetenv(t, "DATABASE_URL")
	want := runCLI(t, "--db", db, "--now", refNow, "--dry-run")
	if want.code != 0 || !strings.HasPrefix(want.stdout, "DRY RUN: would delete 66 ") {
		t.Fatalf("with --db: exit %d, %q, %q", want.code, want.stdout, want.stderr)
	}
	wantStats := runCLI(t, "--db", db, "--now", refNow, "stats", "--json")
	dry := func(t *testing.T, args ...string) result {
		t.Helper()
		return runCLI(t, append(args, "--now", refNow, "--dry-run")...)
	}
	same := func(t *testing.T, what string, r result) {
		t.Helper()
		if r != want {
			t.Errorf("%s: exit %d, %q, %q; want what --db %s gives", what, r.code, r.stdout, r.stderr, db)
		}
	}

	t.Run("absolute", func(t *testing.T) {
		t.Setenv("DATABASE_URL", "sqlite:///"+db) // sqlite:////tmp/…: four slashes
		same(t, "sqlite:///"+db, dry(t))
		same(t, "--db sqlite:///"+db, dry(t, "--db", "sqlite:///"+db))
	})
	t.Run("relative", func(t *testing.T) {
		t.Chdir(dir)
		t.Setenv("DATABASE_URL", "sqlite:///db.sqlite3")
		same(t, "sqlite:///db.sqlite3", dry(t))
		t.Setenv("DATABASE_URL", "sqlite:///./media/../db.sqlite3")
		same(t, "sqlite:///./media/../db.sqlite3", dry(t))
	})
	t.Run("escaped", func(t *testing.T) {
		spaced := filepath.Join(dir, "my db.sqlite3")
		if err := os.Link(db, spaced); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(spaced)
		t.Setenv("DATABASE_URL", "sqlite:///"+strings.ReplaceAll(spaced, " ", "%20"))
		if r := dry(t); r.code != 0 || r.stdout != want.stdout {
			t.Errorf("%%20: exit %d, %q, %q", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("order", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "nope.sqlite3")
		t.Setenv("DATABASE_URL", "sqlite:///"+other)
		dry(t).wantOneLineError(t, 2, "database not found: "+other)
		t.Setenv("CLEANUP_STALE_DB", db)
		same(t, "CLEANUP_STALE_DB before DATABASE_URL", dry(t))
		t.Setenv("CLEANUP_STALE_DB", other+".2")
		same(t, "--db before both", dry(t, "--db", db))
		if r := runCLI(t, "--now", refNow, "stats", "--db", db, "--json"); r != wantStats || r.code != 0 {
			t.Errorf("--db after the command: exit %d, %q, %q", r.code, r.stdout, r.stderr)
		}
		unsetenv(t, "CLEANUP_STALE_DB")
		unsetenv(t, "DATABASE_URL")
		t.Chdir(dir)
		same(t, "the default, db.sqlite3", dry(t))
		// Set but empty counts as set, and says so.
		t.Setenv("CLEANUP_STALE_DB", "")
		t.Setenv("DATABASE_URL", "sqlite:///"+db)
		dry(t).wantOneLineError(t, 2, "CLEANUP_STALE_DB is set but empty")
	})
	t.Run("refused", func(t *testing.T) {
		before := fingerprint(t, dir)
		for _, c := range []struct{ url, says string }{
			{"mysql://printdesk:Qq1Ww2@127.0.0.1/printdesk", "DATABASE_URL: a mysql:// database: cleanup-stale takes SQLite (sqlite:////path/to/db.sqlite3) or PostgreSQL (postgres://USER:PASSWORD@HOST/NAME); set CLEANUP_STALE_DB or --db"},
			{"sqlite://", "DATABASE_URL: an in-memory SQLite database has nothing to clean; give the file, like sqlite:////path/to/db.sqlite3"},
			{"sqlite://:memory:", "DATABASE_URL: an in-memory SQLite database has nothing to clean"},
			{"sqlite://printdesk:Qq1Ww2@host/db.sqlite3", "DATABASE_URL: a SQLite URL names a file, not a host: like sqlite:////path/to/db.sqlite3 (four slashes) or sqlite:///relative/db.sqlite3"},
			{"/srv/app/db.sqlite3", "DATABASE_URL: not a database URL; like sqlite:////path/to/db.sqlite3 or postgres://USER:PASSWORD@HOST/NAME"},
		} {
			t.Setenv("DATABASE_URL", c.url)
			for _, extra := range [][]string{nil, {"--dry-run"}, {"stats"}, {"health", "--max-age", "1h"}} {
				r := runCLI(t, extra...)
				if r.code != 2 || r.stderr != "cleanup-stale: "+c.says+"\n" && !strings.HasPrefix(r.stderr, "cleanup-stale: "+c.says) ||
					strings.Count(r.stderr, "\n") != 1 || showsPassword(r.stderr) {
					t.Errorf("DATABASE_URL=%s %v: exit %d, stderr %q; want exit 2 and %q", c.url, extra, r.code, r.stderr, c.says)
				}
			}
		}
		if fingerprint(t, dir) != before {
			t.Error("the install changed")
		}
	})
}

// TestDatabaseURLPostgres: DATABASE_URL with a PostgreSQL URL, as
// dj-database-url takes it (postgres://, postgresql://, pgsql://), names
// the same database as --db.
func TestDatabaseURLPostgres(t *testing.T) {
	pgURL, _ := dbtest.LoadPostgres(t, filepath.Join(repo, "testdata", "reference", "webapp.sqlite3"))
	dir := install(t)
	t.Setenv("MEDIA_ROOT", filepath.Join(dir, "media"))
	unsetenv(t, "CLEANUP_STALE_DB")
	t.Setenv("CLEANUP_STALE_STATE_DIR", t.TempDir())
	want := runCLI(t, "--db", pgURL, "--now", refNow, "--dry-run")
	if want.code != 0 || !strings.HasPrefix(want.stdout, "DRY RUN: would delete 66 ") {
		t.Fatalf("with --db: exit %d, %q, %q", want.code, want.stdout, want.stderr)
	}
	u, err := url.Parse(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, scheme := range []string{"postgres", "postgresql", "pgsql"} {
		u.Scheme = scheme
		t.Setenv("DATABASE_URL", u.String())
		if r := runCLI(t, "--now", refNow, "--dry-run"); r != want {
			t.Errorf("DATABASE_URL=%s://…: exit %d, %q, %q", scheme, r.code, r.stdout, r.stderr)
		}
	}
	if r := runCLI(t, "--now", refNow); r.code != 0 || r.stdout != "Deleted 66 stale submission(s) older than 24 h.\n" {
		t.Errorf("real run: exit %d, %q, %q", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, "health", "--max-age", "1h"); r.code != 0 {
		t.Errorf("health: exit %d, %q", r.code, r.stderr)
	}
}

// unsetenv unsets the variable name for the rest of the test.
func unsetenv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "") // restored when the test ends
	os.Unsetenv(name)
}
