package app

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestImmutableDirectory: on a real disk, a directory made immutable with
// chattr +i refuses every removal in it. Those rows stay, each is named on
// stderr, the rest still go, exit 1; once the flag is gone, the next run
// finishes with exit 0 (invariant 6 in docs/design.md).
func TestImmutableDirectory(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	locked := filepath.Join(media, "stl", "2026", "11")
	if out, err := exec.Command("chattr", "+i", locked).CombinedOutput(); err != nil {
		t.Skipf("chattr +i is not available here (needs root and a file system that supports it): %v: %s", err, out)
	}
	unlock := func() { exec.Command("chattr", "-i", locked).Run() }
	t.Cleanup(unlock)

	// The rows that must stay: stale, with a file that is really there.
	stale := readLines(t, filepath.Join(repo, "testdata", "reference", "expected-deleted-ttl24.txt"))
	files := fileOf(t, db)
	var stuck []string
	for _, slug := range stale {
		if f := files[slug]; f != "" {
			if _, err := os.Stat(filepath.Join(media, f)); err == nil {
				stuck = append(stuck, slug)
			}
		}
	}
	if len(stuck) == 0 || len(stuck) == len(stale) {
		t.Fatalf("fixture too weak: %d of %d stale rows have a file", len(stuck), len(stale))
	}

	args := []string{"--db", db, "--media-root", media, "--now", refNow}
	r := runCLI(t, args...)
	if r.code != 1 {
		t.Errorf("exit %d, want 1; stderr %q", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != len(stuck) {
		t.Errorf("%d stderr lines, want one per stuck row (%d)", len(lines), len(stuck))
	}
	for _, slug := range stuck {
		if !strings.Contains(r.stderr, "slug="+slug+" path="+files[slug]) || !strings.Contains(r.stderr, "operation not permitted") {
			t.Errorf("stderr does not name %s and its path with the error", slug)
		}
	}
	left := fileOf(t, db)
	for _, slug := range stale {
		_, ok := left[slug]
		if ok != slices.Contains(stuck, slug) {
			t.Errorf("row %s: still there = %v, want %v", slug, ok, !ok)
		}
	}

	unlock()
	r = runCLI(t, args...)
	if r.code != 0 || r.stderr != "" {
		t.Errorf("after chattr -i: exit %d, stderr %q", r.code, r.stderr)
	}
	left = fileOf(t, db)
	for _, slug := range stale {
		if _, ok := left[slug]; ok {
			t.Errorf("row %s still there after the fault is gone", slug)
		}
		if f := files[slug]; f != "" {
			if _, err := os.Stat(filepath.Join(media, f)); err == nil {
				t.Errorf("file %s still there after the fault is gone", f)
			}
		}
	}
}

// fileOf returns slug -> stl_file for every row of the database at path.
func fileOf(t *testing.T, path string) map[string]string {
	t.Helper()
	return rowsOf(t, path, "stl_file")
}
