package cleanup_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/fs/fstest"
	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// TestSharedFilesWhenTheSetSpills: on a table larger than what a run
// holds in memory (here, a limit lowered to 256 hashes), the sets of
// every row's file spill to disk, and the shared files are kept exactly
// as they are in memory: by a run that removes files right after the
// commit, and by a run that finishes them when they are due.
func TestSharedFilesWhenTheSetSpills(t *testing.T) {
	now, old := refNow, refNow.Add(-48*time.Hour)
	rows := []dbtest.Row{
		{Slug: "stale-a", Status: "identifying", Created: old, File: "stl/shared-live.stl"},
		{Slug: "live-b", Status: "pending", Created: old, File: "stl/shared-live.stl"},
		{Slug: "stale-c", Status: "identifying", Created: old, File: "stl/shared-stale.stl"},
		{Slug: "stale-d", Status: "rejected", Created: old, Closed: old, File: "stl/shared-stale.stl"},
		{Slug: "stale-e", Status: "rejected", Created: old, Closed: old, File: "stl/own.stl"},
		{Slug: "stale-h", Status: "identifying", Created: old, File: "stl//./spelled.stl"},
		{Slug: "live-i", Status: "done", Created: old, Closed: old, File: "stl/spelled.stl"},
	}
	files := []string{"stl/shared-live.stl", "stl/shared-stale.stl", "stl/own.stl", "stl/spelled.stl"}
	live := []string{"live-b", "live-i"}
	for i := range 1000 {
		f := fmt.Sprintf("stl/live/%04d.stl", i)
		rows = append(rows, dbtest.Row{Slug: fmt.Sprintf("z-live-%04d", i), Status: "done", Created: old, Closed: old, File: f})
		files = append(files, f)
		live = append(live, fmt.Sprintf("z-live-%04d", i))
	}
	wantFiles := without(files, []string{"stl/shared-stale.stl", "stl/own.stl"})

	for _, grace := range []time.Duration{cleanup.None, time.Hour} {
		t.Run(fmt.Sprintf("grace %v", grace), func(t *testing.T) {
			dsn := dbtest.NewMemory(t)
			dbtest.Insert(t, dbtest.DB(t, dsn), rows...)
			media, jfs := afero.NewMemMapFs(), afero.NewMemMapFs()
			fstest.Write(t, media, files...)
			opt := fast(24, now)
			opt.FileGrace = grace
			cleanup.SetHashLimit(&opt, 256)
			if _, err := runJournaled(t, dbtest.Open(t, dsn, false), media, jfs, opt); err != nil {
				t.Fatal(err)
			}
			if grace > 0 {
				assertEqual(t, "files while they wait", len(fstest.Files(t, media)), len(files))
				opt.FileGrace = cleanup.None // the next run, once they are due
				if _, err := runJournaled(t, dbtest.Open(t, dsn, false), media, jfs, opt); err != nil {
					t.Fatal(err)
				}
			}
			assertEqual(t, "surviving rows", remaining(t, dsn), live)
			assertEqual(t, "surviving files", fstest.Files(t, media), wantFiles)
		})
	}
}
