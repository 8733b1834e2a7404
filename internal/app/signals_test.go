package app

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// stopBound bounds the wait for a process that was told to stop. It is
// no measure of speed: in these tests the process cannot end by itself
// for far longer (an hour's tick, a ten-minute lock wait, a server that
// never answers), so only an ignored signal fails it.
const stopBound = 2 * time.Minute

// start starts cmd and returns a channel that yields its exit error once
// it has ended.
func start(t *testing.T, cmd *exec.Cmd) <-chan error {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})
	return exited
}

// waitExit waits for the process behind exited, and fails the test if it
// is still running after stopBound.
func waitExit(t *testing.T, cmd *exec.Cmd, exited <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-exited:
		return err
	case <-time.After(stopBound):
		cmd.Process.Kill()
		<-exited
		t.Fatalf("still running %s after %s: the signal was ignored", what, stopBound)
		return nil
	}
}

// TestSIGHUP: a hangup (the terminal closed, the session ended) stops a
// run as SIGTERM does: the run ends between two transactions, removes
// the files of what it committed, and exits 0. It used to kill the
// process (exit 129) with files left for the next run.
func TestSIGHUP(t *testing.T) {
	bin := binary(t)
	db, media := generated(t, t.TempDir(), dbtest.Spec{Rows: 6000, Stale: 4000, Recent: 50, Files: true})
	// Small transactions, so that the hangup lands in the middle of many.
	cmd := exec.Command(bin, "--db", db, "--media-root", media, "--now", generatedNow.Format(time.RFC3339),
		"--batch-size", "50", "--every", "1h")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	exited := start(t, cmd)
	waitFor(t, "the run to delete its first rows", func() bool { return countStale(t, db) < 4000 })
	cmd.Process.Signal(syscall.SIGHUP)
	if err := waitExit(t, cmd, exited, "after SIGHUP"); err != nil {
		t.Fatalf("after SIGHUP: %v; output %q", err, out.String())
	}
	// Every file whose row is gone has gone too: the stop finished the
	// removals of the committed batches, and left nothing pending.
	var want []string
	for _, f := range rowsOf(t, db, "stl_file") {
		want = append(want, f)
	}
	slices.Sort(want)
	if got := filesIn(t, media); !slices.Equal(got, want) {
		t.Errorf("%d files left for %d rows after SIGHUP; want exactly the rows' files", len(got), len(want))
	}
	if strings.Contains(out.String(), "level=ERROR") {
		t.Errorf("a hangup logged an error: %q", out.String())
	}
}

// holdExclusiveLock holds SQLite's exclusive lock on the database at path,
// as a web app does while it commits (in the rollback-journal mode that
// Django's default SQLite uses): no one may even read until release. The
// same caveat as holdWriteLock's applies.
func holdExclusiveLock(t *testing.T, path string) (release func()) {
	t.Helper()
	raw := openSQL(t, path)
	conn, err := raw.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			conn.ExecContext(context.Background(), "ROLLBACK")
			conn.Close()
			raw.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// TestSIGTERMWhileOpening: SIGTERM while the run waits at open for a
// database that the web app holds locked (the schema check cannot even
// read) is a stop, not a failure: exit 0, at most one line of
// information, nothing changed. It used to exit 1 with "context
// canceled".
func TestSIGTERMWhileOpening(t *testing.T) {
	bin := binary(t)
	for _, command := range [][]string{nil, {"stats"}, {"sweep", "--dry-run"}} {
		name := "cleanup"
		if command != nil {
			name = strings.Join(command, " ")
		}
		t.Run(name, func(t *testing.T) {
			dir := install(t)
			db := filepath.Join(dir, "db.sqlite3")
			before := fingerprint(t, dir) // before the lock: see holdWriteLock
			release := holdExclusiveLock(t, db)
			args := append([]string{"--db", db, "--media-root", filepath.Join(dir, "media"), "--now", refNow, "--busy-timeout", "10m"}, command...)
			cmd := exec.Command(bin, args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			exited := start(t, cmd)
			// The lock lets no one read: once the run has the file open,
			// it waits in the schema check, inside the open.
			waitFor(t, "the run to open the database", func() bool { return hasOpen(cmd.Process.Pid, db) })
			cmd.Process.Signal(syscall.SIGTERM)
			err := waitExit(t, cmd, exited, "while waiting for the lock")
			release()
			if err != nil {
				t.Errorf("after SIGTERM: %v; stderr %q", err, stderr.String())
			}
			if stdout.Len() != 0 || strings.Count(stderr.String(), "\n") > 1 ||
				strings.Contains(stderr.String(), "error") || strings.Contains(stderr.String(), "canceled") {
				t.Errorf("a stop printed %q, logged %q; want at most one line of information", stdout.String(), stderr.String())
			}
			if after := fingerprint(t, dir); after != before {
				t.Errorf("the install changed:\n%s\n%s", before, after)
			}
		})
	}
}
