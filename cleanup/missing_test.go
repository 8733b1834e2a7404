package cleanup

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
	"github.com/cleanup-stale/cleanup-stale/store/storetest"
)

// TestMissingFilesCostNoScan: stale rows whose files are gone already (an
// install restored without its uploads, files removed by hand) are
// deleted without a scan of the table for rows that name them: a file
// that was not there when its row went is never removed, whatever is at
// its name later.
// With one of the files on disk, that one is asked about, in one scan,
// and goes. The survivors are exact either way.
func TestMissingFilesCostNoScan(t *testing.T) {
	for _, onDisk := range []int{0, 1} {
		t.Run(fmt.Sprintf("%d on disk", onDisk), func(t *testing.T) {
			old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			var rows []storetest.Row
			for i := range 6 {
				status := "identifying"
				if i%2 == 1 {
					status = "pending" // live: keeps its row and file
				}
				rows = append(rows, storetest.Row{Slug: fmt.Sprintf("s%d", i), Status: status,
					File: fmt.Sprintf("stl/2026/01/m%d.stl", i), Created: old})
			}
			counter, m, j := observe(t, rows...)
			media := afero.NewMemMapFs()
			onDiskFiles := []string{"stl/2026/01/m1.stl", "stl/2026/01/m3.stl", "stl/2026/01/m5.stl"} // the live rows'
			if onDisk == 1 {
				onDiskFiles = append(onDiskFiles, "stl/2026/01/m2.stl")
			}
			for _, f := range onDiskFiles {
				if err := afero.WriteFile(media, f, []byte("solid"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := Run(context.Background(), counter, media, j,
				Options{TTLHours: 24, Now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), FileGrace: None})
			if err != nil || rep.Deleted != 3 || len(rep.Failures) != 0 {
				t.Fatalf("Run = %+v, %v; want 3 deleted", rep, err)
			}
			if counter.scans != onDisk {
				t.Errorf("the gate scanned the table %d times, want %d", counter.scans, onDisk)
			}
			slugs, err := m.Slugs()
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"s1", "s3", "s5"}; !slices.Equal(slugs, want) {
				t.Errorf("rows left %v, want %v", slugs, want)
			}
			var files []string
			if err := afero.Walk(media, ".", func(p string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() {
					files = append(files, p)
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if want := []string{"stl/2026/01/m1.stl", "stl/2026/01/m3.stl", "stl/2026/01/m5.stl"}; !slices.Equal(files, want) {
				t.Errorf("files left %v, want %v", files, want)
			}
		})
	}
}

// TestMissingFilesPacedAsNoFile: after a batch that deleted rows whose
// files are there to remove, the run pauses long enough to hold the lock
// at most LockShare of the time; after one whose rows' files were gone
// already, it pauses as after rows without a file (Pause): such a run
// takes no removal's time, and 2M rows that name missing files took 7 s
// instead of 1 s.
func TestMissingFilesPacedAsNoFile(t *testing.T) {
	r := &runner{db: &sizingDB{DB: face(t), whole: true},
		opt: Options{Pause: 25 * time.Millisecond, LockShare: 0.08}}
	del := protocol.Deleted{Rows: []protocol.Submission{{ID: 1, File: "stl/a.stl"}, {ID: 2, File: "stl/b.stl"}},
		LockHeld: 80 * time.Millisecond}
	there := fs.BornBefore(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, tc := range []struct {
		ids  []fs.FileID
		want time.Duration
	}{
		{[]fs.FileID{fs.Missing, fs.Missing}, 25 * time.Millisecond},
		{[]fs.FileID{fs.Missing, there}, 920 * time.Millisecond},
		{nil, 25 * time.Millisecond},
	} {
		r.batch = attempt{}
		for i, id := range tc.ids {
			r.batch.entries = append(r.batch.entries, entry{path: del.Rows[i].File, id: id})
		}
		d := del
		if tc.ids == nil {
			d.Rows = nil
		}
		if got := r.pauseAfter(d); got != tc.want {
			t.Errorf("files %v: pause %v, want %v", tc.ids, got, tc.want)
		}
	}
}
