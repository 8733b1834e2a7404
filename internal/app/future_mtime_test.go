package app

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// A file's modification time can be set to anything (touch -d 2030). It
// must not decide whether a file whose row is gone goes (docs/journal.md,
// docs/guarantees.md), and it must not hide an orphan from the sweep for ever.

// future is where touch -d 2030-01-01 puts a file.
var future = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// touchAll sets the times of every file under dir to t.
func touchAll(tb testing.TB, dir string, t time.Time) {
	tb.Helper()
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			err = os.Chtimes(p, t, t)
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// TestFutureMtimesAfterKill: a run is killed with files waiting in the
// journal, then every file is touched into 2030. The next run with
// --file-grace 0 removes every file whose row is gone (exit 0, nothing
// failed), and keeps exactly the files of live rows.
func TestFutureMtimesAfterKill(t *testing.T) {
	t.Parallel() // a real binary at work: it waits on the disk, the others can run meanwhile
	dir := t.TempDir()
	db, media := generated(t, dir, dbtest.Spec{Rows: 3000, Stale: 2000, Recent: 100, Files: true})
	liveBefore := liveRows(t, db)
	args := []string{"--db", db, "--media-root", media, "--now", generatedNow.Format(time.RFC3339)}
	killAfterProgress(t, db, 100, slices.Concat(args, slowRun, []string{"--file-grace", "1h"})...)
	if len(journaledFiles(t, db+".cleanup-stale-pending")) == 0 {
		t.Fatal("the killed run left nothing in the journal; the test proves nothing")
	}
	touchAll(t, media, future)

	r := runCLI(t, append(args, "--file-grace", "0", "--json")...)
	if rep := parseReport(t, r); r.code != 0 || rep.Failed != 0 || rep.Pending == 0 {
		t.Errorf("run after the touch: exit %d, %+v, stderr %q", r.code, rep, r.stderr)
	}
	if got, want := filesIn(t, media), liveFiles(liveBefore); !slices.Equal(got, want) {
		t.Errorf("%d files left; want exactly the %d files of live rows", len(got), len(want))
	}
	if _, err := os.Lstat(db + ".cleanup-stale-pending"); !os.IsNotExist(err) {
		t.Errorf("the journal is still there: %v", err)
	}
}

// TestSweepSeesFutureOrphans: the sweep spares a file only while its time
// is within --grace of now, on either side. An orphan touched into 2030
// is listed and removed like an old one; an orphan a few minutes ahead
// (a server clock that runs fast) is spared within a grace of an hour,
// and a referenced file is kept whatever its time.
func TestSweepSeesFutureOrphans(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	touchAll(t, media, future) // referenced files too
	writeFiles(t, media, "stl/2026/11/orphan-old.stl")
	writeFiles(t, media, "stl/2026/11/orphan-2030.stl", "stl/2026/11/orphan-ahead.stl")
	if err := os.Chtimes(filepath.Join(media, "stl/2026/11/orphan-2030.stl"), future, future); err != nil {
		t.Fatal(err)
	}
	ahead := time.Now().Add(10 * time.Minute)
	if err := os.Chtimes(filepath.Join(media, "stl/2026/11/orphan-ahead.stl"), ahead, ahead); err != nil {
		t.Fatal(err)
	}
	referenced := filesIn(t, media)

	r := runCLI(t, "sweep", "--db", db, "--media-root", media, "--grace", "1s", "--dry-run")
	if r.code != 0 || r.stderr != "" || sortedLines(r.stdout) != " - stl/2026/11/orphan-2030.stl\n - stl/2026/11/orphan-ahead.stl\n - stl/2026/11/orphan-old.stl\n"+
		"DRY RUN: would remove 3 orphan file(s) older than 1s in stl.\n" {
		t.Errorf("sweep --grace 1s --dry-run: exit %d, stdout:\n%s\nstderr %q", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, "sweep", "--db", db, "--media-root", media, "--grace", "1h")
	if r.code != 0 || r.stdout != "Removed 2 orphan file(s) older than 1h in stl.\n" {
		t.Errorf("sweep --grace 1h: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	var want []string
	for _, f := range referenced {
		if f != "stl/2026/11/orphan-2030.stl" && f != "stl/2026/11/orphan-old.stl" {
			want = append(want, f)
		}
	}
	if got := filesIn(t, media); !slices.Equal(got, want) {
		t.Errorf("%d files left, want %d: %q", len(got), len(want), got)
	}
}

// TestFutureMtimesOfJournaledFiles: files that a journal lists, due, and
// touched into 2030, go if no row names them, whatever their time says;
// a listed file that a row still names stays.
func TestFutureMtimesOfJournaledFiles(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	journal := db + ".cleanup-stale-pending"
	orphans := []string{"stl/2026/11/gone-1.stl", "stl/2026/11/gone-2.stl"}
	kept := "stl/2026/11/s7-0000001.stl" // an accepted row's
	writeFiles(t, media, orphans...)
	hourAgo := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano)
	writeJournal(t, journal, media, hourAgo, hourAgo, append(orphans, kept)...)
	touchAll(t, media, future)
	before := filesIn(t, media)

	r := runCLI(t, "--db", db, "--media-root", media, "--ttl-hours", "87600", "--file-grace", "0", "--json")
	if rep := parseReport(t, r); r.code != 0 || rep.Pending != 3 || rep.Failed != 0 || r.stderr != "" {
		t.Errorf("exit %d, %+v, stderr %q", r.code, rep, r.stderr)
	}
	want := slices.DeleteFunc(slices.Clone(before), func(f string) bool { return slices.Contains(orphans, f) })
	if got := filesIn(t, media); !slices.Equal(got, want) || !slices.Contains(got, kept) {
		t.Errorf("%d files left, want %d: every file but the orphans", len(got), len(want))
	}
	if _, err := os.Lstat(journal); !os.IsNotExist(err) {
		t.Errorf("the journal is still there: %v", err)
	}
}
