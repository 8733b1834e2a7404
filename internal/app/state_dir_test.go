package app

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// TestStateDirWritableByOthers: a --state-dir that its group or others may
// write is refused by real runs, dry runs and stats, exit 2, with one line
// that names it and says "chmod 0700"; nothing is deleted, created or
// changed. Sticky and this user's is fine, as is 0755.
func TestStateDirWritableByOthers(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	state := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	base := []string{"--db", db, "--media-root", media, "--now", refNow, "--state-dir", state}
	for _, mode := range []os.FileMode{0o770, 0o775, 0o777, 0o703} {
		if err := os.Chmod(state, mode); err != nil {
			t.Fatal(err)
		}
		before, beforeState := fingerprint(t, dir), fingerprint(t, state)
		for _, how := range everyMode {
			runCLI(t, slices.Concat(base, how)...).wantOneLineError(t, 2, "state directory "+state, "writable by others", "chmod 0700 "+state)
		}
		if fingerprint(t, dir) != before || fingerprint(t, state) != beforeState {
			t.Errorf("mode %04o: the install or the state directory changed", mode)
		}
	}
	if n := countStale(t, db); n != 66 {
		t.Fatalf("%d stale rows left, want all 66", n)
	}
	for _, mode := range []os.FileMode{0o777 | os.ModeSticky, 0o755} {
		if err := os.Chmod(state, mode); err != nil {
			t.Fatal(err)
		}
		if r := runCLI(t, slices.Concat(base, []string{"stats"})...); r.code != 0 {
			t.Errorf("mode %v: stats: exit %d, %q", mode, r.code, r.stderr)
		}
	}
	if r := runCLI(t, base...); r.code != 0 || countStale(t, db) != 0 {
		t.Errorf("sticky and ours: exit %d, %q", r.code, r.stderr)
	}
}

// TestStateDirOfAnotherUser: a --state-dir that belongs to another user
// (nobody) is refused, even mode 0700: its owner could replace what the
// tool keeps there. Only root can give a directory away.
func TestStateDirOfAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to give the directory to another user")
	}
	dir := install(t)
	state := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(state, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	before := fingerprint(t, dir)
	for _, how := range everyMode {
		args := slices.Concat([]string{"--db", filepath.Join(dir, "db.sqlite3"), "--media-root", filepath.Join(dir, "media"),
			"--now", refNow, "--state-dir", state}, how)
		runCLI(t, args...).wantOneLineError(t, 2, "state directory "+state, "belongs to user 65534")
	}
	if fingerprint(t, dir) != before {
		t.Error("the install changed")
	}
}

// TestStateDirectoryEnvWritableByOthers: systemd's $STATE_DIRECTORY and
// the XDG state directory, where a PostgreSQL database's journal goes, are
// held to the same rule.
func TestStateDirectoryEnvWritableByOthers(t *testing.T) {
	pgURL, _ := dbtest.LoadPostgres(t, filepath.Join(repo, "testdata", "reference", "webapp.sqlite3"))
	dir := install(t)
	media := filepath.Join(dir, "media")
	xdg := t.TempDir()
	t.Setenv("XDG_STATE_HOME", xdg)
	sd := filepath.Join(t.TempDir(), "sd")
	if err := os.Mkdir(sd, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(sd, 0o777)
	t.Setenv("STATE_DIRECTORY", sd)
	for _, how := range everyMode {
		runCLI(t, slices.Concat([]string{"--db", pgURL, "--media-root", media, "--now", refNow}, how)...).
			wantOneLineError(t, 2, "state directory "+sd, "chmod 0700 "+sd)
	}
	t.Setenv("STATE_DIRECTORY", "")
	xdgDir := filepath.Join(xdg, "cleanup-stale")
	if err := os.Mkdir(xdgDir, 0o770); err != nil {
		t.Fatal(err)
	}
	os.Chmod(xdgDir, 0o770)
	for _, how := range everyMode {
		runCLI(t, slices.Concat([]string{"--db", pgURL, "--media-root", media, "--now", refNow}, how)...).
			wantOneLineError(t, 2, "state directory "+xdgDir, "chmod 0700 "+xdgDir)
	}
	if got := dirNames(t, xdgDir); len(got) != 0 {
		t.Errorf("the refused runs left %v", got)
	}
}

// TestJournalHardLinkRefused: a hard link at the journal's name, to a
// file of this user's elsewhere, is refused by real runs, dry runs and
// stats, exit 2, one line naming the journal and its links; neither name
// is written through, and the files it lists stay.
func TestJournalHardLinkRefused(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	journal := db + journalSuffix
	listed := []string{"stl/orphan.stl"}
	writeFiles(t, media, listed...)
	other := filepath.Join(t.TempDir(), "elsewhere")
	writeJournal(t, other, media, "2026-11-20T00:00:00Z", "2026-11-20T00:00:01Z", listed...)
	if err := os.Link(other, journal); err != nil {
		t.Fatal(err)
	}
	before, text := fingerprint(t, dir), readLines(t, other)
	for _, how := range everyMode {
		runCLI(t, slices.Concat([]string{"--db", db, "--media-root", media, "--now", refNow}, how)...).
			wantOneLineError(t, 2, journal, "has 2 links", "-samefile")
	}
	if fingerprint(t, dir) != before || !slices.Equal(readLines(t, other), text) {
		t.Error("the journal, its other name or the install changed")
	}
	wantFiles(t, media, true, listed...)
}
