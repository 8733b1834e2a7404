package app

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInput tries what a new user would, and wants for each a one-line
// error that names the problem, exit status 2, and nothing created or
// changed.
func TestBadInput(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("SQLite format? no, just notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.sqlite3")
	func() {
		odb, err := sql.Open("sqlite", other)
		if err != nil {
			t.Fatal(err)
		}
		defer odb.Close()
		if _, err := odb.Exec(`CREATE TABLE submissions_submission (id integer primary key, slug text, status text, created_at text)`); err != nil {
			t.Fatal(err)
		}
	}()
	wrongType := filepath.Join(dir, "epoch.sqlite3")
	func() {
		odb, err := sql.Open("sqlite", wrongType)
		if err != nil {
			t.Fatal(err)
		}
		defer odb.Close()
		if _, err := odb.Exec(`CREATE TABLE submissions_submission (id integer primary key, slug varchar(64), status varchar(16),
stl_file varchar(100), created_at integer, closed_at datetime)`); err != nil {
			t.Fatal(err)
		}
	}()
	before := fingerprint(t, dir)

	for _, tc := range []struct {
		name  string
		args  []string
		words []string
	}{
		{"missing database", []string{"--db", filepath.Join(dir, "nope.sqlite3"), "--media-root", media}, []string{"database not found", "nope.sqlite3"}},
		{"missing database, dry run", []string{"--db", filepath.Join(dir, "nope.sqlite3"), "--media-root", media, "--dry-run"}, []string{"database not found"}},
		{"database is a directory", []string{"--db", dir, "--media-root", media}, []string{"is a directory"}},
		{"text file as database", []string{"--db", text, "--media-root", media}, []string{"not a SQLite database"}},
		{"another schema", []string{"--db", other, "--media-root", media}, []string{"submissions_submission", "no column stl_file, closed_at"}},
		{"negative ttl", []string{"--db", db, "--media-root", media, "--ttl-hours", "-1"}, []string{"--ttl-hours -1", "0 or more"}},
		{"ttl not a number", []string{"--db", db, "--media-root", media, "--ttl-hours", "a day"}, []string{"ttl-hours"}},
		{"huge ttl", []string{"--db", db, "--media-root", media, "--ttl-hours", "99999999999"}, []string{"--ttl-hours", "at most"}},
		{"unparsable now", []string{"--db", db, "--media-root", media, "--now", "yesterday"}, []string{`--now "yesterday"`, "RFC 3339"}},
		{"now without zone", []string{"--db", db, "--media-root", media, "--now", "2026-11-25 12:00:00"}, []string{"RFC 3339"}},
		{"missing media root", []string{"--db", db, "--media-root", filepath.Join(dir, "nomedia")}, []string{"MEDIA_ROOT", "nomedia"}},
		{"missing media root, dry run", []string{"--db", db, "--media-root", filepath.Join(dir, "nomedia"), "--dry-run"}, []string{"MEDIA_ROOT", "nomedia"}},
		{"media root is a file", []string{"--db", db, "--media-root", text}, []string{"MEDIA_ROOT", "not a directory"}},
		{"unknown flag", []string{"--db", db, "--media-root", media, "--ttl", "3"}, []string{"ttl"}},
		{"stray argument", []string{"--db", db, "--media-root", media, "now"}, []string{`unexpected argument "now"`}},
		{"negative busy timeout", []string{"--db", db, "--media-root", media, "--busy-timeout", "-1s"}, []string{"--busy-timeout"}},
		{"negative every", []string{"--db", db, "--media-root", media, "--every", "-5m"}, []string{"--every"}},
		{"zero batch size", []string{"--db", db, "--media-root", media, "--batch-size", "0"}, []string{"--batch-size"}},
		{"zero lock share", []string{"--db", db, "--media-root", media, "--lock-share", "0"}, []string{"--lock-share 0"}},
		{"lock share above 1", []string{"--db", db, "--media-root", media, "--lock-share", "1.5"}, []string{"--lock-share 1.5", "at most 1"}},
		{"state dir is a file", []string{"--db", db, "--media-root", media, "--state-dir", text}, []string{"state directory", "not a directory"}},
		{"wrong column type", []string{"--db", wrongType, "--media-root", media}, []string{"created_at", "datetime"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runCLI(t, tc.args...).wantOneLineError(t, 2, tc.words...)
			if fingerprint(t, dir) != before {
				t.Fatal("the install changed")
			}
		})
	}
}

// TestBadEnvironment: a bad value in an environment variable is a usage
// error too, and a flag always overrides the environment.
func TestBadEnvironment(t *testing.T) {
	dir := install(t)
	t.Setenv("MEDIA_ROOT", filepath.Join(dir, "media"))
	t.Setenv("CLEANUP_STALE_TTL_HOURS", "-3")
	runCLI(t, "--db", filepath.Join(dir, "db.sqlite3")).wantOneLineError(t, 2, "--ttl-hours -3")

	t.Setenv("CLEANUP_STALE_TTL_HOURS", "lots")
	runCLI(t, "--db", filepath.Join(dir, "db.sqlite3")).wantOneLineError(t, 2, "CLEANUP_STALE_TTL_HOURS")

	t.Setenv("CLEANUP_STALE_TTL_HOURS", "1")
	t.Setenv("CLEANUP_STALE_DB", filepath.Join(dir, "nope.sqlite3"))
	r := runCLI(t, "--db", filepath.Join(dir, "db.sqlite3"), "--ttl-hours", "24", "--now", refNow, "--dry-run")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "DRY RUN: would delete 66 stale submission(s) older than 24 h.\n") {
		t.Errorf("flags should override the environment: exit %d, %q, %q", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, "--now", refNow, "--dry-run")
	r.wantOneLineError(t, 2, "nope.sqlite3")
}

// TestSecretsStayHidden: a PostgreSQL URL or S3 credentials that do not
// work give one line and a failing exit status, and never show the
// password or the secret key.
func TestSecretsStayHidden(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	r := runCLI(t, "--db", "postgres://printdesk:hunter2secret@127.0.0.1:1/printdesk", "--media-root", media, "--dry-run")
	if r.code == 0 || strings.Count(r.stderr, "\n") != 1 || strings.Contains(r.stderr, "hunter2secret") ||
		!strings.Contains(r.stderr, "printdesk@127.0.0.1:1") {
		t.Errorf("bad PostgreSQL URL: exit %d, stderr %q", r.code, r.stderr)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMIsecretEXAMPLEKEY")
	t.Setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:1")
	r = runCLI(t, "--db", db, "--media-root", "s3://printdesk-media/site1", "--dry-run")
	r.wantOneLineError(t, 2, "MEDIA_ROOT", "s3://printdesk-media/site1")
	if strings.Contains(r.stderr, "wJalrXUtnFEMIsecretEXAMPLEKEY") {
		t.Errorf("the secret key shows: %q", r.stderr)
	}
}
