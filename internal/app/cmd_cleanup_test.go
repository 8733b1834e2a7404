package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// TestDryRunOutput: the web app's command's text byte for byte, and not one byte of the
// database or the media tree changed (invariant 7 in docs/design.md).
func TestDryRunOutput(t *testing.T) {
	dir := install(t)
	before := fingerprint(t, dir)
	r := runCLI(t, "--db", filepath.Join(dir, "db.sqlite3"), "--media-root", filepath.Join(dir, "media"), "--now", refNow, "--dry-run")
	want := "DRY RUN: would delete 66 stale submission(s) older than 24 h.\n"
	var statusOf = slugStatuses(t, filepath.Join(dir, "db.sqlite3"))
	for _, slug := range readLines(t, filepath.Join(repo, "testdata", "reference", "expected-deleted-ttl24.txt")) {
		want += " - " + slug + " (" + statusOf[slug] + ")\n"
	}
	if r.code != 0 || r.stdout != want || r.stderr != "" {
		t.Errorf("exit %d, stderr %q, stdout:\n%s\nwant:\n%s", r.code, r.stderr, r.stdout, want)
	}
	if after := fingerprint(t, dir); after != before {
		t.Error("the dry run changed the install")
	}
}

// TestRealRunOutput: "Deleted N ..." when something went, and nothing at
// all when nothing did, so that a timer's journal stays quiet.
func TestRealRunOutput(t *testing.T) {
	dir := install(t)
	args := []string{"--db", filepath.Join(dir, "db.sqlite3"), "--media-root", filepath.Join(dir, "media"), "--now", refNow}
	r := runCLI(t, args...)
	if r.code != 0 || r.stdout != "Deleted 66 stale submission(s) older than 24 h.\n" || r.stderr != "" {
		t.Errorf("first run: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, args...)
	if r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Errorf("second run: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if n := len(slugStatuses(t, filepath.Join(dir, "db.sqlite3"))); n != 411-66 {
		t.Errorf("%d rows left, want %d", n, 411-66)
	}
}

// TestJSON: one object with the keys of cleanup.Report, and counts that are what
// happened.
func TestJSON(t *testing.T) {
	dir := install(t)
	args := []string{"--db", filepath.Join(dir, "db.sqlite3"), "--media-root", filepath.Join(dir, "media"), "--now", refNow, "--ttl-hours", "1", "--json"}
	var dry struct {
		DryRun      bool   `json:"dry_run"`
		TTLHours    int    `json:"ttl_hours"`
		Cutoff      string `json:"cutoff"`
		Stale       int    `json:"stale"`
		Deleted     int    `json:"deleted"`
		Failures    []any  `json:"failures"`
		Submissions []struct {
			Slug, Status, File string
		} `json:"submissions"`
	}
	r := runCLI(t, append(args, "--dry-run")...)
	if err := json.Unmarshal([]byte(r.stdout), &dry); err != nil || r.code != 0 || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("dry run: exit %d, %v: %q", r.code, err, r.stdout)
	}
	want := readLines(t, filepath.Join(repo, "testdata", "reference", "expected-deleted-ttl1.txt"))
	var listed []string
	for _, s := range dry.Submissions {
		listed = append(listed, s.Slug)
	}
	if !dry.DryRun || dry.TTLHours != 1 || dry.Cutoff != "2026-11-25T11:00:00Z" || dry.Stale != len(want) ||
		dry.Deleted != 0 || dry.Failures == nil || strings.Join(listed, " ") != strings.Join(want, " ") {
		t.Errorf("dry run JSON: %+v", dry)
	}
	if dry.Submissions[0].File != "stl/2026/11/"+want[0]+".stl" && dry.Submissions[0].File != "" {
		t.Errorf("first submission's file: %q", dry.Submissions[0].File)
	}

	var real map[string]any
	r = runCLI(t, args...)
	if err := json.Unmarshal([]byte(r.stdout), &real); err != nil || r.code != 0 {
		t.Fatalf("real run: exit %d, %v: %q", r.code, err, r.stdout)
	}
	for k, v := range map[string]any{"dry_run": false, "ttl_hours": 1.0, "stale": float64(len(want)), "deleted": float64(len(want)), "cutoff": "2026-11-25T11:00:00Z"} {
		if real[k] != v {
			t.Errorf("real run JSON %s = %v, want %v", k, real[k], v)
		}
	}
	if f, ok := real["failures"].([]any); !ok || len(f) != 0 {
		t.Errorf("real run JSON failures = %v, want []", real["failures"])
	}
	if _, ok := real["submissions"]; ok {
		t.Error("a real run lists submissions")
	}
	if left := len(slugStatuses(t, filepath.Join(dir, "db.sqlite3"))); left != 411-len(want) {
		t.Errorf("%d rows left, want %d", left, 411-len(want))
	}
}

// TestConfinementEndToEnd: rows naming ../x.stl, an absolute path, and a
// file under a symlinked directory that leads outside stay; the files
// outside are untouched; exit 1 with one stderr line per row (invariant 3).
func TestConfinementEndToEnd(t *testing.T) {
	dir := install(t)
	outside := filepath.Join(dir, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(dir, "x.stl"), filepath.Join(outside, "x.stl")} {
		if err := os.WriteFile(f, []byte("solid outside\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(dir, "media", "stl", "link")); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "db.sqlite3")
	execSQL(t, db, `INSERT INTO submissions_submission (slug, status, email, stl_file, created_at) VALUES
 ('evil-dotdot', 'identifying', 'e@x', '../x.stl', '2026-11-01 00:00:00'),
 ('evil-absolute', 'identifying', 'e@x', '`+outside+`/x.stl', '2026-11-01 00:00:00'),
 ('evil-symlink', 'identifying', 'e@x', 'stl/link/x.stl', '2026-11-01 00:00:00')`)
	outsideBefore := fingerprint(t, outside)

	r := runCLI(t, "--db", db, "--media-root", filepath.Join(dir, "media"), "--now", refNow)
	if r.code != 1 || r.stdout != "Deleted 66 stale submission(s) older than 24 h.\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 3 {
		t.Errorf("stderr has %d lines, want 3: %q", len(lines), r.stderr)
	}
	for _, want := range []string{"slug=evil-dotdot path=../x.stl", "slug=evil-absolute path=" + outside + "/x.stl", "slug=evil-symlink path=stl/link/x.stl"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	statuses := slugStatuses(t, db)
	for _, slug := range []string{"evil-dotdot", "evil-absolute", "evil-symlink"} {
		if _, ok := statuses[slug]; !ok {
			t.Errorf("row %s was deleted", slug)
		}
	}
	if fingerprint(t, outside) != outsideBefore {
		t.Error("files outside MEDIA_ROOT changed")
	}
	if _, err := os.Stat(filepath.Join(dir, "x.stl")); err != nil {
		t.Errorf("../x.stl touched: %v", err)
	}
}

// TestJournalModes: the tool works on a rollback-journal database and on a
// WAL one, deletes the same rows from both, and leaves each in its mode.
// A dry run on a WAL database changes no byte of the database file (SQLite
// may create its -wal and -shm companions for any reader).
func TestJournalModes(t *testing.T) {
	for _, mode := range []string{"delete", "wal"} {
		t.Run(mode, func(t *testing.T) {
			dir := install(t)
			db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
			if mode == "wal" {
				execSQL(t, db, "PRAGMA journal_mode=WAL")
			}
			before, err := os.ReadFile(db)
			if err != nil {
				t.Fatal(err)
			}
			args := []string{"--db", db, "--media-root", media, "--now", refNow}
			if r := runCLI(t, append(args, "--dry-run")...); r.code != 0 {
				t.Fatalf("dry run: exit %d, %q", r.code, r.stderr)
			}
			if after, _ := os.ReadFile(db); string(after) != string(before) {
				t.Error("the dry run changed the database file")
			}
			if r := runCLI(t, args...); r.code != 0 || r.stdout != "Deleted 66 stale submission(s) older than 24 h.\n" {
				t.Fatalf("run: exit %d, %q, %q", r.code, r.stdout, r.stderr)
			}
			if got := rowsOf(t, db, "'x'", "slug = 's7-0000001'"); len(got) != 1 {
				t.Error("a live row is gone")
			}
			if n := len(slugStatuses(t, db)); n != 411-66 {
				t.Errorf("%d rows left, want %d", n, 411-66)
			}
			raw := openSQL(t, db)
			defer raw.Close()
			var got string
			if err := raw.QueryRow("PRAGMA journal_mode").Scan(&got); err != nil || got != mode {
				t.Errorf("journal mode %q (%v), want %q", got, err, mode)
			}
		})
	}
}
