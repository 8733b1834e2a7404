package cleanup_test

import (
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/fs/fstest"
	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// TestStaleBoundaries holds the staleness rule (docs/design.md) to the microsecond: strictly before the
// cutoff is stale, at the cutoff is not; a NULL closed_at never matches;
// other statuses are never touched, however old.
func TestStaleBoundaries(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cutoff := now.Add(-24 * time.Hour)
	us := time.Microsecond
	old := cutoff.Add(-30 * 24 * time.Hour)
	rows := []dbtest.Row{
		{Slug: "ident-before-1us", Status: "identifying", Created: cutoff.Add(-us)},
		{Slug: "ident-at-cutoff", Status: "identifying", Created: cutoff},
		{Slug: "ident-after-1us", Status: "identifying", Created: cutoff.Add(us)},
		{Slug: "ident-before-1s", Status: "identifying", Created: cutoff.Add(-time.Second)},
		{Slug: "ident-old-closed-recently", Status: "identifying", Created: old, Closed: now},
		{Slug: "rej-before-1us", Status: "rejected", Created: old, Closed: cutoff.Add(-us)},
		{Slug: "rej-at-cutoff", Status: "rejected", Created: old, Closed: cutoff},
		{Slug: "rej-after-1us", Status: "rejected", Created: old, Closed: cutoff.Add(us)},
		{Slug: "rej-null-closed", Status: "rejected", Created: old},
		{Slug: "rej-created-recently-closed-old", Status: "rejected", Created: now, Closed: old},
		{Slug: "pending-old", Status: "pending", Created: old, Closed: old},
		{Slug: "accepted-old", Status: "accepted", Created: old, Closed: old},
		{Slug: "printing-old", Status: "printing", Created: old, Closed: old},
		{Slug: "done-old", Status: "done", Created: old, Closed: old},
		{Slug: "unknown-status-old", Status: "archived", Created: old, Closed: old},
		{Slug: "uppercase-status-old", Status: "REJECTED", Created: old, Closed: old},
	}
	for i := range rows {
		rows[i].File = "stl/2026/11/" + rows[i].Slug + ".stl"
	}
	stale := []string{"ident-before-1us", "ident-before-1s", "ident-old-closed-recently", "rej-before-1us", "rej-created-recently-closed-old"}

	dsn := dbtest.NewMemory(t)
	dbtest.Insert(t, dbtest.DB(t, dsn), rows...)
	media := afero.NewMemMapFs()
	var all, files, staleFiles []string
	for _, r := range rows {
		all, files = append(all, r.Slug), append(files, r.File)
	}
	for _, s := range stale {
		staleFiles = append(staleFiles, "stl/2026/11/"+s+".stl")
	}
	fstest.Write(t, media, files...)

	rep, err := run(t, dbtest.Open(t, dsn, false), media, fast(24, now))
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "surviving rows", remaining(t, dsn), without(all, stale))
	assertEqual(t, "surviving files", fstest.Files(t, media), without(files, staleFiles))
	assertEqual(t, "deleted", rep.Deleted, int64(len(stale)))
}

// TestTTLZeroAndFractionalNow: ttl 0 makes the cutoff now itself, and a
// --now with microseconds is honoured to the microsecond.
func TestTTLZeroAndFractionalNow(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 500000000, time.UTC) // .5 s
	dsn := dbtest.NewMemory(t)
	dbtest.Insert(t, dbtest.DB(t, dsn),
		dbtest.Row{Slug: "before", Status: "identifying", Created: now.Add(-time.Microsecond)},
		dbtest.Row{Slug: "at", Status: "identifying", Created: now},
		dbtest.Row{Slug: "whole-second-before", Status: "identifying", Created: now.Truncate(time.Second)},
	)
	if _, err := run(t, dbtest.Open(t, dsn, false), afero.NewMemMapFs(), fast(0, now)); err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "surviving rows", remaining(t, dsn), []string{"at"})
}

// TestSharedFiles: a file that a live row still uses stays (invariant 4 in docs/design.md);
// a file that only deleted rows used goes, even when they were deleted in
// different transactions.
func TestSharedFiles(t *testing.T) {
	now := refNow
	old := now.Add(-48 * time.Hour)
	dsn := dbtest.NewMemory(t)
	dbtest.Insert(t, dbtest.DB(t, dsn),
		dbtest.Row{Slug: "stale-a", Status: "identifying", Created: old, File: "stl/shared-live.stl"},
		dbtest.Row{Slug: "live-b", Status: "pending", Created: old, File: "stl/shared-live.stl"},
		dbtest.Row{Slug: "stale-c", Status: "identifying", Created: old, File: "stl/shared-stale.stl"},
		dbtest.Row{Slug: "filler-1", Status: "identifying", Created: old},
		dbtest.Row{Slug: "filler-2", Status: "identifying", Created: old},
		dbtest.Row{Slug: "stale-d", Status: "rejected", Created: old, Closed: old, File: "stl/shared-stale.stl"},
		dbtest.Row{Slug: "stale-e", Status: "rejected", Created: old, Closed: old, File: "stl/own.stl"},
		dbtest.Row{Slug: "live-f", Status: "rejected", Created: old, Closed: now, File: "stl/shared-recent-reject.stl"},
		dbtest.Row{Slug: "stale-g", Status: "rejected", Created: old, Closed: old, File: "stl/shared-recent-reject.stl"},
		// The same file, spelled two ways.
		dbtest.Row{Slug: "stale-h", Status: "identifying", Created: old, File: "stl//./spelled.stl"},
		dbtest.Row{Slug: "live-i", Status: "done", Created: old, Closed: old, File: "stl/spelled.stl"},
	)
	media := afero.NewMemMapFs()
	fstest.Write(t, media, "stl/shared-live.stl", "stl/shared-stale.stl", "stl/own.stl", "stl/shared-recent-reject.stl", "stl/spelled.stl")

	opt := fast(24, now)
	opt.BatchSize = 1 // stale-c and stale-d land in different transactions
	if _, err := run(t, dbtest.Open(t, dsn, false), media, opt); err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "surviving rows", remaining(t, dsn), []string{"live-b", "live-f", "live-i"})
	assertEqual(t, "surviving files", fstest.Files(t, media), []string{"stl/shared-live.stl", "stl/shared-recent-reject.stl", "stl/spelled.stl"})
}

// TestRowAddedDuringRun: a row that the web app adds after the run has
// scanned for shared files, and that uses the file of a stale row not yet
// deleted, keeps that file.
func TestRowAddedDuringRun(t *testing.T) {
	old := refNow.Add(-48 * time.Hour)
	dsn := dbtest.NewMemory(t)
	raw := dbtest.DB(t, dsn)
	dbtest.Insert(t, raw,
		dbtest.Row{Slug: "stale-1", Status: "identifying", Created: old, File: "stl/1.stl"},
		dbtest.Row{Slug: "stale-2", Status: "identifying", Created: old, File: "stl/2.stl"},
		dbtest.Row{Slug: "stale-3", Status: "identifying", Created: old, File: "stl/3.stl"},
	)
	media := afero.NewMemMapFs()
	fstest.Write(t, media, "stl/1.stl", "stl/2.stl", "stl/3.stl")
	opt := fast(24, refNow)
	opt.BatchSize = 1
	added := false
	opt.Progress = func(*cleanup.Report) {
		if !added { // between the first and the second transaction
			dbtest.Insert(t, raw, dbtest.Row{Slug: "new-live", Status: "pending", Created: refNow, File: "stl/3.stl"})
			added = true
		}
	}
	if _, err := run(t, dbtest.Open(t, dsn, false), media, opt); err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "surviving rows", remaining(t, dsn), []string{"new-live"})
	assertEqual(t, "surviving files", fstest.Files(t, media), []string{"stl/3.stl"})
}

// TestMissingFileIsRemoved: a row whose file is already gone is deleted
// like any other (invariant 2 in docs/design.md), with no failure.
func TestMissingFileIsRemoved(t *testing.T) {
	old := refNow.Add(-48 * time.Hour)
	dsn := dbtest.NewMemory(t)
	dbtest.Insert(t, dbtest.DB(t, dsn),
		dbtest.Row{Slug: "gone-file", Status: "identifying", Created: old, File: "stl/never-there.stl"},
		dbtest.Row{Slug: "gone-dir", Status: "identifying", Created: old, File: "stl/no/such/dir.stl"},
	)
	rep, err := run(t, dbtest.Open(t, dsn, false), afero.NewMemMapFs(), fast(24, refNow))
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "surviving rows", remaining(t, dsn), []string(nil))
	assertEqual(t, "deleted, failed", []int64{rep.Deleted, rep.Failed}, []int64{2, 0})
}
