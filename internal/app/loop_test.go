package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/store"
)

// TestLoop: --every runs at once, then again and again: a later tick
// catches a row that went stale after the first one, a tick that fails
// (the lock held past --busy-timeout) is logged and the loop goes on, and
// cancelling (what SIGTERM does) ends it with exit 0. With --json every
// tick prints one line.
func TestLoop(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	release := holdWriteLock(t, db)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int)
	go func() {
		done <- Run(ctx, []string{"cleanup-stale", "--db", db, "--media-root", media, "--ttl-hours", "0",
			"--every", "1s", "--busy-timeout", "100ms", "--json"}, &out, &errOut)
	}()

	waitFor(t, "a failed tick to be logged", func() bool { return strings.Contains(errOut.String(), "retrying at the next tick") })
	release()
	waitFor(t, "a tick that deletes", func() bool { return regexp.MustCompile(`"deleted":[1-9]`).MatchString(out.String()) })
	// With --ttl-hours 0 the cutoff is the clock itself: a guest who came
	// a moment ago is stale at the next tick, which takes it alone.
	execSQL(t, db, `INSERT INTO submissions_submission (slug, status, email, stl_file, created_at)
VALUES ('late-guest', 'identifying', 'g@x', '', '`+store.FormatTime(time.Now())+`')`)
	waitFor(t, "the late guest to go", func() bool { _, ok := slugStatuses(t, db)["late-guest"]; return !ok })
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after cancel; stderr %q", code, errOut.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the loop did not stop within 5 s of the cancel")
	}

	var deleted int64
	var busy []int64 // ticks that deleted something
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var tick struct{ Deleted int64 }
		if err := json.Unmarshal([]byte(line), &tick); err != nil {
			t.Fatalf("tick line %q: %v", line, err)
		}
		deleted += tick.Deleted
		if tick.Deleted > 0 {
			busy = append(busy, tick.Deleted)
		}
	}
	// The first tick that got the lock took every row stale by then; a
	// later one took the late guest alone.
	if len(busy) != 2 || busy[1] != 1 {
		t.Errorf("ticks that deleted something: %v, want [N 1]", busy)
	}
	if lost := int64(412 - countRows(t, db)); deleted != lost {
		t.Errorf("ticks deleted %d rows in all, the database lost %d", deleted, lost)
	}
}

// TestLoopThroughConfigErrors: a configuration error that a run finds
// does not end the loop (a sidecar that exits on it only crash-loops): each
// tick logs it, the monitor hears of it as exit 2, health is unhealthy,
// and the first tick after it is fixed does the work. An error on the command
// line still ends the loop before it starts, with exit 2.
func TestLoopThroughConfigErrors(t *testing.T) {
	runCLI(t, "--db", filepath.Join(t.TempDir(), "nope.sqlite3"), "--every", "1s", "--batch-size", "0").
		wantOneLineError(t, 2, "--batch-size 0: must be at least 1")

	m := newMonitor(t)
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	later := filepath.Join(dir, "media-later") // a volume not mounted yet
	if err := os.Rename(media, later); err != nil {
		t.Fatal(err)
	}
	loop := func(ctx context.Context, db string) (*syncBuffer, chan int) {
		var errOut syncBuffer
		done := make(chan int, 1)
		go func() {
			done <- Run(ctx, []string{"cleanup-stale", "--db", db, "--media-root", media, "--now", refNow, "--every", "1s",
				"--ping-url", m.url()}, io.Discard, &errOut)
		}()
		return &errOut, done
	}
	stop := func(cancel context.CancelFunc, done chan int, errOut *syncBuffer) {
		t.Helper()
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("exit %d after cancel; stderr %q", code, errOut.String())
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the loop did not stop within 10 s of the cancel")
		}
	}
	logged := func(errOut *syncBuffer, what string) func() bool {
		return func() bool {
			return strings.Count(errOut.String(), "msg=\"run failed; retrying at the next tick\" error=\""+what) >= 2
		}
	}

	// No database yet (the web app has not created it): no state file can
	// be found without it, but the log and the monitor say why.
	ctx, cancel := context.WithCancel(context.Background())
	errOut, done := loop(ctx, filepath.Join(dir, "later.sqlite3"))
	waitFor(t, "two ticks to fail", logged(errOut, "database not found"))
	stop(cancel, done, errOut)
	pings := m.take()
	if len(pings) < 4 || len(pings)%2 != 0 {
		t.Fatalf("pings %q", pings)
	}
	for i := 0; i < len(pings); i += 2 {
		if pings[i] != "POST /ping/"+secretUUID+"/start" || !strings.HasPrefix(pings[i+1], "POST /ping/"+secretUUID+"/2 exit 2: database not found") {
			t.Errorf("pings %d and %d: %q", i, i+1, pings[i:i+2])
		}
	}

	// The database, but no MEDIA_ROOT yet.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	errOut, done = loop(ctx, db)
	waitFor(t, "two ticks to fail", logged(errOut, "MEDIA_ROOT not usable"))
	// No run has worked on this install yet: the failures create no state
	// file (TestHealthStateFile has one that a failure updates).
	runCLI(t, "--db", db, "health", "--max-age", "1h").wantOneLineError(t, 1, "unhealthy: no run recorded yet")
	if err := os.Rename(later, media); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a tick to clean up", func() bool { return countRows(t, db) == 411-66 })
	waitFor(t, "health to see it", func() bool { return runCLI(t, "--db", db, "health", "--max-age", "1h").code == 0 })
	stop(cancel, done, errOut)
	if n := len(readLines(t, filepath.Join(repo, "testdata", "reference", "expected-deleted-ttl24.txt"))); 411-countRows(t, db) != n {
		t.Errorf("%d rows deleted, want %d", 411-countRows(t, db), n)
	}
	var deleted, failed int
	for i, p := range m.take() {
		switch {
		case i%2 == 0 && p != "POST /ping/"+secretUUID+"/start":
			t.Errorf("ping %d: %q, want a start", i, p)
		case strings.HasPrefix(p, "POST /ping/"+secretUUID+"/2 exit 2: MEDIA_ROOT not usable"):
			if deleted > 0 {
				t.Errorf("ping %d: a failure after the success: %q", i, p)
			}
			failed++
		case strings.HasPrefix(p, "POST /ping/"+secretUUID+" exit 0: 66 stale, 66 deleted"):
			deleted++
		case i%2 == 1 && p != "POST /ping/"+secretUUID+" exit 0: 0 stale, 0 deleted, 0 left behind, 0 pending finished":
			t.Errorf("ping %d: %q", i, p)
		}
	}
	if failed < 2 || deleted != 1 {
		t.Errorf("%d failed ticks, %d that deleted; want at least 2, and 1", failed, deleted)
	}
}

// TestSIGTERM: the real binary, looping, exits 0 promptly on SIGTERM.
func TestSIGTERM(t *testing.T) {
	bin := binary(t)
	dir := install(t)
	cmd := exec.Command(bin, "--db", filepath.Join(dir, "db.sqlite3"), "--media-root", filepath.Join(dir, "media"),
		"--now", refNow, "--every", "1h")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The tick has ended once it has printed its report; its rows gone
	// from the database are not yet the end of it.
	waitFor(t, "the first tick", func() bool { return strings.HasSuffix(out.String(), " older than 24 h.\n") })
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	if err != nil {
		t.Errorf("after SIGTERM: %v; output %q", err, out.String())
	}
	if took := time.Since(start); took > time.Minute { // the next tick is an hour away
		t.Errorf("took %v to stop", took)
	}
	if out.String() != "Deleted 66 stale submission(s) older than 24 h.\n" {
		t.Errorf("output %q", out.String())
	}
}

// TestSIGTERMWhileLocked: SIGTERM ends the wait for a lock that the web
// app holds, at once, with exit 0 and nothing changed.
func TestSIGTERMWhileLocked(t *testing.T) {
	bin := binary(t)
	dir := install(t)
	db := filepath.Join(dir, "db.sqlite3")
	// Fingerprint first: reading the file in this process would drop the
	// lock's POSIX record locks (closing any descriptor of a file does).
	before := fingerprint(t, dir)
	holdWriteLock(t, db)
	cmd := exec.Command(bin, "--db", db, "--media-root", filepath.Join(dir, "media"), "--now", refNow,
		"--every", "1h", "--busy-timeout", "10m")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A batch's files are journaled, and fsynced, just before its write
	// transaction begins: once the journal lists them, the run is at the
	// lock. (An open journal is not enough: a run opens it long before its
	// first batch, and a stop there would prove nothing about the wait.)
	waitFor(t, "the run to journal its first batch", journalListsAFile(db+".cleanup-stale-pending"))
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("after SIGTERM: %v; output %q", err, out.String())
	}
	if took := time.Since(start); took > time.Minute { // the lock's wait would last 10 minutes
		t.Errorf("took %v to stop while waiting for the lock", took)
	}
	if strings.Contains(out.String(), "error") || strings.Contains(out.String(), "canceled") {
		t.Errorf("a clean stop logged an error: %q", out.String())
	}
	if after := fingerprint(t, dir); after != before {
		t.Errorf("the install changed:\n%s\n%s", before, after)
	}
}

// journalListsAFile reports, as a condition for waitFor, whether the
// journal at path has a whole "file" line: a run has journaled a batch
// and is about to begin its write transaction. A line still being
// appended does not count.
func journalListsAFile(path string) func() bool {
	return func() bool {
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		whole := b[:bytes.LastIndexByte(b, '\n')+1]
		return bytes.HasPrefix(whole, []byte("file ")) || bytes.Contains(whole, []byte("\nfile "))
	}
}
