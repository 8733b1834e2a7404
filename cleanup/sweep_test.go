package cleanup_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/fs/fstest"
	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// sweepInstall: rows that use some files; old orphans; a fresh orphan (an
// upload whose row is not committed yet); an old orphan outside the upload
// directory; a row whose path is written non-canonically.
func sweepInstall(t *testing.T) (dsn string, media afero.Fs, now time.Time) {
	now = refNow
	dsn = dbtest.NewMemory(t)
	dbtest.Insert(t, dbtest.DB(t, dsn),
		dbtest.Row{Slug: "live", Status: "pending", Created: now, File: "stl/2026/11/live.stl"},
		dbtest.Row{Slug: "stale", Status: "identifying", Created: now.Add(-72 * time.Hour), File: "stl/2026/11/stale.stl"},
		dbtest.Row{Slug: "odd-path", Status: "done", Created: now, File: "stl//2026/./11/odd.stl"},
		dbtest.Row{Slug: "no-file", Status: "done", Created: now},
	)
	media = afero.NewMemMapFs()
	fstest.Write(t, media, "stl/2026/11/live.stl", "stl/2026/11/stale.stl", "stl/2026/11/odd.stl",
		"stl/2026/11/orphan-1.stl", "stl/2026/10/orphan-2.stl", "stl/deep/er/orphan-3.txt",
		"stl/2026/11/fresh.stl", "other/orphan-elsewhere.stl", "top-level.stl")
	old := now.Add(-48 * time.Hour)
	for _, f := range fstest.Files(t, media) {
		if err := media.Chtimes(f, old, old); err != nil {
			t.Fatal(err)
		}
	}
	fresh := now.Add(-time.Hour)
	if err := media.Chtimes("stl/2026/11/fresh.stl", fresh, fresh); err != nil {
		t.Fatal(err)
	}
	return dsn, media, now
}

var sweepKeeps = []string{"other/orphan-elsewhere.stl", "stl/2026/11/fresh.stl", "stl/2026/11/live.stl",
	"stl/2026/11/odd.stl", "stl/2026/11/stale.stl", "top-level.stl"}

// TestSweep removes exactly the old orphans under the upload directory
// (docs/design.md, Sweep), and a dry run lists exactly those and removes nothing.
func TestSweep(t *testing.T) {
	dsn, media, now := sweepInstall(t)
	orphans := []string{"stl/2026/10/orphan-2.stl", "stl/2026/11/orphan-1.stl", "stl/deep/er/orphan-3.txt"}
	before := fstest.Files(t, media)

	var listed []string
	opt := cleanup.SweepOptions{Now: now, Grace: 24 * time.Hour, UploadDir: "stl", DryRun: true,
		Orphan: func(p string) error { listed = append(listed, p); return nil }}
	rep, err := sweep(t, dbtest.Open(t, dsn, true), media, opt)
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "listed", sorted(listed), orphans)
	assertEqual(t, "files after the dry run", fstest.Files(t, media), before)
	assertEqual(t, "dry run counts", []int64{rep.Scanned, rep.Orphans, rep.Removed}, []int64{7, 3, 0})

	opt.DryRun, listed = false, nil
	rep, err = sweep(t, dbtest.Open(t, dsn, false), media, opt)
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "surviving files", fstest.Files(t, media), sweepKeeps)
	assertEqual(t, "counts", []int64{rep.Scanned, rep.Orphans, rep.Removed, rep.Failed}, []int64{7, 3, 3, 0})
}

// TestSweepGraceNone: with no grace (None), even the fresh orphan goes;
// what rows use still stays.
func TestSweepGraceNone(t *testing.T) {
	dsn, media, now := sweepInstall(t)
	opt := cleanup.SweepOptions{Now: now, Grace: cleanup.None, UploadDir: "stl"}
	if _, err := sweep(t, dbtest.Open(t, dsn, false), media, opt); err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "surviving files", fstest.Files(t, media), []string{"other/orphan-elsewhere.stl",
		"stl/2026/11/live.stl", "stl/2026/11/odd.stl", "stl/2026/11/stale.stl", "top-level.stl"})
}

// TestSweepRowAddedMeanwhile: a row that the web app commits during the
// sweep, naming an old file that looked orphaned, keeps it.
func TestSweepRowAddedMeanwhile(t *testing.T) {
	dsn, media, now := sweepInstall(t)
	opt := cleanup.SweepOptions{Now: now, Grace: 24 * time.Hour, UploadDir: "stl",
		Orphan: func(p string) error {
			if p == "stl/2026/11/orphan-1.stl" {
				dbtest.Insert(t, dbtest.DB(t, dsn), dbtest.Row{Slug: "relinked", Status: "pending", Created: now, File: p})
			}
			return nil
		}}
	rep, err := sweep(t, dbtest.Open(t, dsn, false), media, opt)
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "surviving files", fstest.Files(t, media), sorted(append([]string{"stl/2026/11/orphan-1.stl"}, sweepKeeps...)))
	assertEqual(t, "removed", rep.Removed, int64(2))
}

// TestSweepFailure: an orphan that cannot be removed is reported; the
// others still go.
func TestSweepFailure(t *testing.T) {
	dsn, media, now := sweepInstall(t)
	faulty := faultyFs{Fs: media, fail: map[string]syscall.Errno{"stl/2026/10/orphan-2.stl": syscall.EACCES}}
	opt := cleanup.SweepOptions{Now: now, Grace: 24 * time.Hour, UploadDir: "stl"}
	rep, err := sweep(t, dbtest.Open(t, dsn, false), faulty, opt)
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "surviving files", fstest.Files(t, media), sorted(append([]string{"stl/2026/10/orphan-2.stl"}, sweepKeeps...)))
	assertEqual(t, "counts", []int64{rep.Orphans, rep.Removed, rep.Failed}, []int64{3, 2, 1})
	assertEqual(t, "failure", rep.Failures[0].Path, "stl/2026/10/orphan-2.stl")
}
