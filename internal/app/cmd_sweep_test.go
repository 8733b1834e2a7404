package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSweepCommand, on a real disk: old orphans in the upload directory
// go; a fresh upload, every referenced file, everything outside the upload
// directory, and whatever a symlinked directory leads to, stay.
func TestSweepCommand(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	outside := filepath.Join(dir, "outside")
	old := time.Now().Add(-72 * time.Hour)
	write := func(p string, mtime time.Time) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("solid\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	// Every reference upload is old: only the rows keep them.
	err := filepath.Walk(media, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			err = os.Chtimes(p, old, old)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(media, "stl", "2026", "11", "orphan.stl"), old)
	write(filepath.Join(media, "stl", "2026", "12", "orphan-too.stl"), old)
	write(filepath.Join(media, "stl", "2026", "11", "fresh.stl"), time.Now())
	write(filepath.Join(media, "thumbnails", "old.png"), old)
	write(filepath.Join(outside, "victim.stl"), old)
	if err := os.Symlink(outside, filepath.Join(media, "stl", "escape")); err != nil {
		t.Fatal(err)
	}
	referenced := filesIn(t, media)

	before := fingerprint(t, dir)
	r := runCLI(t, "--db", db, "--media-root", media, "sweep", "--dry-run")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("dry run: exit %d, stderr %q", r.code, r.stderr)
	}
	if got := sortedLines(r.stdout); got != " - stl/2026/11/orphan.stl\n - stl/2026/12/orphan-too.stl\nDRY RUN: would remove 2 orphan file(s) older than 24h in stl.\n" {
		t.Errorf("dry run output:\n%s", r.stdout)
	}
	if fingerprint(t, dir) != before {
		t.Fatal("the dry run changed the install")
	}

	r = runCLI(t, "sweep", "--db", db, "--media-root", media, "--json")
	var rep struct {
		Scanned, Orphans, Removed, Failed int
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 {
		t.Fatalf("sweep: exit %d, %v, %q %q", r.code, err, r.stdout, r.stderr)
	}
	if rep.Orphans != 2 || rep.Removed != 2 || rep.Failed != 0 {
		t.Errorf("report %+v", rep)
	}
	var want []string
	for _, f := range referenced {
		if f != "stl/2026/11/orphan.stl" && f != "stl/2026/12/orphan-too.stl" {
			want = append(want, f)
		}
	}
	if got := filesIn(t, media); len(got) != len(want) || sortedLines(joinLines(got)) != sortedLines(joinLines(want)) {
		t.Errorf("files left: %d, want %d", len(got), len(want))
	}
	if _, err := os.Stat(filepath.Join(outside, "victim.stl")); err != nil {
		t.Errorf("the sweep followed a symlink out of MEDIA_ROOT: %v", err)
	}

	runCLI(t, "sweep", "--db", db, "--media-root", media, "--grace", "-1h").wantOneLineError(t, 2, "--grace")
	runCLI(t, "sweep", "--db", db, "--media-root", media, "--upload-dir", "../outside").wantOneLineError(t, 2, "--upload-dir")
	runCLI(t, "sweep", "--db", db, "--media-root", media, "--upload-dir", "uploads").wantOneLineError(t, 2, "upload directory not found", "uploads")
}

func joinLines(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return strings.Join(ss, "\n") + "\n"
}

// sortedLines sorts the lines of s, so that listings in directory order
// compare equal.
func sortedLines(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	slices.Sort(lines)
	return joinLines(lines)
}
