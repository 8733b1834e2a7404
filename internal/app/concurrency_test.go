package app

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// TestTwoRunsAtOnce: a timer run and a hand run on one database both exit
// 0, each stale row is deleted exactly once, and their "Deleted N" add up
// to the stale total (invariant 9 in docs/design.md).
func TestTwoRunsAtOnce(t *testing.T) {
	bin := binary(t)
	db, media := generated(t, t.TempDir(), dbtest.Spec{Rows: 12000, Stale: 8000, Recent: 50, Files: true})
	liveBefore := liveRows(t, db)
	args := []string{"--db", db, "--media-root", media, "--now", generatedNow.Format(time.RFC3339), "--batch-size", "200"}

	var outs [2]bytes.Buffer
	var cmds [2]*exec.Cmd
	for i := range cmds {
		cmds[i] = exec.Command(bin, args...)
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], &outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	total := 0
	deleted := regexp.MustCompile(`^Deleted (\d+) stale submission\(s\) older than 24 h\.\n$`)
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("run %d: %v: %s", i, err, outs[i].String())
		}
		out := outs[i].String()
		if out == "" || strings.Contains(out, "leaving the work to the run that is active") && strings.Count(out, "\n") == 1 {
			continue // the other run took everything, or left it to the other
		}
		m := deleted.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("run %d printed %q", i, out)
		}
		n, _ := strconv.Atoi(m[1])
		total += n
		t.Logf("run %d deleted %d", i, n)
	}
	if total != 8000 {
		t.Errorf("the runs deleted %d rows together, want 8000", total)
	}
	if n := countStale(t, db); n != 0 {
		t.Errorf("%d stale rows left", n)
	}
	checkCrashInvariants(t, db, media, liveBefore)
}

// TestTwoRunsAfterACrash: a crashed run left files in its journal; two
// runs start at once. Both exit 0, every stale row and every journaled
// file goes exactly once, live rows and their files stay, and no journal
// is left.
func TestTwoRunsAfterACrash(t *testing.T) {
	bin := binary(t)
	db, media := generated(t, t.TempDir(), dbtest.Spec{Rows: 6000, Stale: 3000, Recent: 50, Files: true})
	liveBefore := liveRows(t, db)
	// The crashed run had deleted the first 100 stale rows.
	var gone []string
	for n := int64(1); n <= 100; n++ {
		gone = append(gone, staleFile(t, db, 1))
		execSQL(t, db, `DELETE FROM submissions_submission WHERE id = (SELECT id FROM submissions_submission WHERE `+staleAtGenerated+` ORDER BY id LIMIT 1)`)
	}
	crashJournal(t, db+".cleanup-stale-pending", media, gone...)
	args := []string{"--db", db, "--media-root", media, "--now", generatedNow.Format(time.RFC3339)}
	var outs [2]bytes.Buffer
	var cmds [2]*exec.Cmd
	for i := range cmds {
		cmds[i] = exec.Command(bin, args...)
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], &outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("run %d: %v: %s", i, err, outs[i].String())
		}
		t.Logf("run %d: %s", i, strings.TrimSpace(outs[i].String()))
	}
	if n := countStale(t, db); n != 0 {
		t.Errorf("%d stale rows left", n)
	}
	checkCrashInvariants(t, db, media, liveBefore)
	if got, want := filesIn(t, media), liveFiles(liveBefore); !slices.Equal(got, want) {
		t.Errorf("%d files left, want exactly the %d files of live rows", len(got), len(want))
	}
	if _, err := os.Stat(db + ".cleanup-stale-pending"); !os.IsNotExist(err) {
		t.Errorf("the journal is still there: %v", err)
	}
}

// TestHeldLock: while another connection holds the write lock for longer
// than --busy-timeout, the run waits about that long, then fails with one
// line that says so, exit 1, and nothing changed. With a longer
// --busy-timeout it waits and succeeds.
func TestHeldLock(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	// Fingerprint first: reading the file in this process would drop the
	// lock's POSIX record locks (closing any descriptor of a file does).
	before := fingerprint(t, dir)
	release := holdWriteLock(t, db)

	start := time.Now()
	r := runCLI(t, "--db", db, "--media-root", media, "--now", refNow, "--busy-timeout", "300ms")
	waited := time.Since(start)
	r.wantOneLineError(t, 1, "locked", "--busy-timeout 300ms")
	if waited < 250*time.Millisecond {
		t.Errorf("gave up after %v, before --busy-timeout", waited)
	}
	if fingerprint(t, dir) != before {
		t.Error("the install changed")
	}

	// Released once the run is at the lock (its first batch journaled),
	// not after a pause: the run must be waiting when the lock comes free.
	ran := make(chan result, 1)
	go func() { ran <- runCLI(t, "--db", db, "--media-root", media, "--now", refNow, "--busy-timeout", "1m") }()
	waitFor(t, "the run to journal its first batch", journalListsAFile(db+".cleanup-stale-pending"))
	release()
	r = <-ran
	if r.code != 0 || r.stdout != "Deleted 66 stale submission(s) older than 24 h.\n" {
		t.Errorf("with a longer timeout: exit %d, %q, %q", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr, "locked") {
		t.Errorf("stderr: %q", r.stderr)
	}
}
