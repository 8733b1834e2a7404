package app

import (
	"context"
	"database/sql"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// postgresFilesInstall is a PostgreSQL install with rows rows, stale of
// them stale, every row with a file under a local media directory.
func postgresFilesInstall(t *testing.T, rows, stale int) (db string, raw *sql.DB, media string) {
	t.Helper()
	db, raw = dbtest.NewPostgres(t)
	if err := dbtest.GeneratePostgres(raw, dbtest.Spec{Rows: rows, Stale: stale, Files: true, Now: generatedNow}); err != nil {
		t.Fatal(err)
	}
	media = filepath.Join(t.TempDir(), "media")
	if err := dbtest.WriteFiles(raw, media); err != nil {
		t.Fatal(err)
	}
	return db, raw, media
}

// runBounded runs the real binary with args and returns its combined
// output. A run that has not ended after a minute is killed, and the test
// fails: the runs here take well under a second of work, so only a wait
// on another session could make one last that long.
func runBounded(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary(t), args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("cleanup-stale %s did not end: it waited on another session: %s", strings.Join(args, " "), out)
	}
	if err != nil {
		t.Fatalf("cleanup-stale %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestIdleSessionStallsNoBatch: a session left idle in a transaction (a
// psql after BEGIN; SELECT, a backup, a stuck pool connection) is open
// for the whole of a run over rows with files. The run waits on it for
// nothing: with --busy-timeout at an hour, it still ends, deletes every
// stale row, and removes every file whose row is gone (--file-grace 0).
// Once the session has ended, the next run has nothing left to do.
func TestIdleSessionStallsNoBatch(t *testing.T) {
	t.Parallel() // a real binary at work: it waits on the disk, the others can run meanwhile
	db, raw, media := postgresFilesInstall(t, 2000, 1000)
	idle, err := raw.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if _, err := idle.ExecContext(context.Background(), `BEGIN`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := idle.QueryRowContext(context.Background(), `SELECT count(*) FROM submissions_submission`).Scan(&n); err != nil || n != 2000 {
		t.Fatalf("the idle session read %d rows, %v", n, err)
	}
	state := t.TempDir()
	args := []string{"--db", db, "--media-root", media, "--now", generatedNow.Format(time.RFC3339),
		"--state-dir", state, "--busy-timeout", "1h", "--file-grace", "0", "--json"}
	out := runBounded(t, args...)
	if !strings.Contains(out, `"deleted":1000,`) || !strings.Contains(out, `"failed":0,`) || !strings.Contains(out, `"waiting":0`) {
		t.Errorf("the run beside an idle session: %s", out)
	}
	if o := orphans(t, raw, media); len(o) > 0 {
		t.Errorf("%d files whose rows are gone are left beside the idle session, e.g. %s", len(o), o[0])
	}
	if got := len(filesIn(t, media)); got != 1000 {
		t.Errorf("%d files left, want the 1000 of the live rows", got)
	}
	if _, err := idle.ExecContext(context.Background(), `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	out = runBounded(t, args...)
	if !strings.Contains(out, `"deleted":0,`) || !strings.Contains(out, `"pending":0,`) {
		t.Errorf("the run after the session ended: %s", out)
	}
	if o := orphans(t, raw, media); len(o) > 0 {
		t.Errorf("%d orphans after the session ended, e.g. %s", len(o), o[0])
	}
}
