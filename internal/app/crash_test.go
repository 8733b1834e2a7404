package app

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// TestKillNine kills the real binary with SIGKILL at moments of a big
// cleanup that it picks from the progress it sees, so that the kill lands
// in the middle of the deletion on a slow or busy machine as well as on a
// fast one: by turns, once the stale count has dropped (right after a
// commit), and once a chosen stale row's file is gone (right after a
// removal). After every kill: every row still in the database has its
// file, and a file whose row is gone is listed in the journal. Then one
// run finishes the job, and no file is left whose row is gone.
//
// Removing a batch's files before its commit makes it fail: the second
// trigger then fires between the removal and the commit.
func TestKillNine(t *testing.T) {
	t.Parallel() // a real binary at work: it waits on the disk, the others can run meanwhile
	bin := binary(t)
	spec := dbtest.Spec{Rows: 12000, Stale: 8000, Recent: 200, Files: true}
	db, media := generated(t, t.TempDir(), spec)
	liveBefore := liveRows(t, db)
	args := func() []string {
		return []string{"--db", db, "--media-root", media, "--now", generatedNow.Format(time.RFC3339)}
	}

	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	midRun := 0
	for kill := 1; kill <= 12 && midRun < 4; kill++ {
		before := countStale(t, db)
		if before == 0 {
			db, media = generated(t, t.TempDir(), spec) // the runs finished it: start again
			before = countStale(t, db)
		}
		// A random point in the first half of what is left.
		target := before - 1 - rng.Int64N(before/2)
		file := staleFile(t, db, before-target)
		cmd := exec.Command(bin, args()...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		trigger := fmt.Sprintf("%d stale rows left", target)
		if kill%2 == 0 {
			waitForStale(t, db, target, exited)
		} else {
			trigger = file + " gone"
			waitForGone(filepath.Join(media, file), exited)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		after := countStale(t, db)
		if after < before && after > 0 {
			midRun++
		}
		t.Logf("kill %d at %s: stale rows %d -> %d", kill, trigger, before, after)
		checkCrashInvariants(t, db, media, liveBefore)
	}
	if midRun < 3 {
		t.Fatalf("only %d kills landed in the middle of the deletion; the test proves nothing", midRun)
	}

	r, err := exec.Command(bin, args()...).CombinedOutput()
	if err != nil {
		t.Fatalf("final run: %v: %s", err, r)
	}
	if n := countStale(t, db); n != 0 {
		t.Fatalf("%d stale rows left after the final run", n)
	}
	checkCrashInvariants(t, db, media, liveBefore)
	if got, want := filesIn(t, media), liveFiles(liveBefore); !slices.Equal(got, want) {
		t.Fatalf("after the final run, %d files are left; want exactly the %d files of live rows", len(got), len(want))
	}
	if _, err := os.Stat(db + ".cleanup-stale-pending"); !os.IsNotExist(err) {
		t.Fatalf("the journal is still there after the final run: %v", err)
	}
}

// waitForStale returns once the database at db has at most target stale
// rows, or once the process has exited.
func waitForStale(t *testing.T, db string, target int64, exited <-chan struct{}) {
	t.Helper()
	raw := openSQL(t, db)
	defer raw.Close()
	for {
		var n int64
		err := raw.QueryRow(`SELECT count(*) FROM submissions_submission WHERE ` + staleAtGenerated).Scan(&n)
		if err == nil && n <= target {
			return
		}
		select {
		case <-exited:
			return
		case <-time.After(time.Millisecond):
		}
	}
}

// waitForGone returns once the file at path is gone, or once the process
// has exited.
func waitForGone(path string, exited <-chan struct{}) {
	for {
		if _, err := os.Lstat(path); os.IsNotExist(err) {
			return
		}
		select {
		case <-exited:
			return
		case <-time.After(200 * time.Microsecond):
		}
	}
}

// staleFile returns the file of the n-th stale row, in id order (n from 1).
func staleFile(t *testing.T, db string, n int64) string {
	t.Helper()
	raw := openSQL(t, db)
	defer raw.Close()
	var f string
	err := raw.QueryRow(`SELECT stl_file FROM submissions_submission WHERE `+staleAtGenerated+` ORDER BY id LIMIT 1 OFFSET ?`, n-1).Scan(&f)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// staleAtGenerated is the stale predicate at generatedNow, 24 h.
const staleAtGenerated = `((status = 'identifying' AND created_at < '2026-11-24 12:00:00') OR (status = 'rejected' AND closed_at < '2026-11-24 12:00:00'))`

// liveRows renders every row that is not stale at generatedNow, every
// column.
func liveRows(t *testing.T, db string) map[string]string {
	t.Helper()
	return rowsOf(t, db, dbtest.AllColumns, `NOT `+staleAtGenerated)
}

func liveFiles(live map[string]string) []string {
	var out []string
	for slug := range live {
		out = append(out, "stl/2026/11/"+slug+".stl")
	}
	slices.Sort(out)
	return out
}

// filesIn lists the uploads under media, relative to it.
func filesIn(t *testing.T, media string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(media, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(media, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// checkCrashInvariants: every row in the database has its file (every
// row of a generated install has one); a file whose row is gone is listed
// in the journal, for the next run; every live row is exactly as it was;
// the database is not corrupt.
func checkCrashInvariants(t *testing.T, db, media string, liveBefore map[string]string) {
	t.Helper()
	raw := openSQL(t, db)
	defer raw.Close()
	var integrity string
	if err := raw.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %q, %v", integrity, err)
	}
	referenced := map[string]bool{}
	for slug, f := range dbtest.Files(t, raw) {
		referenced[f] = true
		if _, err := os.Stat(filepath.Join(media, f)); err != nil {
			t.Fatalf("row %s lost its file: %v", slug, err)
		}
	}
	journaled := map[string]bool{}
	for _, f := range journaledFiles(t, db+".cleanup-stale-pending") {
		journaled[f] = true
	}
	var orphans []string
	for _, f := range filesIn(t, media) {
		if !referenced[f] && !journaled[f] {
			orphans = append(orphans, f)
		}
	}
	if len(orphans) > 0 {
		t.Fatalf("%d files lost their rows and are not in the journal, e.g. %s", len(orphans), orphans[0])
	}
	live := liveRows(t, db)
	if fmt.Sprint(live) != fmt.Sprint(liveBefore) {
		t.Fatalf("live rows changed: %d now, %d before", len(live), len(liveBefore))
	}
}

// TestKillNineWhileFilesWait: the journal across the file grace. A run
// that leaves its files waiting (--file-grace 1h) is killed with SIGKILL
// in the middle of the deletion; every remaining row keeps its file, and
// every file whose row is gone is in the journal. A run started before the
// files are due deletes the rest and removes nothing: all the files wait,
// and it says how many. Then two runs at once, after the files are due
// (--file-grace 0 makes them due now): one removes them, the other leaves
// the work to it, both exit 0, and exactly the live rows' files are left,
// with no journal.
func TestKillNineWhileFilesWait(t *testing.T) {
	t.Parallel() // a real binary at work: it waits on the disk, the others can run meanwhile
	bin := binary(t)
	spec := dbtest.Spec{Rows: 8000, Stale: 5000, Files: true}
	var db, media string
	args := func(grace string) []string {
		return []string{"--db", db, "--media-root", media, "--now", generatedNow.Format(time.RFC3339),
			"--file-grace", grace, "--json", "--batch-size", "50"}
	}
	// Killed once a fifth of the stale rows is gone; a machine fast enough
	// to finish first gets a fresh install and another try.
	var left int64
	for try := 1; left == 0 || left == 5000; try++ {
		if try > 5 {
			t.Fatalf("in %d tries, no kill landed in the middle of the deletion", try-1)
		}
		db, media = generated(t, t.TempDir(), spec)
		cmd := exec.Command(bin, args("1h")...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		waitForStale(t, db, 4000, exited)
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		left = countStale(t, db)
	}
	liveBefore := liveRows(t, db)
	checkCrashInvariants(t, db, media, liveBefore)
	if got := len(filesIn(t, media)); got != 8000 {
		t.Fatalf("%d files after the kill, want all 8000: none was due", got)
	}

	out, err := exec.Command(bin, args("1h")...).Output()
	if err != nil {
		t.Fatalf("run before the files are due: %v: %s", err, out)
	}
	if !strings.Contains(string(out), fmt.Sprintf(`"deleted":%d,`, left)) || !strings.Contains(string(out), `"waiting":5000,`) ||
		!strings.Contains(string(out), `"pending":0,`) {
		t.Errorf("run before the files are due: %s", out)
	}
	checkCrashInvariants(t, db, media, liveBefore)
	if got := len(filesIn(t, media)); got != 8000 {
		t.Fatalf("%d files after a run before they were due, want all 8000", got)
	}

	var runs [2]*exec.Cmd
	var outs [2]strings.Builder
	for i := range runs {
		runs[i] = exec.Command(bin, args("0")...)
		runs[i].Stdout, runs[i].Stderr = &outs[i], &outs[i]
	}
	for _, r := range runs {
		if err := r.Start(); err != nil {
			t.Fatal(err)
		}
	}
	pending := 0
	for i, r := range runs {
		if err := r.Wait(); err != nil {
			t.Errorf("run %d of two at once: %v: %s", i, err, outs[i].String())
		}
		if strings.Contains(outs[i].String(), `"pending":5000,`) {
			pending++
		}
	}
	if pending != 1 {
		t.Errorf("%d runs of two at once finished the 5000 waiting files, want exactly 1:\n%s\n%s", pending, outs[0].String(), outs[1].String())
	}
	if got, want := filesIn(t, media), liveFiles(liveBefore); !slices.Equal(got, want) {
		t.Fatalf("after the files were due, %d files are left; want exactly the %d files of live rows", len(got), len(want))
	}
	if _, err := os.Stat(db + ".cleanup-stale-pending"); !os.IsNotExist(err) {
		t.Fatalf("the journal is still there: %v", err)
	}
}
