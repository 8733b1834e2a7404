package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// crashJournal writes, at path, the journal of a run killed after the
// deletion of a batch committed: it lists files whose rows are gone.
func crashJournal(t *testing.T, path, media string, files ...string) {
	t.Helper()
	text := journalHeader(t, media) + "batch 3 " + time.Now().UTC().Format(time.RFC3339Nano) + "\n" +
		journalFiles(t, media, files...)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeOrphans creates files under media whose rows are gone.
func writeOrphans(t *testing.T, media string, files ...string) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(media, f)
		if err := os.WriteFile(p, []byte("solid\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Hour)
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPendingRemovals: a journal left by a crash is reported, not touched,
// by a dry run (stderr and "pending" in JSON) and by stats; the next real
// run finishes it first, says so in its JSON, and leaves no journal.
func TestPendingRemovals(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	orphans := []string{"stl/2026/11/crashed-1.stl", "stl/2026/11/crashed 2 ü.stl"}
	writeOrphans(t, media, orphans...)
	crashJournal(t, db+".cleanup-stale-pending", media, orphans...)
	before := fingerprint(t, dir)
	args := []string{"--db", db, "--media-root", media, "--now", refNow}

	r := runCLI(t, append(args, "--dry-run", "--json")...)
	if r.code != 0 || !strings.Contains(r.stdout, `"pending":2`) || !strings.Contains(r.stderr, "pending=2") {
		t.Errorf("dry run: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, append(args, "stats")...)
	if r.code != 0 || !strings.Contains(r.stdout, "Files whose rows are gone, due for removal by the next run: 2\n") {
		t.Errorf("stats: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if fingerprint(t, dir) != before {
		t.Fatal("a dry run or stats changed the install or the journal")
	}

	r = runCLI(t, append(args, "--json")...)
	var rep struct {
		Deleted    int     `json:"deleted"`
		Pending    int     `json:"pending"`
		LockHeldMS float64 `json:"lock_held_ms"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || r.stderr != "" {
		t.Fatalf("real run: exit %d, %v, stdout %q, stderr %q", r.code, err, r.stdout, r.stderr)
	}
	if rep.Deleted != 66 || rep.Pending != 2 || rep.LockHeldMS <= 0 {
		t.Errorf("real run JSON: %+v", rep)
	}
	for _, f := range orphans {
		if _, err := os.Stat(filepath.Join(media, f)); !os.IsNotExist(err) {
			t.Errorf("%s is still there: %v", f, err)
		}
	}
	if _, err := os.Stat(db + ".cleanup-stale-pending"); !os.IsNotExist(err) {
		t.Errorf("the journal is still there: %v", err)
	}
}

// TestStateDir: --state-dir (or CLEANUP_STALE_STATE_DIR) puts the journal
// there, under a name of its own for each database; a state directory that
// does not exist is one line and exit 2, and nothing is deleted.
func TestStateDir(t *testing.T) {
	dir := install(t)
	db, media, state := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media"), filepath.Join(dir, "state")
	before := fingerprint(t, dir)
	args := []string{"--db", db, "--media-root", media, "--now", refNow}
	runCLI(t, append(args, "--state-dir", state)...).wantOneLineError(t, 2, "state", "not a directory")
	if fingerprint(t, dir) != before {
		t.Fatal("a run with a missing state directory changed the install")
	}

	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	d, err := store.Open(context.Background(), db, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	path, err := cleanup.JournalPath(d, state, false)
	d.Close()
	if err != nil || filepath.Dir(path) != state || !strings.HasSuffix(path, ".cleanup-stale-pending") ||
		!strings.HasPrefix(filepath.Base(path), "db.sqlite3-") {
		t.Fatalf("journal path %q, %v", path, err)
	}
	writeOrphans(t, media, "stl/2026/11/crashed.stl")
	crashJournal(t, path, media, "stl/2026/11/crashed.stl")
	t.Setenv("CLEANUP_STALE_STATE_DIR", state)
	if r := runCLI(t, append(args, "--json")...); r.code != 0 || !strings.Contains(r.stdout, `"pending":1`) {
		t.Errorf("with CLEANUP_STALE_STATE_DIR: exit %d, %q, %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(media, "stl/2026/11/crashed.stl")); !os.IsNotExist(err) {
		t.Errorf("the journaled file is still there: %v", err)
	}
	// No journal left: only the health state file (docs/operating.md,
	// Monitoring) and what the walk of MEDIA_ROOT found.
	if names := withoutTree(dirNames(t, state)); len(names) != 1 || !strings.HasSuffix(names[0], ".cleanup-stale-health") {
		t.Errorf("the state directory still holds %v", names)
	}
}

// TestWaitingFilesAreReported: a run whose files wait for their grace
// says so, in one stderr line with how many and from when the next run
// takes them, and in its JSON ("waiting", "next_due"); dry runs and stats
// report the waiting files without touching them; the first run after
// they are due (here: with a shorter grace) removes them and says that
// nothing waits any more.
func TestWaitingFilesAreReported(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	args := []string{"--db", db, "--media-root", media, "--now", refNow}
	files := rowsOf(t, db, "stl_file", `stl_file <> '' AND `+
		`((status = 'identifying' AND created_at < '2026-11-24 12:00:00') OR (status = 'rejected' AND closed_at < '2026-11-24 12:00:00'))`)
	n := len(files)
	if n < 10 {
		t.Fatalf("only %d stale rows with a file in the reference install", n)
	}
	start := time.Now()

	r := runCLI(t, append(args, "--file-grace", "1h")...)
	if r.code != 0 || r.stdout != "Deleted 66 stale submission(s) older than 24 h.\n" {
		t.Fatalf("real run: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, fmt.Sprintf("waiting=%d ", n)) ||
		!strings.Contains(r.stderr, "file_grace=1h0m0s") || !strings.Contains(r.stderr, "next_due=") {
		t.Errorf("real run's stderr: %q, want one line saying %d files wait", r.stderr, n)
	}
	for _, f := range files {
		if fileExists(filepath.Join(media, f)) != fileExists(filepath.Join(repo, "testdata", "reference", "media", f)) {
			t.Errorf("%s: removed before its grace", f)
		}
	}

	var rep struct {
		Pending int       `json:"pending"`
		Waiting int       `json:"waiting"`
		NextDue time.Time `json:"next_due"`
	}
	r = runCLI(t, append(args, "--file-grace", "1h", "--dry-run", "--json")...)
	if err := json.Unmarshal([]byte(lastLine(r.stdout)), &rep); err != nil || r.code != 0 {
		t.Fatalf("dry run: exit %d, %v, stdout %q", r.code, err, r.stdout)
	}
	if rep.Pending != 0 || rep.Waiting != n || rep.NextDue.Before(start.Add(time.Hour)) || rep.NextDue.After(time.Now().Add(time.Hour)) {
		t.Errorf("dry run JSON: %+v, want %d waiting, due an hour after the run", rep, n)
	}
	r = runCLI(t, append(args, "--file-grace", "1h", "stats")...)
	if r.code != 0 || !strings.Contains(r.stdout, "due for removal by the next run: 0\n") ||
		!strings.Contains(r.stdout, fmt.Sprintf("waiting for their grace: %d (the first is due at ", n)) {
		t.Errorf("stats: exit %d, stdout %q", r.code, r.stdout)
	}
	r = runCLI(t, append(args, "--file-grace", "30m", "stats", "--json")...)
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Waiting != n || rep.Pending != 0 {
		t.Errorf("stats --json: %v, %+v from %q", err, rep, r.stdout)
	}
	r = runCLI(t, append(args, "--file-grace", "0", "stats", "--json")...)
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Waiting != 0 || rep.Pending != n {
		t.Errorf("stats --json with no grace: %v, %+v from %q", err, rep, r.stdout)
	}

	r = runCLI(t, append(args, "--file-grace", "0", "--json")...)
	rep.NextDue = time.Time{}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || r.stderr != "" {
		t.Fatalf("run once due: exit %d, %v, stdout %q, stderr %q", r.code, err, r.stdout, r.stderr)
	}
	if rep.Pending != n || rep.Waiting != 0 || !rep.NextDue.IsZero() || strings.Contains(r.stdout, "next_due") {
		t.Errorf("run once due: %s", r.stdout)
	}
	for _, f := range files {
		if fileExists(filepath.Join(media, f)) {
			t.Errorf("%s is still there once due", f)
		}
	}
	if fileExists(db + ".cleanup-stale-pending") {
		t.Error("the journal is still there")
	}
}

func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// lastLine is the last line of s.
func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}
