package app

import (
	"bytes"
	"context"
	"encoding/json"
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

// TestLoopConfigError: a configuration error ends the loop at once, with
// exit 2.
func TestLoopConfigError(t *testing.T) {
	start := time.Now()
	r := runCLI(t, "--db", filepath.Join(t.TempDir(), "nope.sqlite3"), "--every", "1s")
	r.wantOneLineError(t, 2, "database not found")
	if time.Since(start) > 2*time.Second {
		t.Error("the loop kept going after a configuration error")
	}
}

// TestSIGTERM: the real binary, looping, exits 0 promptly on SIGTERM.
func TestSIGTERM(t *testing.T) {
	bin := binary(t)
	dir := install(t)
	cmd := exec.Command(bin, "--db", filepath.Join(dir, "db.sqlite3"), "--media-root", filepath.Join(dir, "media"),
		"--now", refNow, "--every", "1h")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first tick", func() bool { return countRows(t, filepath.Join(dir, "db.sqlite3")) == 411-66 })
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
	// The run has the database open, so it is waiting for the lock (the
	// journal is opened after the database, and before the first batch).
	waitFor(t, "the run to open its journal", func() bool { return hasOpen(cmd.Process.Pid, db+".cleanup-stale-pending") })
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
