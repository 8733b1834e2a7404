package cleanup_test

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	fsx "github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// referenceMedia writes the names of the reference install's uploads
// into media, and returns them.
func referenceMedia(t *testing.T, media testMedia) []string {
	t.Helper()
	dir := dbtest.Testdata(t, "reference", "media")
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		names = append(names, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	media.write(names...)
	return sorted(names)
}

// TestContractReference: on the database the web app wrote, every backend
// deletes exactly the rows that the web app's own command deletes, at TTL
// 24 and 1, removes exactly their files, and changes no other row.
func TestContractReference(t *testing.T) {
	everyBackend(t, func(t *testing.T, dbb dbBackend, mb mediaBackend) {
		for _, tc := range []struct {
			ttl      int
			expected string
		}{{24, "expected-deleted-ttl24.txt"}, {1, "expected-deleted-ttl1.txt"}} {
			db, media := dbb.reference(t), mb.new(t)
			files := referenceMedia(t, media)
			before := dbtest.Rows(t, db.raw, db.allColumns)
			fileOf := dbtest.Rows(t, db.raw, "stl_file")
			want := readLines(t, dbtest.Testdata(t, "reference", tc.expected))
			var all, gone []string
			for slug := range before {
				all = append(all, slug)
			}
			for _, slug := range want {
				gone = append(gone, fileOf[slug])
			}

			rep, err := run(t, db.open(false), media.fs, fast(tc.ttl, refNow))
			if err != nil {
				t.Fatal(err)
			}
			assertEqual(t, tc.expected+": surviving rows", db.slugs(t), without(all, want))
			assertEqual(t, tc.expected+": surviving files", media.files(), without(files, gone))
			for slug, row := range dbtest.Rows(t, db.raw, db.allColumns) {
				if row != before[slug] {
					t.Errorf("row %s changed:\n was %s\n now %s", slug, before[slug], row)
				}
			}
			assertEqual(t, tc.expected+": stale, deleted, failed", []int64{rep.Stale, rep.Deleted, rep.Failed},
				[]int64{int64(len(want)), int64(len(want)), 0})
		}
	})
}

// TestContractBoundaries: strictly before the cutoff is stale, to the
// microsecond; at the cutoff is not; a NULL closed_at never matches; no
// other status is touched, however old.
func TestContractBoundaries(t *testing.T) {
	cutoff := refNow.Add(-24 * time.Hour)
	us, old := time.Microsecond, cutoff.Add(-30*24*time.Hour)
	rows := []dbtest.Row{
		{Slug: "ident-before-1us", Status: "identifying", Created: cutoff.Add(-us)},
		{Slug: "ident-at-cutoff", Status: "identifying", Created: cutoff},
		{Slug: "ident-after-1us", Status: "identifying", Created: cutoff.Add(us)},
		{Slug: "rej-before-1us", Status: "rejected", Created: old, Closed: cutoff.Add(-us)},
		{Slug: "rej-at-cutoff", Status: "rejected", Created: old, Closed: cutoff},
		{Slug: "rej-null-closed", Status: "rejected", Created: old},
		{Slug: "done-old", Status: "done", Created: old, Closed: old},
		{Slug: "unknown-status-old", Status: "archived", Created: old, Closed: old},
	}
	stale := []string{"ident-before-1us", "rej-before-1us"}
	everyBackend(t, func(t *testing.T, dbb dbBackend, mb mediaBackend) {
		db, media := dbb.empty(t), mb.new(t)
		var all, files []string
		for i := range rows {
			rows[i].File = "stl/2026/11/" + rows[i].Slug + ".stl"
			all, files = append(all, rows[i].Slug), append(files, rows[i].File)
		}
		db.insert(rows...)
		media.write(files...)
		if _, err := run(t, db.open(false), media.fs, fast(24, refNow)); err != nil {
			t.Fatal(err)
		}
		assertEqual(t, "surviving rows", db.slugs(t), without(all, stale))
		assertEqual(t, "surviving files", media.files(),
			without(files, []string{"stl/2026/11/ident-before-1us.stl", "stl/2026/11/rej-before-1us.stl"}))
	})
}

// TestContractOverlongNames: a stale row whose file name no store can hold
// (an element of 5000 bytes, a path past PATH_MAX, a key past S3's 1024
// bytes) goes as a row whose file is missing goes, with no failure; the
// rows and files around it are as ever. PostgreSQL's varchar(100) holds no
// such row, so only SQLite is asked.
func TestContractOverlongNames(t *testing.T) {
	old := refNow.Add(-48 * time.Hour)
	element := "stl/" + strings.Repeat("a", 5000) + ".stl"
	deep := "stl/" + strings.Repeat(strings.Repeat("b", 200)+"/", 25) + "x.stl"
	everyBackend(t, func(t *testing.T, dbb dbBackend, mb mediaBackend) {
		if dbb.name != "sqlite" {
			return
		}
		db, media := dbb.empty(t), mb.new(t)
		db.insert(
			dbtest.Row{Slug: "stale-element", Status: "identifying", Created: old, File: element},
			dbtest.Row{Slug: "stale-deep", Status: "rejected", Created: old, Closed: old, File: deep},
			dbtest.Row{Slug: "stale-plain", Status: "identifying", Created: old, File: "stl/plain.stl"},
			dbtest.Row{Slug: "live", Status: "pending", Created: old, File: "stl/live.stl"},
		)
		media.write("stl/plain.stl", "stl/live.stl")
		rep, err := run(t, db.open(false), media.fs, fast(24, refNow))
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Failures) != 0 {
			t.Errorf("failures: %+v", rep.Failures)
		}
		assertEqual(t, "surviving rows", db.slugs(t), []string{"live"})
		assertEqual(t, "surviving files", media.files(), []string{"stl/live.stl"})
	})
}

// TestContractSharedFiles: a file that a row not being deleted still uses
// stays, however it is spelled; a file that only deleted rows used goes.
func TestContractSharedFiles(t *testing.T) {
	old := refNow.Add(-48 * time.Hour)
	everyBackend(t, func(t *testing.T, dbb dbBackend, mb mediaBackend) {
		db, media := dbb.empty(t), mb.new(t)
		db.insert(
			dbtest.Row{Slug: "stale-a", Status: "identifying", Created: old, File: "stl/shared-live.stl"},
			dbtest.Row{Slug: "live-b", Status: "pending", Created: old, File: "stl/shared-live.stl"},
			dbtest.Row{Slug: "stale-c", Status: "identifying", Created: old, File: "stl/shared-stale.stl"},
			dbtest.Row{Slug: "stale-d", Status: "rejected", Created: old, Closed: old, File: "stl/shared-stale.stl"},
			dbtest.Row{Slug: "stale-h", Status: "identifying", Created: old, File: "stl//./spelled.stl"},
			dbtest.Row{Slug: "live-i", Status: "done", Created: old, Closed: old, File: "stl/spelled.stl"},
		)
		media.write("stl/shared-live.stl", "stl/shared-stale.stl", "stl/spelled.stl")
		opt := fast(24, refNow)
		opt.BatchSize = 1
		if _, err := run(t, db.open(false), media.fs, opt); err != nil {
			t.Fatal(err)
		}
		assertEqual(t, "surviving rows", db.slugs(t), []string{"live-b", "live-i"})
		assertEqual(t, "surviving files", media.files(), []string{"stl/shared-live.stl", "stl/spelled.stl"})
	})
}

// TestContractFailures: rows with an unsafe path stay, named in the
// report, and nothing outside MEDIA_ROOT is touched; a file whose removal
// fails after its row was deleted stays in the journal, and the next run
// removes it.
func TestContractFailures(t *testing.T) {
	old := refNow.Add(-48 * time.Hour)
	everyBackend(t, func(t *testing.T, dbb dbBackend, mb mediaBackend) {
		db, media, jfs := dbb.empty(t), mb.new(t), afero.NewMemMapFs()
		db.insert(
			dbtest.Row{Slug: "ok", Status: "identifying", Created: old, File: "stl/ok.stl"},
			dbtest.Row{Slug: "eio", Status: "identifying", Created: old, File: "stl/eio.stl"},
			dbtest.Row{Slug: "dotdot", Status: "identifying", Created: old, File: "../outside.stl"},
			dbtest.Row{Slug: "absolute", Status: "identifying", Created: old, File: "/etc/hostname"},
			dbtest.Row{Slug: "live", Status: "pending", Created: old, File: "stl/live.stl"},
		)
		media.write("stl/ok.stl", "stl/eio.stl", "stl/live.stl")
		faulty := faultyFs{Fs: media.fs, fail: map[string]syscall.Errno{"stl/eio.stl": syscall.EIO}}
		rep, err := runJournaled(t, db.open(false), faulty, jfs, fast(24, refNow))
		if err != nil {
			t.Fatal(err)
		}
		assertEqual(t, "surviving rows", db.slugs(t), []string{"absolute", "dotdot", "live"})
		assertEqual(t, "surviving files", media.files(), []string{"stl/eio.stl", "stl/live.stl"})
		var failed []string
		for _, f := range rep.Failures {
			failed = append(failed, f.Slug+" "+f.Path)
		}
		assertEqual(t, "failures", sorted(failed), []string{"absolute /etc/hostname", "dotdot ../outside.stl", "eio stl/eio.stl"})

		if _, err := runJournaled(t, db.open(false), media.fs, jfs, fast(24, refNow)); err != nil {
			t.Fatal(err)
		}
		assertEqual(t, "surviving files after the fault", media.files(), []string{"stl/live.stl"})
	})
}

// TestContractDryRun: a dry run lists exactly what a real run deletes, in
// id order, through a read-only database and a read-only media store, and
// changes nothing; on S3 it sends no request that could.
func TestContractDryRun(t *testing.T) {
	everyBackend(t, func(t *testing.T, dbb dbBackend, mb mediaBackend) {
		db, media := dbb.reference(t), mb.new(t)
		files := referenceMedia(t, media)
		before := dbtest.Rows(t, db.raw, db.allColumns)
		writesBefore := media.writes()
		var listed []string
		_, err := cleanup.Preview(context.Background(), db.open(true), fsx.ReadOnly(media.fs), fast(24, refNow), cleanup.Listing{
			Start: func(*cleanup.Report) error { return nil },
			Row:   func(s store.Submission) error { listed = append(listed, s.Slug); return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		assertEqual(t, "listed", listed, readLines(t, dbtest.Testdata(t, "reference", "expected-deleted-ttl24.txt")))
		assertEqual(t, "rows after the dry run", dbtest.Rows(t, db.raw, db.allColumns), before)
		assertEqual(t, "files after the dry run", media.files(), files)
		assertEqual(t, "requests that may change something", media.writes()-writesBefore, 0)
	})
}

// TestContractTwoRunsAtOnce: two runs at once on the same database and
// media, each with its own journal (two hosts, say), delete each row at
// most once: together, exactly the stale rows and their files.
func TestContractTwoRunsAtOnce(t *testing.T) {
	old := refNow.Add(-48 * time.Hour)
	everyBackend(t, func(t *testing.T, dbb dbBackend, mb mediaBackend) {
		db, media := dbb.empty(t), mb.new(t)
		var rows []dbtest.Row
		var live, liveFiles, files []string
		for i := range 400 {
			r := dbtest.Row{Slug: fmt.Sprintf("s-%03d", i), Status: "identifying", Created: old, File: fmt.Sprintf("stl/%03d.stl", i)}
			if i%5 == 0 {
				r.Status = "pending"
				live, liveFiles = append(live, r.Slug), append(liveFiles, r.File)
			}
			rows, files = append(rows, r), append(files, r.File)
		}
		db.insert(rows...)
		media.write(files...)
		opt := fast(24, refNow)
		opt.BatchSize = 10
		var wg sync.WaitGroup
		reps := make([]*cleanup.Report, 2)
		for i := range reps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rep, err := run(t, db.open(false), media.fs, opt)
				if err != nil {
					t.Error(err)
				}
				reps[i] = rep
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		assertEqual(t, "deleted by both", reps[0].Deleted+reps[1].Deleted, int64(len(rows)-len(live)))
		assertEqual(t, "surviving rows", db.slugs(t), sorted(live))
		assertEqual(t, "surviving files", media.files(), sorted(liveFiles))
	})
}
