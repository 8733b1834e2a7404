//go:build unix

package app

import (
	"path/filepath"
	"syscall"
	"testing"
)

// TestJournalFIFO: a FIFO at the journal's name makes a dry run, stats
// and a real run of the real binary exit 2 at once with one line, rather
// than wait for a writer for ever. Nothing changes.
func TestJournalFIFO(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	journal := db + ".cleanup-stale-pending"
	if err := syscall.Mkfifo(journal, 0o600); err != nil {
		t.Fatal(err)
	}
	before := fingerprint(t, dir)
	for _, mode := range [][]string{{"--dry-run"}, {"stats"}, nil} {
		args := append([]string{"--db", db, "--media-root", media, "--now", refNow}, mode...)
		runBinary(t, args...).wantOneLineError(t, 2, journal, "not a regular file")
	}
	if fingerprint(t, dir) != before {
		t.Error("the install changed")
	}
}
