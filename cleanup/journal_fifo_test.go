//go:build unix

package cleanup_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestJournalFIFORefused: a FIFO at the journal's name is refused at once,
// by a real run's open and by a dry run's read alike; neither waits for a
// writer that never comes. A hang fails the test after a generous
// deadline instead of hanging it.
func TestJournalFIFORefused(t *testing.T) {
	name := filepath.Join(t.TempDir(), journalName)
	if err := syscall.Mkfifo(name, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		refuseJournal(t, name, "not a regular file")
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("opening a FIFO as the journal hangs")
	}
	if fi, err := os.Lstat(name); err != nil || fi.Mode().Type() != os.ModeNamedPipe {
		t.Errorf("the FIFO changed: %v, %v", fi, err)
	}
}
